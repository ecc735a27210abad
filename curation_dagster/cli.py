"""`curation` command line: run the demo end to end, show stats of what has been materialized."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click


class _Names(click.Choice):
    """A click.Choice of registered names, read from the registry when first needed (the registries
    live in curation_dagster.lib, whose imports would slow every `curation` command down)."""

    def __init__(self, names, case_sensitive: bool = True):
        self._names = names
        super().__init__((), case_sensitive)

    @property
    def choices(self):
        return tuple(self._names())

    @choices.setter
    def choices(self, _):
        pass


class _HelpOption(click.Option):
    """An option whose help text is made when shown (from a registry's descriptions)."""

    def __init__(self, *args, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._help_text = help_text

    def get_help_record(self, ctx):
        if self._help_text is not None:
            self.help = self._help_text()
        return super().get_help_record(ctx)


def _import_formats() -> tuple[str, ...]:
    from curation_dagster.lib.importing import import_formats

    return ("auto", *import_formats())


def _import_help() -> str:
    from curation_dagster.lib.importing import import_formats

    return ("File format. auto: by suffix (" + ", ".join(
        f".{x}" for f in import_formats().values() for x in f.suffixes) + "), and for JSON the first record "
        "decides: `messages` = OpenAI chat, `conversations` = ShareGPT, instruction/input/output = Alpaca, "
        "else flat JSONL columns. " + import_formats().help() + ".")


def _convert_to_formats() -> tuple[str, ...]:
    from curation_dagster.lib.converting import output_formats

    return output_formats()


def _export_formats() -> tuple[str, ...]:
    from curation_dagster.lib.dataset_export import EXPORT_FORMATS

    return tuple(EXPORT_FORMATS)


def _export_help() -> str:
    from curation_dagster.lib.dataset_export import EXPORT_FORMATS

    return EXPORT_FORMATS.help() + "."


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


def deployment_for(partition_keys: list[str]):
    """The environment's deployment, its partitions starting early enough for `partition_keys`."""
    from curation_dagster.defs.deployment import Deployment, DeploymentError

    try:
        deployment = Deployment.from_env()
    except DeploymentError as exc:
        raise click.ClickException(str(exc)) from None
    if partition_keys and partition_keys[0] < deployment.start_date:
        # partitions start at CURATION_START_DATE; older data needs an earlier start (the UI too)
        click.echo(f"Partitions start at {partition_keys[0]} for this run; set CURATION_START_DATE="
                   f"{partition_keys[0]} for the UI.")
        deployment = deployment.with_start_date(partition_keys[0])
    return deployment


def materialize_all(partition_keys: list[str], log=click.echo) -> list:
    """Run the daily job for each partition, then the pool job, in this process (one model load)."""
    from dagster import DagsterInstance

    from curation_dagster.definitions import build_definitions
    from curation_dagster.defs.partitions import REFIT_REASON_TAG
    from curation_dagster.defs.run_recovery import launch_tags, recover_dead_runs
    from curation_dagster.lib.memory import release_freed_memory  # runs share this process: see lib/memory.py

    defs = build_definitions(deployment=deployment_for(partition_keys))
    # closed when the runs end or one raises: an instance left open is torn down at interpreter exit,
    # after its SQLite connections ("Cannot operate on a closed database" on stderr)
    with DagsterInstance.get() as instance:
        recover_dead_runs(instance, log=log)  # runs killed mid-step: mark FAILURE, free their pool slots
        tags = launch_tags()  # this process's pid + host, so a later check can tell if it died
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        evaluations = []
        daily = defs.resolve_job_def("daily_curation_job")
        fit = defs.resolve_job_def("topic_model_job")
        pool = defs.resolve_job_def("pool_refresh_job")
        for key in partition_keys:
            t0 = time.perf_counter()
            res = daily.execute_in_process(partition_key=key, instance=instance, run_config=quiet, raise_on_error=True,
                                           tags=tags)
            evaluations += [(key, e) for e in res.get_asset_check_evaluations()]
            log(f"  partition {key}: {'ok' if res.success else 'FAILED'} ({time.perf_counter() - t0:.1f}s)")
            release_freed_memory()
        t0 = time.perf_counter()
        res = fit.execute_in_process(instance=instance, run_config=quiet, raise_on_error=True,
                                     tags={REFIT_REASON_TAG: "demo: first fit", **tags})
        log(f"  topic model (fit): {'ok' if res.success else 'FAILED'} ({time.perf_counter() - t0:.1f}s)")
        release_freed_memory()
        t0 = time.perf_counter()
        res = pool.execute_in_process(instance=instance, run_config=quiet, raise_on_error=True, tags=tags)
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


#: Tables `curation stats` reads, in pipeline order (the first is the one every daily run writes).
def _storage():
    """The deployment's pipeline storage (defs.resources.pipeline_storage), or a readable error."""
    from curation_dagster.defs.resources import pipeline_storage

    try:
        return pipeline_storage()
    except ValueError as exc:  # prod without its SNOWFLAKE_* variables, or an unknown deployment
        raise click.ClickException(str(exc)) from None


SUMMARY_TABLES = ("raw_generations", "rejected_generations", "filtered_generations", "duplicate_generations",
                  "generation_clusters", "sampled_examples")


def summary() -> dict:
    """What has been materialized, from the pipeline storage. A readable ClickException (no traceback)
    when there is nothing to read yet or the file cannot be opened; tables of stages that never ran
    (or failed) count as empty and are listed under `not_materialized`."""
    import pandas as pd

    from curation_dagster import settings
    from curation_dagster.defs.resources import StorageUnreadable
    from curation_dagster.lib.evaluation import rule_report
    from curation_dagster.lib.pool_status import empty_pool_cause
    from curation_dagster.lib.warehouse import read_labels

    export = settings.export_dir() / "finetuning_dataset"
    store = _storage()
    columns = {"raw_generations": ["generation_id", "created_at"],
               "rejected_generations": ["generation_id", "rule", "rules_fired"],
               "filtered_generations": ["generation_id"], "duplicate_generations": ["rule"],
               "generation_clusters": ["cluster_id", "is_outlier"], "sampled_examples": ["category"]}
    try:
        found = {t: store.read_table(t, columns[t]) for t in SUMMARY_TABLES}
    except StorageUnreadable as exc:
        raise click.ClickException(str(exc)) from None
    if found["raw_generations"] is None:
        raise click.ClickException(
            f"nothing has been materialized yet in {store.where()}: run `curation demo`, or `curation import FILE` "
            "then `curation run --from YYYY-MM-DD --to YYYY-MM-DD` (or materialize daily_curation_job in the UI)")
    missing = [t for t in SUMMARY_TABLES if found[t] is None]
    raw, rejected, filtered, dups, clusters, sampled = (
        found[t] if found[t] is not None else pd.DataFrame({c: pd.Series(dtype=object) for c in columns[t]})
        for t in SUMMARY_TABLES)
    kept = len(filtered)
    out = {
        "rows_in": len(raw), "kept": int(kept), "rejected": len(rejected),
        "pool_duplicates": dups["rule"].value_counts().sort_index().to_dict(),
        "rejections_by_rule": rejected["rule"].value_counts().sort_index().to_dict(),
        "clusters": int(clusters.loc[clusters.cluster_id != -1, "cluster_id"].nunique()),
        "outlier_share": round(float(clusters["is_outlier"].mean()), 4) if len(clusters) else 0.0,
        "sampled": len(sampled),
        "general_share": round(float((sampled["category"] == "general").mean()), 4) if len(sampled) else 0.0,
        "export_dir": str(export),
        "not_materialized": missing,
    }
    if not kept:
        out["empty_pool"] = empty_pool_cause({str(d)[:10] for d in raw["created_at"]}, rejected["rule"].tolist())
    try:
        labels = read_labels(settings.warehouse_path())
        out["rule_scores"] = rule_report(raw["generation_id"], rejected, labels).to_dict("records")
    except Exception:  # a team's own warehouse has no ground truth
        pass
    manifest = export / "manifest.json"
    if manifest.exists():
        out["dataset_rows"] = json.loads(manifest.read_text())["rows"]
    return out


def print_pool_state(s: dict) -> None:
    """What `print_summary` leaves out: the cause of an empty pool, the stages not materialized yet."""
    if s.get("empty_pool"):
        click.echo(f"The pool is empty: {s['empty_pool']}")
    if s.get("not_materialized"):
        click.echo("Not materialized yet (or their stage failed): " + ", ".join(s["not_materialized"]))


def print_summary(s: dict) -> None:
    from curation_dagster.lib.splits import counted_splits, rows_text

    click.echo(f"\nRows in: {s['rows_in']}  kept: {s['kept']}  rejected: {s['rejected']}")
    click.echo("Rejected by rule: " + ", ".join(f"{k}={v}" for k, v in s["rejections_by_rule"].items()))
    dups = s.get("pool_duplicates") or {}
    click.echo(f"Duplicates across days removed from the pool: {sum(dups.values())}"
               + (" (" + ", ".join(f"{k}={v}" for k, v in dups.items()) + ")" if dups else ""))
    click.echo(f"Clusters: {s['clusters']}  outlier share: {s['outlier_share']:.1%}")
    click.echo(f"Sampled: {s['sampled']}  general share: {s['general_share']:.1%}")
    if "rule_scores" in s:
        click.echo("Rule precision / recall against the generator's ground truth:")
        for r in s["rule_scores"]:
            click.echo(f"  {r['rule']:<22} rejected={r['rejected']:<5} labelled={r['labelled']:<5} "
                       f"P={r['precision']:.3f} R={r['recall']:.3f}")
    if "dataset_rows" in s:
        rows = s["dataset_rows"]
        click.echo(f"Dataset: {rows_text(rows)} examples")
    click.echo("")
    for i, split in enumerate(counted_splits(s.get("dataset_rows") or {})):
        click.echo(f"{'Fine-tuning JSONL:' if i == 0 else '':<19}{Path(s['export_dir']) / f'{split}.jsonl'}")
    click.echo(f"Manifest:          {Path(s['export_dir']) / 'manifest.json'}")
    report = Path(s["export_dir"]).parent / "reports" / "dataset_report.html"
    if report.exists():
        click.echo(f"Dataset report:    {report}")


@click.group()
def main() -> None:
    """Curate production LLM generations into a fine-tuning dataset (Dagster code location)."""


@main.command()
@click.option("--rows", default=3000, show_default=True, help="Sample generations to create.")
@click.option("--days", default=14, show_default=True, help="Days (daily partitions) they spread over.")
@click.option("--start-date", default=None, help="First day (default: CURATION_START_DATE or 2026-11-01).")
@click.option("--seed", "seed_value", default=7, show_default=True, help="Seed of the sample generator.")
@click.option("--config", default=None, type=click.Path(dir_okay=False),
              help="Settings file (default: CURATION_CONFIG, else ./curation.yaml when present).")
def demo(rows: int, days: int, start_date: str | None, seed_value: int, config: str | None = None) -> None:
    """Seed sample data into the embedded warehouse and materialize the whole graph."""
    _prepare_dagster_home()
    from curation_dagster import settings

    start_date = start_date or settings.partitions_start_date()
    _use_settings_file(config)
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
        print_pool_state(s)


def _load_mapping(pairs: tuple[str, ...], mapping_file: str | None) -> dict[str, str]:
    from curation_dagster.lib.contract import CONTRACT_COLUMNS

    mapping: dict[str, str] = {}
    if mapping_file:
        text = Path(mapping_file).read_text()
        if mapping_file.endswith(".toml"):
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
        data = data.get("column_mapping", data)
        if not isinstance(data, dict):
            raise click.BadParameter("the mapping file must hold contract column: your column pairs",
                                     param_hint="--mapping-file")
        mapping.update({str(k): str(v) for k, v in data.items()})
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not CONTRACT_COLUMN=YOUR_COLUMN", param_hint="--map")
        k, v = pair.split("=", 1)
        mapping[k.strip()] = v.strip()
    unknown = sorted(set(mapping) - set(CONTRACT_COLUMNS))
    if unknown:
        raise click.BadParameter(f"not contract columns: {', '.join(unknown)} (they are: {', '.join(CONTRACT_COLUMNS)})",
                                 param_hint="--map")
    return mapping


def _file_format(src: Path, fmt: str) -> str:
    """The format named, or for "auto" the one read off the file (a clear error when it cannot be)."""
    from curation_dagster.lib.importing import detect_format

    try:
        return detect_format(src) if fmt == "auto" else fmt
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=_Names(_import_formats), default="auto", show_default=True, cls=_HelpOption,
              help_text=_import_help)
@click.option("--map", "pairs", multiple=True, metavar="CONTRACT=YOURS",
              help="Map a contract column onto a column of the file, e.g. --map output=completion (repeatable).")
@click.option("--mapping-file", type=click.Path(exists=True, dir_okay=False),
              help="YAML or TOML file of contract column: your column pairs (optionally under column_mapping:).")
@click.option("--assign-date", default=None, metavar="YYYY-MM-DD",
              help="created_at for rows that have none, so they land in that day's partition.")
@click.option("--template-id", default="general", show_default=True,
              help="template_id for rows that have none (the filter rejects templates outside its catalog).")
@click.option("--warehouse", default=None, type=click.Path(dir_okay=False),
              help="DuckDB file of the source table (default: CURATION_WAREHOUSE_PATH or data/warehouse.duckdb; "
                   "with DAGSTER_DEPLOYMENT=prod and no --warehouse, the Snowflake source table).")
@click.option("--table", default=None,
              help="Source table to append to (default: generations; in prod CURATION_SOURCE_TABLE, created "
                   "with the contract's columns, named through CURATION_SOURCE_COLUMN_MAPPING, if missing).")
@click.option("--quarantine-file", default=None, type=click.Path(dir_okay=False),
              help="Also write quarantined lines here as JSONL (they always go to the import_quarantine table).")
@click.option("--chunk-rows", default=10_000, show_default=True, help="Records read and written per chunk.")
@click.option("--memory-limit", default="512MB", show_default=True,
              help="DuckDB memory limit of the import (DuckDB would otherwise cache up to 80% of RAM).")
def import_file(path, fmt, pairs, mapping_file, assign_date, template_id, warehouse, table, quarantine_file,
                chunk_rows, memory_limit) -> None:
    """Import a CSV, JSONL, Parquet, OpenAI chat, ShareGPT or Alpaca file into the source table.

    Flat columns are mapped onto the data contract (instruction and output are required; identity, input
    message, template, generator version and usage signals may be missing and stay null). For
    conversations the last exchange is the example (user turn -> instruction, reply -> output), earlier
    turns are kept in input_message and the system prompt in identity, so the export gives back the
    whole conversation. Conversations cut out of longer ones (split ShareGPT dumps) are repaired:
    assistant turns before the first user turn are dropped, consecutive turns by one role merged
    (joined by a blank line), blank turns dropped; the summary counts the conversations repaired.
    Bad lines never stop the import: they go to the import_quarantine table with their line number
    and reason.
    Re-importing the same file adds nothing: rows keep their generation_id, or get one from their
    content. A generation_id that comes again with other content (in the file, or already in the
    table) is quarantined, not taken for "already present". The suggested `curation run` range
    leaves out rows dated before 2000-01-01 or after tomorrow (they are imported and counted).
    Exits non-zero only when the file cannot be read or no row could be imported.
    """
    from contextlib import closing

    from curation_dagster import settings
    from curation_dagster.lib.formats import repairable
    from curation_dagster.lib.import_run import import_records
    from curation_dagster.lib.import_sinks import open_sink
    from curation_dagster.lib.importing import ImportSettings

    src = Path(path)
    if not src.is_file():
        raise click.ClickException(f"cannot read {path}: no such file")
    fmt = _file_format(src, fmt)
    opts = ImportSettings(mapping=_load_mapping(pairs, mapping_file), assign_date=assign_date,
                          template_id=template_id or None)
    if warehouse:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    elif settings.deployment() == "local":
        settings.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    qfile = open(quarantine_file, "w", encoding="utf-8") if quarantine_file else None

    def to_file(entries) -> None:
        for b in entries:
            qfile.write(json.dumps({"line": b.line, "reason": b.reason, "raw": b.raw}, ensure_ascii=False) + "\n")

    try:
        try:
            sink = open_sink(settings.deployment(), warehouse, table, memory_limit, str(settings.warehouse_path()))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        with closing(sink), click.progressbar(
                length=src.stat().st_size, label=f"Importing {src.name}", file=sys.stderr) as bar:
            done = [0]

            def progress(position: int) -> None:
                bar.update(max(position - done[0], 0))
                done[0] = max(done[0], position)

            try:
                report = import_records(src, fmt, opts, sink, chunk_rows, on_progress=progress,
                                        on_quarantined=to_file if qfile else None)
            except (OSError, ValueError) as exc:
                raise click.ClickException(f"cannot read {path} as {fmt}: {exc}") from exc
    finally:
        if qfile:
            qfile.close()
    counts, source = report.counts, report.source
    click.echo(f"{src.name}: read {counts['read']:,} records, imported {counts['imported']:,}, "
               f"already present {counts['already_present']:,}, quarantined {counts['quarantined']:,} "
               f"({report.records_per_second:,.0f} records/s) into {sink.where}")
    if repairable(fmt):
        click.echo(f"Conversations repaired: leading assistant turns dropped in "
                   f"{counts['leading_assistant_dropped']:,}, same-role turns merged in "
                   f"{counts['same_role_merged']:,}, blank turns dropped in {counts['blank_turns_dropped']:,}.")
    if counts["conflicting_ids"]:
        click.echo(f"{counts['conflicting_ids']:,} of the quarantined rows reuse a generation_id already imported "
                   f"with different content.")
    if counts["quarantined"]:
        click.echo(f"Quarantined lines: SELECT line, reason FROM import_quarantine WHERE source = '{source}'"
                   + (f" (also {quarantine_file})" if quarantine_file else ""))
    span = report.run_range
    if span.first:
        click.echo(f"Rows span {span.days} day(s), {span.first} .. {span.last}: materialize them with "
                   f"`curation run --from {span.first} --to {span.last}` or a backfill of daily_curation_job in the UI.")
    if span.rows_outside:
        shown = ", ".join(span.outside_days[:5]) + (", ..." if len(span.outside_days) > 5 else "")
        click.echo(f"{span.rows_outside:,} row(s) dated outside {span.lo} .. {span.hi} ({shown}) are imported but left "
                   f"out of that range: fix their created_at, or run those days on purpose.")
    if counts["imported"] + counts["already_present"] == 0:
        raise click.ClickException("nothing could be imported")


@main.command("run")
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First daily partition.")
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD", help="Last daily partition (inclusive).")
@click.option("--config", default=None, type=click.Path(dir_okay=False),
              help="Settings file (default: CURATION_CONFIG, else ./curation.yaml when present; run config > file > defaults).")
def run_range(first: str, last: str, config: str | None = None) -> None:
    """Materialize the daily partitions first..last, fit the topic model, refresh the pool and export.

    The same jobs the Dagster UI and schedules run, in this process; runs are recorded in DAGSTER_HOME
    (default .dagster_home) so `./scripts/dev.sh` shows them.
    """
    import pandas as pd
    from dagster import DagsterError, Failure

    from curation_dagster import settings

    _prepare_dagster_home()
    try:
        keys = [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last, freq="D")]
    except ValueError as exc:
        raise click.BadParameter(f"--from/--to must be dates (YYYY-MM-DD): {exc}") from None
    if not keys:
        raise click.BadParameter("--to is before --from")
    _use_settings_file(config)  # CURATION_CONFIG set (and the file checked) before definitions are imported
    try:
        evaluations = materialize_all(keys)
    except (Failure, DagsterError) as exc:  # a stage failed: its own words, no traceback
        raise click.ClickException(f"{keys[0]}..{keys[-1]}: {_failure_text(exc)}\n"
                                   "Runs and their logs: ./scripts/dev.sh (Dagster UI); what was "
                                   "materialized: `curation stats`") from None
    s = summary()
    print_summary(s)
    print_pool_state(s)
    print_checks(evaluations)


def _failure_text(exc: BaseException) -> str:
    """A failed run's message: a dg.Failure's description, or the user error a Dagster error wraps."""
    description = getattr(exc, "description", None)
    if description:
        return str(description)
    inner = getattr(exc, "user_exception", None) or exc.__cause__
    if inner is not None and inner is not exc:
        return f"{str(exc).splitlines()[0]} {type(inner).__name__}: {inner}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@main.command("convert")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--from", "from_fmt", type=_Names(_import_formats),
              default="auto", show_default=True, help="Format of SOURCE (auto: as for `curation import`).")
@click.option("--to", "to_fmt", type=_Names(_convert_to_formats), required=True,
              help="Format of TARGET: jsonl <-> csv for flat records (parquet can be read), or chat <-> sharegpt "
                   "<-> alpaca for conversations.")
@click.option("--quarantine-file", default=None, type=click.Path(dir_okay=False),
              help="Where records that cannot be converted go, with line and reason (default TARGET.quarantine.jsonl).")
def convert(source, target, from_fmt, to_fmt, quarantine_file) -> None:
    """Convert a file between CSV and JSONL, or between OpenAI chat, ShareGPT and Alpaca.

    Streams record by record; a record that cannot be converted (broken JSON, a conversation out of
    order, several exchanges into Alpaca) is written to the quarantine file and the rest go on.
    Chat <-> ShareGPT keeps every turn; Alpaca's instruction and input become one user message.
    """
    from curation_dagster.lib.converting import convert_file

    src = Path(source)
    if not src.is_file():
        raise click.ClickException(f"cannot read {source}: no such file")
    from_fmt = _file_format(src, from_fmt)
    qpath = Path(quarantine_file or f"{target}.quarantine.jsonl")
    try:
        with click.progressbar(length=src.stat().st_size, label=f"Converting {src.name}", file=sys.stderr) as bar:
            done = [0]

            def advance(position: int) -> None:
                bar.update(max(position - done[0], 0))
                done[0] = max(done[0], position)

            counts = convert_file(src, from_fmt, Path(target), to_fmt, qpath, on_progress=advance)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{src.name} ({from_fmt}) -> {target} ({to_fmt}): read {counts['read']:,}, "
               f"written {counts['written']:,}, quarantined {counts['quarantined']:,}"
               + (f" (see {qpath})" if counts["quarantined"] else ""))
    if counts["written"] == 0:
        raise click.ClickException("nothing could be converted")


@main.command("export")
@click.argument("out", type=click.Path())
@click.option("--format", "fmt", type=_Names(_export_formats), default="sqlite", show_default=True, cls=_HelpOption,
              help_text=_export_help)
@click.option("--export-dir", default=None, type=click.Path(file_okay=False),
              help="Where finetuning_dataset published (default: CURATION_EXPORT_DIR or data/exports).")
def export(out, fmt, export_dir) -> None:
    """Deliver the published fine-tuning dataset as SQLite, CSV, Parquet, ShareGPT JSONL or OpenAI chat JSONL.

    Every published file is checked against its sha256 in manifest.json first, so what you get is
    exactly what passed the export checks. (The same rows are also the finetuning_dataset table in
    the warehouse storage: DuckDB locally, Snowflake in prod.)
    """
    from curation_dagster import settings
    from curation_dagster.lib.dataset_export import export_dataset
    from curation_dagster.lib.splits import rows_text

    storage = settings.storage_path()
    try:
        result = export_dataset(Path(export_dir) if export_dir else settings.export_dir(), Path(out), fmt,
                                storage_path=storage if storage.exists() else None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = result["rows"]
    click.echo(f"Exported {rows['total']:,} examples ({rows_text(rows)}) "
               f"as {fmt} to {result['out']}")


@main.group()
def review() -> None:
    """Human review without Label Studio: the review queue as a spreadsheet."""


@review.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="Output format (default: from OUT's suffix).")
def review_export(out: str, fmt: str | None) -> None:
    """Write the materialized review_queue, most uncertain first, with empty columns for the reviewer
    to fill: reviewer, verdict (accept / reject), reasons (hallucination, contradicts_input, wrong_tone,
    off_template, pii, other; comma-separated) and edited_output."""
    from curation_dagster.defs.resources import StorageUnreadable
    from curation_dagster.lib.review import REJECT_REASONS

    store = _storage()
    try:
        queue = store.read_table("review_queue")
    except StorageUnreadable as exc:
        raise click.ClickException(str(exc)) from None
    if queue is None:
        raise click.ClickException(f"no review queue in {store.where()}: materialize review_queue first")
    queue = queue.sort_values("rank", kind="mergesort").reset_index(drop=True)
    fmt = fmt or ("jsonl" if out.endswith((".jsonl", ".json")) else "csv")
    for col in ("reviewer", "verdict", "reasons", "edited_output"):
        queue[col] = ""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        queue.to_csv(out, index=False)
    else:
        queue.to_json(out, orient="records", lines=True, force_ascii=False, date_format="iso")
    click.echo(f"Wrote {len(queue):,} items to review to {out} (verdict: accept or reject; reasons from: "
               f"{', '.join(REJECT_REASONS)})")


@review.command("import")
@click.argument("sheet", type=click.Path(dir_okay=False))
@click.option("--reviewer", default=None, help="Reviewer for rows whose reviewer column is empty.")
@click.option("--warehouse", default=None, type=click.Path(dir_okay=False),
              help="DuckDB file holding review_imports (default: the deployment's warehouse: the local DuckDB "
                   "file, or Snowflake with DAGSTER_DEPLOYMENT=prod).")
def review_import(sheet: str, reviewer: str | None, warehouse: str | None) -> None:
    """Read a reviewed spreadsheet (CSV or JSONL, as written by `review export`) into the warehouse's
    review_imports table; then run review_sync_job (review_annotations gathers these with Label
    Studio's answers, review_decisions decides). Rows without a verdict are skipped;
    a row with an unknown verdict or reason is reported by line and not imported. Importing the same
    sheet again replaces that reviewer's earlier answers instead of adding to them."""
    import pandas as pd

    from curation_dagster import settings
    from curation_dagster.lib.import_sinks import open_sink
    from curation_dagster.lib.review import ANNOTATION_COLUMNS, parse_review

    src = Path(sheet)
    if not src.is_file():
        raise click.ClickException(f"cannot read {sheet}: no such file")
    try:
        df = (pd.read_json(src, lines=True, dtype=False) if src.suffix in (".jsonl", ".json")
              else pd.read_csv(src, dtype=str, keep_default_na=False))
    except ValueError as exc:
        raise click.ClickException(f"cannot read {sheet}: {exc}") from exc
    if "generation_id" not in df.columns or "verdict" not in df.columns:
        raise click.ClickException("the sheet needs generation_id and verdict columns")
    stamp = pd.Timestamp.now(tz="UTC").tz_localize(None)
    rows, problems = [], []
    for line, rec in enumerate(df.to_dict("records"), 2 if src.suffix == ".csv" else 1):
        if reviewer and not str(rec.get("reviewer") or "").strip():
            rec["reviewer"] = reviewer
        try:
            parsed = parse_review(rec)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if parsed:
            rows.append({"generation_id": str(rec["generation_id"]), "reviewer": parsed.reviewer,
                         "verdict": parsed.verdict, "reasons": ",".join(parsed.reasons),
                         "edited_output": parsed.edited_text, "adjudicator": parsed.adjudicator,
                         "source": str(src.resolve()), "reviewed_at": stamp,
                         "created_day": str(rec.get("created_at") or "")[:10] or None})
    frame = pd.DataFrame(rows, columns=list(ANNOTATION_COLUMNS))
    try:
        sink = open_sink(settings.deployment(), warehouse, None, "512MB", str(settings.warehouse_path()))
    except ValueError as exc:  # prod without its SNOWFLAKE_* variables
        raise click.ClickException(str(exc)) from None
    try:
        sink.replace_reviews(frame)
    finally:
        sink.close()
    click.echo(f"{src.name}: {len(rows):,} reviews imported, {len(df) - len(rows) - len(problems):,} rows without "
               f"a verdict skipped, {len(problems):,} rejected" + "".join(f"\n  {p}" for p in problems[:20]))
    if problems and not rows:
        raise click.ClickException("no review could be imported")


def _use_settings_file(config: str | None) -> None:
    """Point CURATION_CONFIG at `config` (before the stages' config modules are imported: their
    defaults are read from the file then) and check the file in use, so a bad key stops here with a
    clear message. Configs already loaded from another file are an error, never silently kept."""
    from curation_dagster.defs.settings import check_settings_file, loaded_settings_path
    from curation_dagster.lib.settings_file import CONFIG_ENV, SettingsFileError, settings_path

    if config:
        if not Path(config).is_file():
            raise click.BadParameter(f"{config}: no such settings file", param_hint="--config")
        os.environ[CONFIG_ENV] = str(Path(config).resolve())
    try:
        path = settings_path()
        loaded, loaded_path = loaded_settings_path()
        if loaded and loaded_path != path:
            raise click.ClickException(f"the stages' configs were loaded with settings file {loaded_path or 'none'} "
                                       f"before {path or 'none'} was chosen: run the command in a fresh process")
        if path is not None:
            check_settings_file(path)
            click.echo(f"Settings: {path}")
    except SettingsFileError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("init")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False),
              help="Where to write the settings file (default: CURATION_CONFIG, else ./curation.yaml).")
@click.option("--force", is_flag=True, help="Overwrite an existing settings file.")
@click.option("--warehouse", default=None, type=click.Path(dir_okay=False),
              help="DuckDB file of the source table (default: the deployment's warehouse, as `curation run` reads it).")
@click.option("--table", default=None, help="Source table (default: the deployment's, e.g. generations).")
def init(output: str | None, force: bool, warehouse: str | None, table: str | None) -> None:
    """Profile the source table and write a starter curation.yaml with the settings that data needs.

    Counts rows, days, templates, identity settings, generator versions and usage signals, and reads a
    seeded sample (word and token counts, languages of up to 300 outputs); each value in the file says
    why it was chosen. Every stage reads the file: the Dagster UI's defaults, schedules, sensors and
    `curation run` (run config of one run still overrides it).
    """
    from curation_dagster import settings
    from curation_dagster.lib.profiling import profile_source, starter_yaml
    from curation_dagster.lib.settings_file import CONFIG_ENV, DEFAULT_FILE

    named = os.environ.get(CONFIG_ENV, "").strip()
    target = Path(output or (named if named.lower() not in ("", "none") else DEFAULT_FILE))
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists: pass --force to overwrite it")
    from curation_dagster.defs.resources import DuckDBWarehouse, build_resources

    if warehouse:
        wh = DuckDBWarehouse(database=str(Path(warehouse).resolve()), table=table or "generations")
    else:
        wh = build_resources()["warehouse"]
        if table:
            wh = wh.model_copy(update={"table": table})
    source = (f"{wh.database} table {wh.table}" if isinstance(wh, DuckDBWarehouse)
              else f"table {wh.table} ({settings.deployment()})")
    if isinstance(wh, DuckDBWarehouse) and not Path(wh.database).is_file():
        raise click.ClickException(f"no warehouse at {wh.database}: import data first (`curation import FILE`)")
    click.echo(f"Profiling {source} ...", err=True)
    try:
        prof = profile_source(wh._query, wh._table_ref(), lambda c: wh._ident(wh._source(c)))
    except Exception as exc:  # noqa: BLE001 - a missing table or column is the user's to fix, said plainly
        raise click.ClickException(f"cannot profile {source}: {str(exc).splitlines()[0]}") from exc
    if prof.rows == 0:
        raise click.ClickException(f"{source} holds no rows: import data first (`curation import FILE`)")
    text = starter_yaml(prof, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(text)
    click.echo(f"Wrote {target} (review it, then run with it: the commented command above).")


if __name__ == "__main__":
    sys.exit(main())
