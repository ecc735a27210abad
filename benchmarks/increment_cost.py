"""What adding one day costs, against a full recompute and against embedding the new rows alone.

    .venv/bin/python benchmarks/increment_cost.py --days 10
    .venv/bin/python benchmarks/increment_cost.py --days 30

Generates `days + 1` days of sample data (~215 rows a day), materializes the first `days` days and
the pool stages, then adds the last day: its partition run (load, filter, embed with the cache) and
the pool refresh (assign to the existing topic model, sample, export; no refit). It then times a full
recompute of all days with an empty embedding cache and a topic model fit, and embedding the new
day's kept rows alone. Figures go to stdout.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

START = "2026-09-01"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--rows-per-day", type=int, default=215)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="increment-"))
    os.environ["DAGSTER_HOME"] = str(work / "home")
    # start well before today, so even 60 days of data are all in the past (today has no partition yet)
    os.environ["CURATION_START_DATE"] = START
    (work / "home").mkdir()

    import dagster as dg

    from curation_dagster.definitions import build_definitions
    from curation_dagster.defs.resources import build_resources
    from curation_dagster.lib.embedding import embed_texts, embedding_text, load_model
    from curation_dagster.lib.warehouse import write_generations
    from curation_dagster.sample_data import generate_sample_data

    n_days = args.days + 1
    gens, labels = generate_sample_data(n_rows=args.rows_per_day * n_days, days=n_days, start_date=START, seed=7)
    days = sorted(gens["created_at"].dt.strftime("%Y-%m-%d").unique())
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    model = load_model()  # loaded once, outside every timing

    def run(data_dir: Path, partitions: list[str], refit: bool = True) -> tuple[float, float]:
        defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
        instance = dg.DagsterInstance.ephemeral()
        t0 = time.perf_counter()
        for day in partitions:
            assert defs.resolve_job_def("daily_curation_job").execute_in_process(
                partition_key=day, instance=instance, run_config=quiet).success
        t1 = time.perf_counter()
        if refit:
            assert defs.resolve_job_def("topic_model_job").execute_in_process(instance=instance, run_config=quiet).success
        assert defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance, run_config=quiet).success
        return t1 - t0, time.perf_counter() - t1

    inc_dir = work / "incremental"
    write_generations(inc_dir / "warehouse.duckdb", gens[gens["created_at"].dt.strftime("%Y-%m-%d") < days[-1]], labels)
    run(inc_dir, days[:-1])
    write_generations(inc_dir / "warehouse.duckdb", gens, labels)  # the new day lands in the warehouse
    inc_daily, inc_pool = run(inc_dir, days[-1:], refit=False)  # assign to the existing topic model

    full_dir = work / "full"
    write_generations(full_dir / "warehouse.duckdb", gens, labels)
    full_daily, full_pool = run(full_dir, days)

    import duckdb

    with duckdb.connect(str(inc_dir / "pipeline.duckdb"), read_only=True) as con:
        new_rows = con.execute("SELECT * FROM curation.filtered_generations WHERE strftime(created_at, '%Y-%m-%d') = ?",
                               [days[-1]]).df()
        pool_rows = con.execute("SELECT count(*) FROM curation.filtered_generations").fetchone()[0]
    texts = [embedding_text(r, ("instruction", "output")) for r in new_rows.to_dict("records")]
    t0 = time.perf_counter()
    embed_texts(model, texts)
    embed_alone = time.perf_counter() - t0

    inc = inc_daily + inc_pool
    full = full_daily + full_pool
    print(f"pool: {args.days} days + 1 new day, {pool_rows:,} kept rows in the pool, {len(new_rows)} new kept rows")
    print(f"increment: new partition {inc_daily:6.1f}s + pool refresh {inc_pool:6.1f}s = {inc:6.1f}s")
    print(f"full recompute ({n_days} partitions, cold cache): {full_daily:6.1f}s + {full_pool:6.1f}s = {full:6.1f}s")
    print(f"embedding the {len(texts)} new rows alone: {embed_alone:6.1f}s")
    print(f"ratio increment / full recompute:      {inc / full:6.3f}")
    print(f"ratio new partition / embedding alone: {inc_daily / embed_alone:6.2f}")
    print(f"ratio increment / embedding alone:     {inc / embed_alone:6.2f}")
    pd.options.display.width = 120


if __name__ == "__main__":
    main()
