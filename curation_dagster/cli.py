"""`curation` command line: run the demo end to end, show stats of what has been materialized."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click


def _prepare_dagster_home() -> None:
    """Persist runs under ./.dagster_home (so `dagster dev` shows them) unless DAGSTER_HOME is set."""
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(Path(".dagster_home").resolve())
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and Path("dagster.yaml").exists():
        shutil.copyfile("dagster.yaml", home / "dagster.yaml")


def day_keys(start_date: str, days: int) -> list[str]:
    import pandas as pd

    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start_date, periods=days, freq="D")]


def seed(rows: int, days: int, start_date: str, seed_value: int) -> int:
    from curation_dagster import settings
    from curation_dagster.lib.warehouse import write_generations
    from curation_dagster.sample_data import generate_sample_data

    gens, labels = generate_sample_data(n_rows=rows, days=days, start_date=start_date, seed=seed_value)
    return write_generations(settings.warehouse_path(), gens, labels)


def materialize_all(partition_keys: list[str], log=click.echo) -> list:
    """Run the daily job for each partition, then the pool job, in this process (one model load)."""
    from dagster import DagsterInstance

    from curation_dagster.definitions import defs
    from curation_dagster.defs.partitions import REFIT_REASON_TAG

    instance = DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    evaluations = []
    daily = defs.resolve_job_def("daily_curation_job")
    fit = defs.resolve_job_def("topic_model_job")
    pool = defs.resolve_job_def("pool_refresh_job")
    for key in partition_keys:
        t0 = time.perf_counter()
        res = daily.execute_in_process(partition_key=key, instance=instance, run_config=quiet, raise_on_error=True)
        evaluations += [(key, e) for e in res.get_asset_check_evaluations()]
        log(f"  partition {key}: {'ok' if res.success else 'FAILED'} ({time.perf_counter() - t0:.1f}s)")
    t0 = time.perf_counter()
    res = fit.execute_in_process(instance=instance, run_config=quiet, raise_on_error=True,
                                 tags={REFIT_REASON_TAG: "demo: first fit"})
    log(f"  topic model (fit): {'ok' if res.success else 'FAILED'} ({time.perf_counter() - t0:.1f}s)")
    t0 = time.perf_counter()
    res = pool.execute_in_process(instance=instance, run_config=quiet, raise_on_error=True)
    evaluations += [(None, e) for e in res.get_asset_check_evaluations()]
    log(f"  pool (assign clusters, sample, export): {'ok' if res.success else 'FAILED'} ({time.perf_counter() - t0:.1f}s)")
    return evaluations


def print_checks(evaluations: list) -> None:
    failed = [(p, e) for p, e in evaluations if not e.passed]
    click.echo(f"\nAsset checks: {len(evaluations) - len(failed)} of {len(evaluations)} passed")
    for partition, e in failed:
        where = f"{e.asset_key.to_user_string()}{f' [{partition}]' if partition else ''}"
        detail = e.metadata.get("failed_expectations")
        click.echo(f"  {e.severity.value} {e.check_name} on {where}: {getattr(detail, 'value', '')}")


def summary() -> dict:
    import duckdb

    from curation_dagster import settings
    from curation_dagster.lib.evaluation import rule_report
    from curation_dagster.lib.warehouse import read_labels

    export = settings.export_dir() / "finetuning_dataset"
    with duckdb.connect(str(settings.storage_path()), read_only=True) as con:
        q = lambda sql: con.execute(sql).df()  # noqa: E731
        raw = q("SELECT generation_id FROM curation.raw_generations")
        rejected = q("SELECT generation_id, rule, rules_fired FROM curation.rejected_generations")
        kept = con.execute("SELECT count(*) FROM curation.filtered_generations").fetchone()[0]
        clusters = q("SELECT cluster_id, is_outlier FROM curation.generation_clusters")
        sampled = q("SELECT category FROM curation.sampled_examples")
    out = {
        "rows_in": len(raw), "kept": int(kept), "rejected": len(rejected),
        "rejections_by_rule": rejected["rule"].value_counts().sort_index().to_dict(),
        "clusters": int(clusters.loc[clusters.cluster_id != -1, "cluster_id"].nunique()),
        "outlier_share": round(float(clusters["is_outlier"].mean()), 4) if len(clusters) else 0.0,
        "sampled": len(sampled),
        "general_share": round(float((sampled["category"] == "general").mean()), 4) if len(sampled) else 0.0,
        "export_dir": str(export),
    }
    try:
        labels = read_labels(settings.warehouse_path())
        out["rule_scores"] = rule_report(raw["generation_id"], rejected, labels).to_dict("records")
    except Exception:  # a team's own warehouse has no ground truth
        pass
    manifest = export / "manifest.json"
    if manifest.exists():
        out["dataset_rows"] = json.loads(manifest.read_text())["rows"]
    return out


def print_summary(s: dict) -> None:
    click.echo(f"\nRows in: {s['rows_in']}  kept: {s['kept']}  rejected: {s['rejected']}")
    click.echo("Rejected by rule: " + ", ".join(f"{k}={v}" for k, v in s["rejections_by_rule"].items()))
    click.echo(f"Clusters: {s['clusters']}  outlier share: {s['outlier_share']:.1%}")
    click.echo(f"Sampled: {s['sampled']}  general share: {s['general_share']:.1%}")
    if "rule_scores" in s:
        click.echo("Rule precision / recall against the generator's ground truth:")
        for r in s["rule_scores"]:
            click.echo(f"  {r['rule']:<22} rejected={r['rejected']:<5} labelled={r['labelled']:<5} "
                       f"P={r['precision']:.3f} R={r['recall']:.3f}")
    if "dataset_rows" in s:
        rows = s["dataset_rows"]
        click.echo(f"Dataset: {rows['train']} train / {rows['validation']} validation examples")
    click.echo(f"\nFine-tuning JSONL: {Path(s['export_dir']) / 'train.jsonl'}")
    click.echo(f"                   {Path(s['export_dir']) / 'validation.jsonl'}")
    click.echo(f"Manifest:          {Path(s['export_dir']) / 'manifest.json'}")


@click.group()
def main() -> None:
    """Curate production LLM generations into a fine-tuning dataset (Dagster code location)."""


@main.command()
@click.option("--rows", default=3000, show_default=True, help="Sample generations to create.")
@click.option("--days", default=14, show_default=True, help="Days (daily partitions) they spread over.")
@click.option("--start-date", default=None, help="First day (default: CURATION_START_DATE or 2026-11-01).")
@click.option("--seed", "seed_value", default=7, show_default=True, help="Seed of the sample generator.")
def demo(rows: int, days: int, start_date: str | None, seed_value: int) -> None:
    """Seed sample data into the embedded warehouse and materialize the whole graph."""
    _prepare_dagster_home()
    from curation_dagster import settings

    start_date = start_date or settings.partitions_start_date()
    os.environ.setdefault("CURATION_START_DATE", start_date)
    t0 = time.perf_counter()
    n = seed(rows, days, start_date, seed_value)
    click.echo(f"Seeded {n} generations over {days} days into {settings.warehouse_path()} "
               f"({time.perf_counter() - t0:.1f}s)")
    click.echo(f"Materializing {days} daily partitions, then the pool stages (Dagster home: {os.environ['DAGSTER_HOME']})")
    evaluations = materialize_all(day_keys(start_date, days))
    print_summary(summary())
    print_checks(evaluations)
    click.echo(f"Done in {time.perf_counter() - t0:.0f}s. Browse it: ./scripts/dev.sh  (Dagster UI on http://127.0.0.1:3000)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def stats(as_json: bool) -> None:
    """Counts, rule rejections, clusters and export location of what has been materialized."""
    s = summary()
    if as_json:
        click.echo(json.dumps(s, indent=2, default=str))
    else:
        print_summary(s)


if __name__ == "__main__":
    sys.exit(main())
