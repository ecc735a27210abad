"""The whole graph at scale, cold, then one more day: per-stage wall time, peak RSS, clusters, export
size, diversity against random, and what the added day costs against embedding its rows alone.

    .venv/bin/python benchmarks/scale.py                                   # 100,000 generated rows, 60 days, target 50,000
    .venv/bin/python benchmarks/scale.py --rows 20000 --days 12 --target 10000 --backend onnx-int8
    .venv/bin/python benchmarks/scale.py --json /tmp/scale.json
    .venv/bin/python benchmarks/scale.py --max-pool-share 0.7             # lets 50,000 of ~80,000 pool rows ship
    .venv/bin/python benchmarks/scale.py --max-pool-share 0.7 --cold-snapshot /tmp/bench/cold100k
        # the first time: keeps a copy of the workdir after the cold run; later: starts from that copy
        # and measures only the added day (for changes that touch the pool refresh, not the cold run)

Generated pool: `generate_sample_data` writes `rows` rows over `days` days plus one more day of the
same rate into a fresh DuckDB warehouse (the extra day is held back). The benchmark then runs the
real jobs, each run in a process of its own on the workdir's Dagster instance, as the daemon's run
launcher runs them (`--in-process`: all in this process on an ephemeral instance, as `curation run`
does), with the settings file this script writes (`embedding.backend`, `export.target_examples`):

1. cold: `daily_curation_job` for every day (empty embedding cache), `topic_model_job`,
   `pool_refresh_job`; wall time per run (a run's process start, imports and definitions included),
   per asset (summed over partitions, from Dagster's step stats) and the largest peak RSS of any
   process (ru_maxrss: the embedding model, the pool and DuckDB together);
2. one more day: the held-back day lands in the warehouse and one `add_day_job` run materializes its
   partition and refreshes the pool (assign to the existing topic model, no refit; `--added-day
   two-runs`: its `daily_curation_job` then a `pool_refresh_job`), and the same day's kept
   rows are then embedded alone with the same backend (model already loaded, no cache) for the
   ratio; churn comes from the new manifest's `changes_since_previous`;
3. a day with no rows, added the same way: the cost of a day before its rows (process start, imports,
   the pool's own work), so the ratio of step 2 reads as (this + embedding) / embedding; the added day
   less this, against the embedding, is what the day's rows themselves cost: the limit of step 2's
   ratio as days grow (`--days 3` makes days of about 2,200 real conversations).

Real pool (`--sharegpt DUMP`, e.g. the development half from ../shared/tools/real-conversations):
conversation i is dated day i mod (days + 1); every day but the last is imported with `curation
import`, `curation init` writes the settings (then the backend and target are appended), and the
same two steps run; the held-back day arrives by importing the whole dump again (rows already there
are skipped), as a user's next day would.

    .venv/bin/python benchmarks/scale.py --sharegpt /tmp/real/dev.json --days 13 --target 1300 --backend onnx-int8

`benchmarks/diversity.py` compares an export with random samples and the notebook recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
START = "2026-06-01"  # well before today, so 60+ days are all in the past
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def spread_dump(dump: Path, n_days: int, work: Path) -> tuple[Path, Path]:
    """Two copies of a ShareGPT dump with created_at set, conversation i on day i mod n_days from
    START: every day but the last, and all of it."""
    records = json.loads(Path(dump).read_text())
    start = date.fromisoformat(START)
    for i, rec in enumerate(records):
        rec["created_at"] = f"{start + timedelta(days=i % n_days)}T12:00:00Z"
    last = f"{start + timedelta(days=n_days - 1)}"
    first_file, all_file = work / "dump_first_days.json", work / "dump_all_days.json"
    first_file.write_text(json.dumps([r for r in records if not r["created_at"].startswith(last)]))
    all_file.write_text(json.dumps(records))
    return first_file, all_file


def curation_cli(work: Path, *argv: str) -> None:
    """`curation ...` in a subprocess on the workdir's data, as a user would run it."""
    import subprocess

    exe = Path(sys.executable).parent / "curation"
    env = {**os.environ, "CURATION_DATA_DIR": str(work / "data"), "DAGSTER_HOME": str(work / "home"),
           "CURATION_START_DATE": START}
    env.pop("CURATION_CONFIG", None)
    done = subprocess.run([str(exe), *argv], cwd=work, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"curation {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")


def step_seconds(instance, run_id: str) -> dict[str, float]:
    """Each step's wall time in a run, from Dagster's step stats."""
    steps: dict[str, float] = defaultdict(float)
    for st in instance.get_run_step_stats(run_id):
        if st.end_time and st.start_time:
            steps[st.step_key] += st.end_time - st.start_time
    return steps


def run_one(work: Path, job: str, partition: str) -> None:
    """One run of `job` in this process on the workdir's instance (DAGSTER_HOME), as a run worker
    would; prints its step times and this process's peak RSS as one JSON line."""
    # CURATION_DATA_DIR as well: the ONNX export and other caches under the data folder are found where the
    # cold run left them, whatever folder this runs from (without it, ./data of the current folder)
    os.environ.update(DAGSTER_HOME=str(work / "home"), CURATION_START_DATE=START, CURATION_DATA_DIR=str(work / "data"),
                      CURATION_CONFIG=str(work / "curation.yaml"))
    import dagster as dg

    from curation_dagster.definitions import build_definitions
    from curation_dagster.defs.resources import build_resources

    defs = build_definitions(resources=build_resources("local", data_dir=work / "data"))
    instance = dg.DagsterInstance.get()
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition or None, raise_on_error=False, run_config=QUIET)
    if not result.success:
        raise SystemExit(f"{job} {partition} failed: see {work / 'home'}")
    print(json.dumps({"steps": step_seconds(instance, result.run_id), "peak_rss_gib": peak_rss_gib()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000, help="rows over --days (the extra day adds rows/days more)")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--target", type=int, default=50_000, help="export.target_examples")
    ap.add_argument("--max-pool-share", type=float, default=None,
                    help="sampling.max_pool_share (default: the product's, 0.2): the export takes at most this share "
                         "of the pool, so a 50,000 target needs a pool of 50,000 / share rows")
    ap.add_argument("--backend", default="onnx-int8", help="embedding backend of generation_embeddings")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write every figure here")
    ap.add_argument("--cold-snapshot", type=Path, default=None,
                    help="a folder: when it is missing, the workdir is copied there after the cold run (with the "
                         "cold figures); when it is there, the workdir starts as a copy of it and only the added "
                         "day runs (same --rows/--days/--sharegpt as when it was made)")
    ap.add_argument("--in-process", action="store_true",
                    help="run every job in this one process, as `curation run` does (default: each run in a process "
                         "of its own, as the daemon's run launcher runs them; peak RSS is then the largest run's)")
    ap.add_argument("--added-day", choices=("one-run", "two-runs"), default="one-run",
                    help="how the extra day is added: add_day_job (the day and the pool refresh in one run, as "
                         "add_day_job_schedule runs it) or daily_curation_job then pool_refresh_job")
    ap.add_argument("--run-one", nargs=2, metavar=("JOB", "PARTITION"), default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sharegpt", type=Path, default=None,
                    help="a ShareGPT dump (../shared/tools/real-conversations OUT.json) instead of generated rows: "
                         "its conversations spread over --days + 1 days, imported with `curation import`, "
                         "settings from `curation init` (--rows is ignored)")
    args = ap.parse_args()
    if args.run_one:
        return run_one(args.workdir, *args.run_one)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="scale-"))
    resume = bool(args.cold_snapshot and (args.cold_snapshot / "cold.json").exists())
    if resume:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(args.cold_snapshot, work, symlinks=True)
    work.mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    settings = work / "curation.yaml"
    data = work / "data"
    n_days = args.days + 1
    if resume:
        all_file = work / "dump_all_days.json"
    elif args.sharegpt:  # before the settings are read: `curation init` writes them from the imported rows
        first_file, all_file = spread_dump(args.sharegpt, n_days, work)
        curation_cli(work, "import", str(first_file))
        curation_cli(work, "init", "--force", "-o", str(settings))
    else:
        settings.write_text("")
    import yaml

    team = yaml.safe_load(settings.read_text()) or {}  # `curation init`'s sections, if any, stay
    team.setdefault("embedding", {})["backend"] = args.backend
    team.setdefault("export", {})["target_examples"] = args.target
    if args.max_pool_share is not None:
        team.setdefault("sampling", {})["max_pool_share"] = args.max_pool_share
    settings.write_text(yaml.safe_dump(team, sort_keys=False))
    # read when the definitions are imported, as the CLI and the code location read them
    os.environ.update(DAGSTER_HOME=str(work / "home"), CURATION_START_DATE=START, CURATION_DATA_DIR=str(data),
                      CURATION_CONFIG=str(settings))

    import dagster as dg

    from curation_dagster.definitions import build_definitions
    from curation_dagster.defs.resources import build_resources
    from curation_dagster.lib.embedding import embed_texts, embedding_text, load_embedder
    from curation_dagster.lib.memory import release_freed_memory
    from curation_dagster.lib.warehouse import write_generations
    from curation_dagster.sample_data import generate_sample_data

    t0 = time.perf_counter()
    days = [(date.fromisoformat(START) + timedelta(days=i)).isoformat() for i in range(n_days)]
    last_day = days[-1]
    if resume:
        saved = json.loads((work / "cold.json").read_text())
        first_rows = saved["first_rows"]
        if not args.sharegpt:
            gens, labels = generate_sample_data(n_rows=round(args.rows * n_days / args.days), days=n_days,
                                                start_date=START, seed=7)
        print(f"starting from the cold snapshot {args.cold_snapshot} ({first_rows:,} rows); workdir {work}",
              flush=True)
    elif args.sharegpt:
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            first_rows = int(con.execute("SELECT count(*) FROM generations").fetchone()[0])
        print(f"imported {first_rows:,} conversations of {args.sharegpt} over the first {len(days) - 1} of "
              f"{len(days)} days; backend {args.backend}, target {args.target:,}; workdir {work}", flush=True)
    else:
        gens, labels = generate_sample_data(n_rows=round(args.rows * n_days / args.days), days=n_days,
                                            start_date=START, seed=7)
        day_of = gens["created_at"].dt.strftime("%Y-%m-%d")
        first = gens[day_of < last_day]
        first_rows = len(first)
        write_generations(data / "warehouse.duckdb", first, labels)
        print(f"generated {len(gens):,} rows over {len(days)} days ({len(first):,} in the first {len(days) - 1}) "
              f"in {time.perf_counter() - t0:.0f}s; backend {args.backend}, target {args.target:,}; workdir {work}",
              flush=True)

    defs = build_definitions(resources=build_resources("local", data_dir=data))
    instance = dg.DagsterInstance.ephemeral()
    per_asset: dict[str, float] = defaultdict(float)

    child_peak = 0.0

    def run(job: str, partition: str | None = None) -> float:
        nonlocal child_peak
        t = time.perf_counter()
        if not args.in_process:  # a process of its own, as the daemon launches a run
            import subprocess

            done = subprocess.run([sys.executable, __file__, "--workdir", str(work), "--run-one", job, partition or ""],
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"{job} {partition or ''} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            child_peak = max(child_peak, figures["peak_rss_gib"])
            for step, secs in figures["steps"].items():
                per_asset[step] += secs
            return time.perf_counter() - t
        result = defs.resolve_job_def(job).execute_in_process(instance=instance, run_config=QUIET,
                                                              partition_key=partition, raise_on_error=False)
        if not result.success:
            raise SystemExit(f"{job} {partition or ''} failed: see {work / 'home'}")
        release_freed_memory()  # as `curation run` does between runs (lib/memory.py)
        for step, secs in step_seconds(instance, result.run_id).items():
            per_asset[step] += secs
        return time.perf_counter() - t

    # ---- 1. cold
    manifest_path = data / "exports" / "finetuning_dataset" / "manifest.json"
    if resume:
        cold, cold_steps, cold_rss = saved["cold"], saved["cold_steps"], saved["cold_rss"]
        cold_manifest = saved["cold_manifest"]
    else:
        cold = {}
        t = time.perf_counter()
        for i, day in enumerate(days[:-1]):
            run("daily_curation_job", day)
            if (i + 1) % 10 == 0:
                print(f"  {i + 1}/{len(days) - 1} days, {time.perf_counter() - t:.0f}s, "
                      f"peak RSS {max(peak_rss_gib(), child_peak):.2f} GiB", flush=True)
        cold["daily_curation_job (all days)"] = time.perf_counter() - t
        cold["topic_model_job"] = run("topic_model_job")
        cold["pool_refresh_job"] = run("pool_refresh_job")
        cold_steps = dict(per_asset)
        cold_rss = max(peak_rss_gib(), child_peak)
        cold_manifest = json.loads(manifest_path.read_text())
        if args.cold_snapshot:
            (work / "cold.json").write_text(json.dumps({
                "first_rows": first_rows, "cold": cold, "cold_steps": cold_steps, "cold_rss": cold_rss,
                "cold_manifest": cold_manifest}, default=str))
            shutil.copytree(work, args.cold_snapshot, symlinks=True)
            print(f"cold workdir copied to {args.cold_snapshot}", flush=True)
    cold_total = sum(cold.values())
    with duckdb.connect(str(data / "pipeline.duckdb"), read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        pool_rows = q("SELECT count(*) FROM curation.deduplicated_generations")
        kept_rows = q("SELECT count(*) FROM curation.filtered_generations")
        topics = q("SELECT count(DISTINCT cluster_id) FROM curation.generation_clusters WHERE cluster_id <> -1")
        cells = q("SELECT count(DISTINCT cell_id) FROM curation.generation_clusters")

    # ---- 2. one more day
    per_asset.clear()
    if args.sharegpt:
        curation_cli(work, "import", str(all_file))  # the rows already there are skipped
    else:
        write_generations(data / "warehouse.duckdb", gens, labels)
    def add_day(day: str) -> tuple[float, float]:
        """(seconds of the day's run, of the pool refresh run): one add_day_job run, or the two jobs."""
        if args.added_day == "one-run":
            return run("add_day_job", day), 0.0
        return run("daily_curation_job", day), run("pool_refresh_job")

    inc_daily, inc_pool = add_day(last_day)
    inc_steps = dict(per_asset)
    manifest = json.loads(manifest_path.read_text())
    with duckdb.connect(str(data / "pipeline.duckdb"), read_only=True) as con:
        new_rows = con.execute("SELECT instruction, output FROM curation.filtered_generations "
                               "WHERE strftime(created_at, '%Y-%m-%d') = ?", [last_day]).df()
    texts = [embedding_text(r, ("instruction", "output")) for r in new_rows.to_dict("records")]
    embedder = load_embedder(backend=args.backend)
    t = time.perf_counter()
    embed_texts(embedder, texts)
    embed_alone = time.perf_counter() - t
    change = manifest.get("changes_since_previous") or {}
    # ---- 3. a day with no rows: what adding a day costs before its rows (process start, imports, the pool's
    # own work); the added day's ratio to its embedding is about (this + embedding) / embedding
    per_asset.clear()
    empty_day = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
    empty = sum(add_day(empty_day))
    empty_steps = dict(per_asset)

    def vendi(m: dict, inst: str) -> str:
        v = ((m.get("diversity") or {}).get("instruments") or {}).get(inst, {}).get("vendi")
        return f"{v['ratio']:.3f}x (z {v['z']:+.1f})" if v else "not measured"

    out = {
        "rows": first_rows, "source": str(args.sharegpt or "generated"), "days": args.days, "backend": args.backend, "target_examples": args.target,
        "max_pool_share": args.max_pool_share,
        "kept_rows": int(kept_rows), "pool_rows": int(pool_rows), "topics": int(topics), "cells": int(cells),
        "cold_seconds": {k: round(v, 1) for k, v in cold.items()}, "cold_total_seconds": round(cold_total, 1),
        "cold_seconds_per_asset": {k: round(v, 1) for k, v in sorted(cold_steps.items(), key=lambda kv: -kv[1])},
        "cold_peak_rss_gib": round(cold_rss, 2),
        "export_rows": cold_manifest["rows"]["total"], "cold_diversity": cold_manifest.get("diversity"),
        "added_day": {"day": last_day, "new_kept_rows": int(len(new_rows)), "runs": args.added_day,
                      # one-run: the add_day_job run's wall time is daily_seconds
                      "daily_seconds": round(inc_daily, 1), "pool_refresh_seconds": round(inc_pool, 1),
                      "seconds_per_asset": {k: round(v, 1) for k, v in sorted(inc_steps.items(), key=lambda kv: -kv[1])},
                      "embed_alone_seconds": round(embed_alone, 1),
                      "ratio_to_embedding_alone": round((inc_daily + inc_pool) / max(embed_alone, 1e-9), 2),
                      # the steps' own time: without the runs' process starts, imports and definitions
                      "steps_seconds": round(sum(inc_steps.values()), 1),
                      "steps_ratio_to_embedding_alone": round(sum(inc_steps.values()) / max(embed_alone, 1e-9), 2),
                      "export_rows": manifest["rows"]["total"], "changes_since_previous": change},
        "empty_day": {"day": empty_day, "seconds": round(empty, 1), "steps_seconds": round(sum(empty_steps.values()), 1),
                      # what the day's rows themselves cost: the added day less a day with no rows, against
                      # embedding them alone (the limit of the ratio above as days grow)
                      "rows_cost_ratio_to_embedding_alone": round((inc_daily + inc_pool - empty) / max(embed_alone, 1e-9), 2),
                      "seconds_per_asset": {k: round(v, 1) for k, v in sorted(empty_steps.items(), key=lambda kv: -kv[1])}},
        "peak_rss_gib": round(max(peak_rss_gib(), child_peak), 2),
        "runs": "in one process" if args.in_process else "one process per run",
    }
    print(f"\n== cold: {out['rows']:,} rows over {args.days} days, backend {args.backend}")
    print(f"kept {kept_rows:,}, pool after dedup {pool_rows:,}; {topics} topics, {cells:,} sampling cells")
    for k, v in cold.items():
        print(f"  {k:32s} {v:8.1f}s")
    print(f"  {'total':32s} {cold_total:8.1f}s ({cold_total / 60:.1f} min); peak RSS {cold_rss:.2f} GiB "
          f"({out['runs']})")
    print("  seconds per asset (summed over partitions):")
    for k, v in out["cold_seconds_per_asset"].items():
        print(f"    {k:40s} {v:8.1f}s")
    print(f"export: {out['export_rows']:,} examples (target {args.target:,}); "
          f"lexical Vendi {vendi(cold_manifest, 'lexical')}, semantic {vendi(cold_manifest, 'semantic')}")
    a = out["added_day"]
    print(f"\n== one more day ({last_day}): {a['new_kept_rows']:,} new kept rows")
    runs = (f"add_day_job {inc_daily:.1f}s" if args.added_day == "one-run" else
            f"daily_curation_job {inc_daily:.1f}s + pool_refresh_job {inc_pool:.1f}s = {inc_daily + inc_pool:.1f}s")
    print(f"  {runs}; "
          f"embedding the new rows alone {embed_alone:.1f}s -> {a['ratio_to_embedding_alone']}x; "
          f"the steps alone {a['steps_seconds']:.1f}s -> {a['steps_ratio_to_embedding_alone']}x")
    for k, v in a["seconds_per_asset"].items():
        print(f"    {k:40s} {v:8.1f}s")
    print(f"  export {a['export_rows']:,}: added {change.get('added', 0):,}, dropped {change.get('dropped', 0):,} "
          f"(left pool {change.get('dropped_left_pool', 0)}, review {change.get('dropped_in_review', 0)}, "
          f"duplicate {change.get('dropped_as_duplicate', 0)}, "
          f"selection {change.get('dropped_by_selection', 0)}; selection churn {change.get('selection_churn_rate', 0):.2%})")
    e = out["empty_day"]
    print(f"\n== a day with no rows ({empty_day}): {e['seconds']:.1f}s, the steps {e['steps_seconds']:.1f}s: what a day costs "
          f"before its rows; at 1.2x, a day's embedding would have to take {e['seconds'] / 0.2:.0f}s")
    print(f"  the added day's rows themselves (added day less this) {inc_daily + inc_pool - empty:.1f}s -> "
          f"{e['rows_cost_ratio_to_embedding_alone']}x embedding them alone")
    for k, v in list(e["seconds_per_asset"].items())[:8]:
        print(f"    {k:40s} {v:8.1f}s")
    print(f"peak RSS over the whole run {out['peak_rss_gib']:.2f} GiB")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
