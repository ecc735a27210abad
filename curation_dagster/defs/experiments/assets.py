"""Clustering experiments: embedding backends x clustering algorithms, compared on the same pool sample.

On demand only (materialize it by hand in the UI); no job or schedule runs it, and nothing reads it.
The topic model keeps using the algorithm of its own config (`topic_model` -> `algorithm`).
"""

import math
import time
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from curation_dagster.defs.partitions import OWNERS, POOL_VECTORS_IN, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.frames import with_embeddings
from curation_dagster.lib.clustering import CLUSTERING_ALGORITHMS, has_grid
from curation_dagster.lib.embedding import EMBEDDING_BACKENDS
from curation_dagster.lib.experiments import (DEFAULT_ALGORITHMS, DEFAULT_BACKENDS, DEFAULT_K_RANGE, MAX_OUTLIER_SHARE,
                                              grid_inputs, recommend, run_grid)

CSV_NAME = "clustering_experiments.csv"


class ExperimentConfig(dg.Config):
    """Which cells the grid runs, on how many rows."""

    backends: list[str] = Field(list(DEFAULT_BACKENDS), description=(
        "Embedding backends (lib/embedding.py): " + EMBEDDING_BACKENDS.help() + ". 'minilm' (an old name of "
        "'sentence-transformers') uses the pool's stored vectors, not re-embedded; the others embed the sample "
        "(model2vec / ONNX models are made once and cached under <data dir>/models/). '<backend>:<local model "
        "path>' loads another model offline (e.g. 'sentence-transformers:/models/e5', ~80 texts/s on 2 cores)."))
    algorithms: list[str] = Field(list(DEFAULT_ALGORITHMS), description=(
        "Clustering algorithms (lib/clustering.py): " + CLUSTERING_ALGORITHMS.help(has_grid) + "."))
    kmeans_k: int | None = Field(None, description=(
        "Clusters for kmeans (and n_clusters of sklearn classes that take it); empty: kmeans picks the k "
        "of `k_range` with the best silhouette."))
    k_range: list[int] = Field(list(DEFAULT_K_RANGE), description="k values kmeans tries when kmeans_k is empty.")
    sample_cap: int = Field(3000, description="Every cell runs on the same seeded sample of at most this many rows.")
    seed: int = 42
    tfidf_components: int = Field(128, description="TruncatedSVD dimensions of the tfidf_svd backend.")
    text_fields: list[str] = Field(["instruction", "output"], description=(
        "Columns joined into the text that non-stored backends embed (as generation_embeddings does)."))
    keyword_field: str = Field("instruction", description=(
        "Text column whose c-TF-IDF keywords describe each cluster and are scored for NPMI (as the topic "
        "model names clusters)."))
    algorithm_kwargs: dict[str, dict[str, Any]] = Field({}, description=(
        "Extra keyword arguments per algorithm spec, e.g. {'hdbscan': {'min_cluster_size': 25}, "
        "'sklearn:AgglomerativeClustering': {'n_clusters': 20}, 'bertopic': {'min_cluster_size': 30}} "
        "(bertopic takes ClusterSettings fields). No null values."))
    max_outlier_share: float = Field(MAX_OUTLIER_SHARE, description=(
        "Cells leaving more rows as outliers are not recommended (unless no cell stays below)."))


ExperimentConfig = team_defaults(ExperimentConfig, "experiments")  # curation.yaml: experiments:


def _table_value(table: pd.DataFrame) -> dg.TableMetadataValue:
    kinds = {"b": "bool", "i": "int", "u": "int", "f": "float"}
    columns = [dg.TableColumn(c, kinds.get(t.kind, "string")) for c, t in table.dtypes.items()]

    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (np.integer, int)):
            return int(v)
        if isinstance(v, (np.floating, float)):
            return round(float(v), 4)
        return str(v)

    rows = [dg.TableRecord({c: cell(v) for c, v in rec.items()}) for rec in table.to_dict("records")]
    return dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=columns))


@dg.asset(group_name="experiments", owners=OWNERS, kinds={"scikitlearn", "bertopic", STORAGE_KIND},
          pool=WAREHOUSE_POOL, ins={"generation_embeddings": POOL_VECTORS_IN})
def clustering_experiments(context: dg.AssetExecutionContext, config: ExperimentConfig,
                           dataset_store: DatasetStore, deduplicated_generations: pd.DataFrame,
                           generation_embeddings: pd.DataFrame) -> dg.Output:
    """Embedding backends x clustering algorithms, side by side on one seeded sample of the pool.

    One row per (backend, algorithm): cluster count, outlier share, cosine silhouette, Davies-Bouldin,
    NPMI coherence and diversity of each cluster's top-10 c-TF-IDF keywords, balance (largest cluster
    share, Gini of sizes), ARI / NMI against `template_id` (rows without one left out), and seconds.
    A cell that fails keeps its error text; the others still run. 'minilm' reuses the pool's stored
    embeddings, so its embed_seconds is 0.

    The metadata names the recommended cell and why (rule: lib/experiments.py). Nothing changes on its
    own: the topic model's algorithm stays whatever `topic_model`'s config says. The table is also
    written as CSV to `<export_dir>/experiments/clustering_experiments.csv`.

    On demand only: materialize it by hand (no job or schedule includes it). It costs a few minutes on
    the default 3,000 rows (UMAP and HDBSCAN dominate).
    """
    pool = with_embeddings(deduplicated_generations, generation_embeddings)
    t0 = time.perf_counter()
    table = run_grid(backends=config.backends, algorithms=config.algorithms, sample_cap=config.sample_cap,
                     seed=config.seed, kmeans_k=config.kmeans_k, k_range=config.k_range,
                     algorithm_kwargs=config.algorithm_kwargs, tfidf_components=config.tfidf_components,
                     log=context.log.info, **grid_inputs(pool, config.text_fields, config.keyword_field))
    elapsed = time.perf_counter() - t0

    csv_path = Path(dataset_store.export_dir) / "experiments" / CSV_NAME
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(csv_path, index=False)

    try:
        backend, algorithm, reason = recommend(table, config.max_outlier_share)
        recommended = f"{backend} x {algorithm}"
    except ValueError as exc:
        recommended, reason = "none", str(exc)
    failed = int(table["error"].notna().sum())
    if failed:
        context.log.warning(f"{failed} of {len(table)} grid cells failed: see the error column")
    return dg.Output(table, metadata={
        "dagster/row_count": len(table),
        "grid": _table_value(table),
        "recommended": recommended,
        "recommendation_reason": reason,
        "active_choice": ("Unchanged: the topic model keeps the algorithm of topic_model's config "
                          "(TopicModelConfig.algorithm, 'bertopic' by default); change it there to act on this."),
        "failed_cells": failed,
        "pool_rows": len(pool),
        "sample_rows": min(len(pool), config.sample_cap) if config.sample_cap else len(pool),
        "ground_truth": "template_id",
        "grid_seconds": round(elapsed, 1),
        "csv_path": dg.MetadataValue.path(str(csv_path)),
    })
