"""The dataset report: one HTML page about the pool, the clusters, the sample and review."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from curation_dagster.defs.partitions import OWNERS, POOL_VECTORS_IN, WAREHOUSE_POOL
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.dataset import topic_model_version
from curation_dagster.lib.files import write_atomic
from curation_dagster.lib.frames import with_embeddings
from curation_dagster.lib.report import MapLayout, data_uri, render_report, thumbnail_png

REPORT_FILE = "dataset_report.html"
#: the map's last projection (generation_id, x, y, key, method), beside the page: reused while the topic model stays
LAYOUT_FILE = "map_layout.parquet"


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
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_layout(path: Path) -> MapLayout | None:
    """The stored map layout, or None when there is none or it cannot be read (the map is then projected afresh)."""
    try:
        return MapLayout.from_frame(pd.read_parquet(path))
    except (OSError, ValueError):
        return None


def write_layout(path: Path, layout: MapLayout) -> None:
    write_atomic(path, lambda tmp: layout.to_frame().to_parquet(tmp, index=False))


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
        "deduplicated_generations": dg.AssetIn(metadata={"columns": ["generation_id", "created_at", "template_id"]}),
        "generation_embeddings": POOL_VECTORS_IN,
        "rejected_generations": dg.AssetIn(metadata={"columns": ["generation_id", "created_at", "rule"]}),
    },
)
def dataset_report(context: dg.AssetExecutionContext, config: ReportConfig, dataset_store: DatasetStore,
                   deduplicated_generations: pd.DataFrame, generation_embeddings: pd.DataFrame,
                   generation_clusters: pd.DataFrame,
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
    The map's projection is kept beside it (`map_layout.parquet`) and reused while the topic model
    stays, new rows placed at their most similar rows' places, so a daily refresh runs no UMAP.
    The `report_path` metadata entry links the file; `map_preview` shows the map right here.
    """
    manifest = read_manifest(dataset_store.path(config.dataset_name))
    path = report_path(dataset_store, config.dataset_name)
    layout_path = path.parent / LAYOUT_FILE
    layout = read_layout(layout_path)
    report = render_report(
        with_embeddings(deduplicated_generations, generation_embeddings), generation_clusters, cluster_summaries, sampled_examples,
        rejected_generations, review_decisions, manifest,
        None if clustering_experiments.empty else clustering_experiments,
        target_examples=config.target_examples, general_share=config.general_share,
        general_template=config.general_template, map_cap=config.map_point_cap, seed=config.seed,
        map_layout=layout, map_layout_key=f"{topic_model_version(generation_clusters)}|seed={config.seed}",
    )
    write_atomically(path, report.html)
    if report.map_layout is not None and report.map_layout is not layout:
        write_layout(layout_path, report.map_layout)
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
        # rows put at their neighbours' places on a projection kept from an earlier refresh (0: projected now)
        "map_rows_placed_by_neighbours": s["map_rows_placed_by_neighbours"],
        "clusters": s["clusters"],
        "sampled_examples": s["sampled_examples"],
        "shipped_rows": s["shipped_rows"] if s["shipped_rows"] is not None else 0,
        "achieved_general_share": s["achieved_general_share"],
        "rejected_rows": s["rejected_rows"],
        "reviewed_examples": s["reviewed_examples"],
        "experiments_table": "not materialized" if s["experiments"] is None else s["experiments"],
    })
