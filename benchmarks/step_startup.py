"""A pool refresh launched the way the UI and schedules launch it: wall time against its steps' work.

    .venv/bin/python benchmarks/step_startup.py                 # demo pool: 1,200 rows over 3 days
    .venv/bin/python benchmarks/step_startup.py --rows 3000 --days 14 --repeat 2

Seeds a fresh data folder with `curation demo` (in process), then runs
`dagster job execute -m curation_dagster.definitions -j pool_refresh_job` (and one day of
`daily_curation_job`) as subprocesses with their own DAGSTER_HOME, and prints for each run: the
command's wall time, the sum of its steps' durations from the run's step stats (the work), and the
difference (process start-up, imports, run set-up). A step executed in its own process pays the
imports of the whole code location (Dagster, pandas, Great Expectations, ...) before its work; the
jobs run their steps in one process (`in_process_executor`, defs/automation.py), so the imports are
paid once per run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START = "2026-06-01"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1200)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each job (the first may warm file caches)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="startup-"))
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CURATION_DATA_DIR": str(work / "data"),
           "CURATION_START_DATE": START, "CURATION_CONFIG": "none"}
    bin_dir = Path(sys.executable).parent
    t = time.perf_counter()
    subprocess.run([str(bin_dir / "curation"), "demo", "--rows", str(args.rows), "--days", str(args.days),
                    "--start-date", START], env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"seeded and materialized {args.rows:,} rows over {args.days} days in {time.perf_counter() - t:.0f}s "
          f"(workdir {work})", flush=True)

    os.environ.update(DAGSTER_HOME=str(home))
    import dagster as dg

    runs = [("pool_refresh_job", [])] * args.repeat
    runs += [("daily_curation_job", ["--tags", f'{{"dagster/partition": "{START}"}}'])] * args.repeat
    print(f"{'job':<22} {'wall':>7} {'steps':>7} {'start-up':>9}  steps (s)")
    for job, extra in runs:
        t = time.perf_counter()
        proc = subprocess.run([str(bin_dir / "dagster"), "job", "execute", "-m", "curation_dagster.definitions",
                               "-j", job, *extra], env=env, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"{job} failed:\n{proc.stderr[-3000:]}")
        with dg.DagsterInstance.get() as instance:
            record = instance.get_run_records(dg.RunsFilter(job_name=job), limit=1)[0]
            stats = [s for s in instance.get_run_step_stats(record.dagster_run.run_id) if s.end_time and s.start_time]
        per_step = {s.step_key: s.end_time - s.start_time for s in stats}
        work_s = sum(per_step.values())
        detail = ", ".join(f"{k} {v:.1f}" for k, v in sorted(per_step.items(), key=lambda kv: -kv[1]))
        print(f"{job:<22} {wall:>6.1f}s {work_s:>6.1f}s {wall - work_s:>8.1f}s  {detail}", flush=True)


if __name__ == "__main__":
    main()
