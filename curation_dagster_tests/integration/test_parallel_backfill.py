"""Several partitions materialized by parallel processes against one embedded DuckDB: no lock errors.

Each process is its own run on a shared on-disk instance configured by the project's dagster.yaml,
whose pool limit serialises the steps that write the DuckDB files (like `dagster dev` runs would).
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from curation_dagster.lib.warehouse import write_generations

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
RUN_ONE = """
import sys
import dagster as dg
from curation_dagster.definitions import build_definitions
with dg.DagsterInstance.get() as instance:
    res = build_definitions().resolve_job_def("daily_curation_job").execute_in_process(
        partition_key=sys.argv[1], instance=instance, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    print("RUN", res.run_id, res.success)
"""


def test_parallel_partition_runs_have_no_lock_errors(tmp_path, monkeypatch):
    from curation_dagster.sample_data import generate_sample_data

    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    gens, labels = generate_sample_data(n_rows=160, days=len(DAYS), seed=9)
    write_generations(data / "warehouse.duckdb", gens, labels)
    with dg.DagsterInstance.from_config(str(home)) as instance:  # create the storage once, as `dagster dev` would
        assert instance.event_log_storage.supports_global_concurrency_limits
    env = {**os.environ, "DAGSTER_HOME": str(home), "CURATION_DATA_DIR": str(data)}
    procs = [subprocess.Popen([sys.executable, "-c", RUN_ONE, day], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for day in DAYS]
    outputs = [p.communicate(timeout=480)[0] for p in procs]
    for day, p, out in zip(DAYS, procs, outputs):
        assert p.returncode == 0 and "True" in out.splitlines()[-1], f"{day}:\n{out[-3000:]}"
        assert "lock" not in out.lower(), out[-3000:]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == len(DAYS) and all(r.is_success for r in runs)
        for run in runs:  # no step was retried or failed on a lock, even silently
            messages = " ".join(e.message or "" for e in instance.all_logs(run.run_id)).lower()
            assert "could not set lock" not in messages and "conflicting lock" not in messages
    with duckdb.connect(str(data / "pipeline.duckdb"), read_only=True) as con:
        per_day = dict(con.execute("SELECT strftime(created_at, '%Y-%m-%d'), count(*) FROM curation.raw_generations "
                                   "GROUP BY 1").fetchall())
    assert per_day == gens.groupby(gens["created_at"].dt.strftime("%Y-%m-%d")).size().to_dict()
