
import time

import dagster as dg
import numpy as np
import pandas as pd

from curation_dagster.defs.clustering.checks import CHECK_SPECS, cluster_checks
from curation_dagster.defs.clustering.config import ClusterConfig
from curation_dagster.defs.metadata import counts_table
from curation_dagster.defs.partitions import OWNERS, WAREHOUSE_POOL
from curation_dagster.lib.clustering import cluster_embeddings
from curation_dagster.lib.naming import cluster_names, ctfidf_keywords


def pool_frame(filtered: pd.DataFrame, embeddings: pd.DataFrame) -> pd.DataFrame:
    """Kept rows joined to their vectors, sorted by id so results never depend on load order."""
    pool = filtered.merge(embeddings[["generation_id", "embedding"]], on="generation_id", how="inner")
    return pool.sort_values("generation_id", kind="mergesort").reset_index(drop=True)


@dg.multi_asset(
    outs={
        "generation_clusters": dg.AssetOut(
            description=(
                "Topic cluster of every kept generation in the pool (all partitions): `cluster_id`, "
                "`cluster_name`, `probability` and `is_outlier` (HDBSCAN left it unassigned; with the "
                "default 'reassign' strategy it joins its nearest cluster but stays flagged)."
            ),
            owners=OWNERS, kinds={"bertopic", "duckdb"},
        ),
        "cluster_summaries": dg.AssetOut(
            description="One row per cluster: readable name, c-TF-IDF keywords, size, share, outliers, templates.",
            owners=OWNERS, kinds={"duckdb"},
        ),
    },
    group_name="curation",
    pool=WAREHOUSE_POOL,
    check_specs=CHECK_SPECS,
)
def cluster_generations(context: dg.AssetExecutionContext, config: ClusterConfig,
                        filtered_generations: pd.DataFrame, generation_embeddings: pd.DataFrame):
    pool = pool_frame(filtered_generations, generation_embeddings)
    vectors = np.stack(pool["embedding"].to_numpy()).astype(np.float32) if len(pool) else np.zeros((0, 1), np.float32)
    docs = pool[config.naming_field].fillna("").astype(str).tolist()
    t0 = time.perf_counter()
    result = cluster_embeddings(vectors, docs, config.to_settings(), ids=pool["generation_id"].tolist())
    elapsed = time.perf_counter() - t0
    labels = result.cluster_id.tolist()
    names = cluster_names(docs, labels)
    keywords = ctfidf_keywords(docs, labels, top_n=8)

    clusters = pd.DataFrame({
        "generation_id": pool["generation_id"].to_numpy(),
        "cluster_id": result.cluster_id,
        "cluster_name": [names[c] for c in labels],
        "probability": result.probability.round(6),
        "is_outlier": result.is_outlier,
    })
    summ = clusters.assign(template_id=pool["template_id"].to_numpy()).groupby("cluster_id")
    summaries = pd.DataFrame({
        "cluster_id": list(summ.groups.keys()),
    })
    summaries["cluster_name"] = summaries["cluster_id"].map(names)
    summaries["keywords"] = summaries["cluster_id"].map(lambda c: ", ".join(keywords.get(c, [])))
    summaries["size"] = summaries["cluster_id"].map(summ.size())
    summaries["share"] = (summaries["size"] / max(len(clusters), 1)).round(4)
    summaries["outliers"] = summaries["cluster_id"].map(summ["is_outlier"].sum()).astype(int)
    summaries["general_share"] = summaries["cluster_id"].map(
        summ["template_id"].apply(lambda s: float((s == "general").mean()))).round(4)
    summaries["top_templates"] = summaries["cluster_id"].map(
        summ["template_id"].apply(lambda s: ", ".join(f"{k} ({v})" for k, v in s.value_counts().head(3).items())))

    n_clusters = int((summaries["cluster_id"] != -1).sum())
    outlier_share = float(result.is_outlier.mean()) if len(result.is_outlier) else 0.0
    top = summaries.sort_values(["size", "cluster_id"], ascending=[False, True]).head(10)
    yield dg.Output(clusters, "generation_clusters", metadata={
        "dagster/row_count": len(clusters),
        "algorithm": config.algorithm,
        "cluster_count": n_clusters,
        "outlier_share": round(outlier_share, 4),
        "outlier_strategy": config.outlier_strategy,
        "clustering_seconds": round(elapsed, 2),
        "fit_rows": min(len(clusters), config.fit_sample_cap) if config.fit_sample_cap else len(clusters),
        "top_clusters": counts_table(dict(zip(top["cluster_name"], top["size"])), "cluster", "rows"),
    })
    yield dg.Output(summaries, "cluster_summaries", metadata={
        "dagster/row_count": len(summaries),
        "cluster_count": n_clusters,
        "largest_cluster_share": float(summaries["share"].max()) if len(summaries) else 0.0,
        "clusters": dg.MetadataValue.md(top[["cluster_id", "cluster_name", "size", "outliers", "top_templates"]]
                                        .to_markdown(index=False) if len(top) else "_no clusters_"),
    })
    yield from cluster_checks(clusters, summaries, filtered_generations["generation_id"],
                              config.max_outlier_share, config.max_cluster_share)
