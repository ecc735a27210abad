"""The dataset report: one HTML page about the pool, the clusters, the sample and review."""

import json
import os
import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from curation_dagster.defs.partitions import OWNERS, WAREHOUSE_POOL
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.report import data_uri, render_report, thumbnail_png

REPORT_FILE = "dataset_report.html"


class ReportConfig(dg.Config):
    target_examples: int = Field(50_000, description="Size the dataset should grow to (as in the export config).")
    general_share: float = Field(0.5, description="Target share of the 'general' template (as in the sampling config).")
    general_template: str = "general"
    dataset_name: str = Field("finetuning_dataset", description="Export folder whose manifest the report reads.")
    map_point_cap: int = Field(20_000, description="At most this many pool rows on the map (seeded sample).")
    seed: int = 42


ReportConfig = team_defaults(ReportConfig, "report")  # curation.yaml: report:, and export:/sampling: values


def report_path(dataset_store: DatasetStore, dataset_name: str = "finetuning_dataset") -> Path:
    """Where the page is written: `<export_dir>/reports/dataset_report.html`."""
    return dataset_store.path(dataset_name).parent / "reports" / REPORT_FILE


def write_atomically(path: Path, text: str) -> None:
    """Write to a temp file in the same folder, then rename over the old page: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


@dg.asset(
    group_name="report", owners=OWNERS, kinds={"html"}, pool=WAREHOUSE_POOL,
    deps=["finetuning_dataset"],
    ins={
        # only what the page draws: the pool's texts stay in the warehouse
        "deduplicated_generations": dg.AssetIn(
            metadata={"columns": ["generation_id", "created_at", "template_id", "embedding"]}),
        "rejected_generations": dg.AssetIn(metadata={"columns": ["generation_id", "created_at", "rule"]}),
    },
)
def dataset_report(context: dg.AssetExecutionContext, config: ReportConfig, dataset_store: DatasetStore,
                   deduplicated_generations: pd.DataFrame, generation_clusters: pd.DataFrame,
                   cluster_summaries: pd.DataFrame, sampled_examples: pd.DataFrame,
                   rejected_generations: pd.DataFrame, review_decisions: pd.DataFrame,
                   clustering_experiments: pd.DataFrame) -> dg.MaterializeResult:
    """The dataset report for the data team: ONE self-contained HTML page (charts inlined as images,
    no scripts, no links outside the file: open it from the share, attach it to a ticket, mail it).

    It shows, in order: a summary (pool, clusters, sampled, shipped, rejected, reviewed, progress);
    a map of the pool (UMAP of the embeddings, coloured by topic cluster, sampled examples circled);
    cluster names and sizes with how many examples each gave; the general vs template-specific mix
    against the target; growth of the sample toward `target_examples` by generation day; rejections
    per filter rule per day; human review outcomes (or "no reviews yet"); the clustering experiments
    grid when that table exists.

    Written after every export to `<export dir>/reports/dataset_report.html` (temp file, then a rename).
    The `report_path` metadata entry links the file; `map_preview` shows the map right here.
    """
    manifest = read_manifest(dataset_store.path(config.dataset_name))
    report = render_report(
        deduplicated_generations, generation_clusters, cluster_summaries, sampled_examples,
        rejected_generations, review_decisions, manifest,
        None if clustering_experiments.empty else clustering_experiments,
        target_examples=config.target_examples, general_share=config.general_share,
        general_template=config.general_template, map_cap=config.map_point_cap, seed=config.seed,
    )
    path = report_path(dataset_store, config.dataset_name)
    write_atomically(path, report.html)
    s = report.summary
    context.log.info(f"dataset report written to {path} ({len(report.html):,} bytes)")
    preview = thumbnail_png(report.images["map"], max_width=560, max_bytes=140_000)
    growth = thumbnail_png(report.images["growth"], max_width=480, max_bytes=60_000)
    return dg.MaterializeResult(metadata={
        "report_path": dg.MetadataValue.path(str(path)),
        "report_bytes": len(report.html.encode()),
        "map_preview": dg.MetadataValue.md(f"![map of the pool]({data_uri(preview)})"),
        "growth_preview": dg.MetadataValue.md(f"![growth toward the target]({data_uri(growth)})"),
        "progress_to_target": s["progress_summary"],
        "pool_rows": s["pool_rows"],
        "map_points": s["map_points"],
        "map_method": s["map_method"],
        "clusters": s["clusters"],
        "sampled_examples": s["sampled_examples"],
        "shipped_rows": s["shipped_rows"] if s["shipped_rows"] is not None else 0,
        "achieved_general_share": s["achieved_general_share"],
        "rejected_rows": s["rejected_rows"],
        "reviewed_examples": s["reviewed_examples"],
        "experiments_table": "not materialized" if s["experiments"] is None else s["experiments"],
    })
