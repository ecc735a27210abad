"""The topic model (fit rarely) and the assignment of the pool to its clusters (every refresh)."""

import time

import dagster as dg
import pandas as pd

from curation_dagster.defs.clustering.checks import CHECK_SPECS, TOPIC_MODEL_SPECS, cluster_checks, topic_model_checks
from curation_dagster.defs.clustering.config import ClusterConfig, TopicModelConfig
from curation_dagster.defs.llm import LLMEndpointResource, llm_metadata
from curation_dagster.defs.metadata import counts_table
from curation_dagster.defs.partitions import OWNERS, POOL_VECTORS_IN, REFIT_REASON_TAG, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.pool_status import REJECTED_RULES_IN, empty_pool_failure
from curation_dagster.lib.embedding import load_model
from curation_dagster.lib.naming import NAMING_METHODS
from curation_dagster.lib.cluster_tables import assignment_table, cluster_summary_table, drift_since_fit
from curation_dagster.lib.frames import embedding_matrix, with_embeddings
from curation_dagster.lib.topic_model import TopicModel, fit_topic_model

#: What to do about an empty pool, in every pool stage's failure.
FIX_EMPTY_POOL = ("Fix the filter config or the source, re-materialize those days (daily_curation_job), "
                  "then refit topic_model and refresh the pool.")


def _pool(deduplicated: pd.DataFrame, embeddings: pd.DataFrame) -> pd.DataFrame:
    # sorted by id so results never depend on load order
    pool = with_embeddings(deduplicated, embeddings)
    return pool.sort_values("generation_id", kind="mergesort").reset_index(drop=True)


@dg.asset(group_name="clustering", owners=OWNERS, kinds={"bertopic", STORAGE_KIND}, pool=WAREHOUSE_POOL,
          check_specs=TOPIC_MODEL_SPECS,
          ins={"rejected_generations": REJECTED_RULES_IN, "generation_embeddings": POOL_VECTORS_IN})
def topic_model(context: dg.AssetExecutionContext, config: TopicModelConfig, llm: LLMEndpointResource,
                deduplicated_generations: pd.DataFrame, generation_embeddings: pd.DataFrame,
                rejected_generations: pd.DataFrame):
    """The fitted topic model: one row per cluster with its readable name, c-TF-IDF keywords and centroid.

    Names (config `naming`): 'keybert_mmr' by default, 2-3 distinct words such as "Invoice · Delayed ·
    Refund" (c-TF-IDF words re-ranked with the packaged embedding model, offline); 'ctfidf' for the
    plain keyword label; 'llm' for names from the OpenAI-compatible endpoint of the `llm` resource
    (CURATION_LLM_* env vars; unset, every other naming still works and 'llm' fails before the fit).
    Its answers are cached (a refit on the same rows asks nothing again); the llm_* metadata counts
    calls, cache hits, failures and tokens.

    Fitting (BERTopic: UMAP + HDBSCAN, or KMeans) runs on a seeded sample of at most `fit_sample_cap`
    pool rows, and only when this asset is materialized: by `topic_model_job` (weekly schedule), by the
    drift sensor when new rows stop fitting the clusters, or by hand. The reason is in the metadata.
    Daily refreshes only assign rows to these centroids, which is cheap.

    An empty pool (every row rejected, or no day materialized) fails with the cause and the per-rule
    rejection counts (the only use of `rejected_generations`: its rule and created_at columns), and
    leaves the previous model in place. A pool of fewer rows than the algorithm
    needs (1-2 rows, no more than `umap_n_neighbors`, fewer than `kmeans_k`) gives one cluster, or one
    per row, and the `fit_fallback` metadata says so.
    """
    if config.naming not in NAMING_METHODS:
        raise dg.Failure(f"unknown naming {config.naming!r}; use one of {', '.join(NAMING_METHODS)}")
    client = None
    if config.naming == "llm":  # before the (long) fit: naming='llm' without an endpoint is a configuration error
        client, why = llm.client("naming='llm'", hint="or use naming='keybert_mmr'",
                                 timeout_s=config.llm_timeout_s, max_retries=config.llm_max_retries)
        if client is None:
            raise dg.Failure(f"the `llm` resource is not configured: {why}")
    pool = _pool(deduplicated_generations, generation_embeddings)
    if pool.empty:
        raise empty_pool_failure(context, rejected_generations, "cannot fit the topic model",
                                 f"The previous topic model (if any) was left in place. {FIX_EMPTY_POOL}")
    # the model generation_embeddings loads (lru_cache: one copy per process)
    embedder = load_model(config.naming_model) if config.naming != "ctfidf" else None
    docs = pool[config.naming_field].fillna("").astype(str).tolist()
    t0 = time.perf_counter()
    model = fit_topic_model(pool["generation_id"].tolist(), embedding_matrix(pool), docs, config.to_settings(),
                            created_at=[str(t) for t in pool["created_at"]], naming=config.naming,
                            embedding_model=embedder, llm=client)
    elapsed = time.perf_counter() - t0
    if model.naming_fallbacks:
        context.log.warning(f"LLM naming kept the keyword label of {len(model.naming_fallbacks)} cluster(s): "
                            + "; ".join(f"{c}: {why}" for c, why in sorted(model.naming_fallbacks.items())))
    if client is not None and client.usage.cache_error:
        context.log.warning(f"the LLM response cache was not used: {client.usage.cache_error}")
    if model.fit_fallback:
        context.log.warning(f"topic model fit on {model.fit_rows} rows degraded: {model.fit_fallback}")
    frame = model.to_frame()
    yield dg.Output(frame, metadata={
        **topic_model_metadata(model, frame, len(pool), elapsed),
        "refit_reason": context.run.tags.get(REFIT_REASON_TAG, "manual or first fit"),
        "algorithm": config.algorithm,
        **({"naming_llm_model": client.model, "naming_llm_fallbacks": len(model.naming_fallbacks),
            **llm_metadata(client)} if client else {}),
    })
    yield from topic_model_checks(frame)


def current_model(topic_model: pd.DataFrame, pool_rows: int) -> TopicModel:
    """The topic model to assign with, or a Failure naming what to do when none was ever fit."""
    if topic_model.empty:  # never fit (the table does not exist), or its fit failed the first time
        raise dg.Failure(description=(
            f"no topic model to assign the pool's {pool_rows:,} rows to: materialize topic_model first "
            "(topic_model_job, or `curation run`); its last run may have failed, see its runs"),
            metadata={"pool_rows": pool_rows})
    return TopicModel.from_frame(topic_model)


def topic_model_metadata(model, frame: pd.DataFrame, pool_rows: int, fit_seconds: float) -> dict:
    """The fit as the UI shows it: version, clusters and cells, what it was fit on and how it degraded."""
    return {
        "dagster/row_count": len(frame),
        "model_version": model.version,
        "naming": model.naming,
        "cluster_count": len(model.cluster_ids),
        "cell_count": model.cell_count,
        "topic_splits": model.topic_splits or "none",
        "pool_rows": pool_rows,
        "fit_rows": model.fit_rows,
        "fit_outlier_share": round(model.fit_outlier_share, 4),
        "fit_fallback": model.fit_fallback or "none",
        "outlier_similarity": round(model.outlier_similarity, 4),
        "fitted_through": model.fitted_through,
        "fit_seconds": round(fit_seconds, 2),
        "clusters": dg.MetadataValue.md(frame[["cluster_id", "cluster_name", "keywords"]].to_markdown(index=False)),
    }


@dg.multi_asset(
    outs={
        "generation_clusters": dg.AssetOut(
            description=(
                "Topic cluster of every kept generation in the pool: the most similar centroid of the "
                "current topic model, with `cluster_name`, `probability` (cosine similarity) and "
                "`is_outlier` (less similar to every centroid than the model's threshold; with the "
                "default 'reassign' strategy it keeps its nearest cluster but stays flagged), and "
                "`cell_id`, its sampling cell: the nearest of the topic's finer k-means cells, across "
                "which the sample balances its quota."
            ),
            owners=OWNERS, kinds={"bertopic", STORAGE_KIND},
        ),
        "cluster_summaries": dg.AssetOut(
            description="One row per cluster: readable name, c-TF-IDF keywords, size, sampling cells, share, outliers, templates.",
            owners=OWNERS, kinds={STORAGE_KIND},
        ),
    },
    group_name="clustering",
    pool=WAREHOUSE_POOL,
    check_specs=CHECK_SPECS,
    # rejected_generations only to name the cause of an empty pool
    ins={"rejected_generations": REJECTED_RULES_IN, "generation_embeddings": POOL_VECTORS_IN},
)
def cluster_generations(context: dg.AssetExecutionContext, config: ClusterConfig,
                        deduplicated_generations: pd.DataFrame, generation_embeddings: pd.DataFrame,
                        topic_model: pd.DataFrame, rejected_generations: pd.DataFrame):
    """Step `cluster_generations` (run-config key; settings-file section `clusters`): every pool row
    assigned to its nearest topic of the current topic_model and to a sampling cell inside it,
    published as generation_clusters (per row) and cluster_summaries (per topic)."""
    pool = _pool(deduplicated_generations, generation_embeddings)
    if pool.empty:  # nothing to assign: fail with the cause (sample and export are skipped, the export kept)
        raise empty_pool_failure(context, rejected_generations, "no rows to cluster",
                                 f"The previous clusters, sample and export were left in place. {FIX_EMPTY_POOL}")
    model = current_model(topic_model, len(pool))
    t0 = time.perf_counter()
    clusters = assignment_table(model, pool, embedding_matrix(pool))
    elapsed = time.perf_counter() - t0
    summaries = cluster_summary_table(model, clusters, pool["template_id"])
    # drift signal: how well rows generated after the fit match the clusters
    new, drift = drift_since_fit(pool["created_at"], clusters["is_outlier"], model.fitted_through)
    n_clusters = int((summaries["cluster_id"] != -1).sum())
    outlier_share = float(clusters["is_outlier"].mean()) if len(clusters) else 0.0
    top = summaries.sort_values(["size", "cluster_id"], ascending=[False, True]).head(10)
    yield dg.Output(clusters, "generation_clusters", metadata={
        "dagster/row_count": len(clusters),
        "model_version": model.version,
        "cluster_count": n_clusters,
        "cell_count": int(clusters["cell_id"].nunique()),
        "outlier_share": round(outlier_share, 4),
        "rows_since_fit": int(new.sum()),
        "new_rows_outlier_share": round(drift, 4),
        "refit_threshold": config.refit_outlier_share,
        "assignment_seconds": round(elapsed, 3),
        "top_clusters": counts_table(dict(zip(top["cluster_name"], top["size"])), "cluster", "rows"),
    })
    yield dg.Output(summaries, "cluster_summaries", metadata={
        "dagster/row_count": len(summaries),
        "cluster_count": n_clusters,
        "largest_cluster_share": float(summaries["share"].max()) if len(summaries) else 0.0,
        "clusters": dg.MetadataValue.md(top[["cluster_id", "cluster_name", "size", "outliers", "top_templates"]]
                                        .to_markdown(index=False) if len(top) else "_no clusters_"),
    })
    yield from cluster_checks(clusters, summaries, deduplicated_generations["generation_id"],
                              config.max_outlier_share, config.max_cluster_share,
                              drift, int(new.sum()), config.refit_outlier_share)
