from typing import Optional

import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.clustering import CLUSTERING_ALGORITHMS, ClusterSettings, has_fit
from curation_dagster.lib.embedding import DEFAULT_MODEL


class TopicModelConfig(dg.Config):
    """How the topic model is fit (only when topic_model is materialized: on its schedule, on drift, or by hand)."""

    algorithm: CLUSTERING_ALGORITHMS.literal(has_fit) = Field("bertopic", description=(
        "Clustering algorithm (lib/clustering.py): " + CLUSTERING_ALGORITHMS.help(has_fit) + "."))
    seed: int = 42
    min_cluster_size: int = Field(15, description="HDBSCAN min_cluster_size (bertopic).")
    umap_n_neighbors: int = 15
    umap_n_components: int = 5
    kmeans_k: int = Field(24, description="Number of clusters (kmeans).")
    outlier_strategy: str = Field("reassign", description=(
        "'reassign': outliers join their nearest cluster (is_outlier stays true); "
        "'bucket': they form cluster -1, sampled like any other cluster."))
    fit_sample_cap: int = Field(20_000, description=(
        "Fit on at most this many pool rows (seeded sample by id); keeps fitting time bounded as the pool grows."))
    min_topics: int = Field(8, description=(
        "bertopic: fewer topics than this and the largest is halved (KMeans) until there are this many; "
        "HDBSCAN finds a handful of clusters on real pools of a few thousand rows."))
    max_topic_share: float = Field(0.15, description=(
        "bertopic: a topic holding more of the fit rows is split (KMeans) into parts below this share."))
    cell_rows: int = Field(25, description=(
        "Average pool rows per sampling cell: each topic is cut into k-means cells of about this many rows "
        "(so the cell count follows the pool, e.g. 4,000 cells at 100,000 rows) and the sample balances its "
        "quota across cells. Cluster review stays on the named topics. 0: one cell per topic."))
    naming_field: str = Field("instruction", description="Text column whose c-TF-IDF keywords name clusters.")
    naming: str = Field("keybert_mmr", description=(
        "How clusters are named. 'keybert_mmr' (default, offline): the top 30 c-TF-IDF words re-ranked by "
        "similarity to the cluster's representative instructions with `naming_model`, near-synonyms and "
        "abbreviations removed by MMR, e.g. 'Invoice · Delayed · Refund'. 'ctfidf': the top 3 c-TF-IDF "
        "words, e.g. 'invoice / delayed / inv' (no model). 'llm': a 2-5 word name from the "
        "OpenAI-compatible endpoint of the `llm` resource (CURATION_LLM_BASE_URL / CURATION_LLM_MODEL / "
        "CURATION_LLM_API_KEY env vars, never run config), keeping the keybert_mmr label where it gives none."))
    naming_model: str = Field(DEFAULT_MODEL, description=(
        "sentence-transformers model for keybert_mmr naming (the packaged embedding model, offline; "
        "loaded once per process)."))
    llm_timeout_s: Optional[float] = Field(None, description=(
        "naming='llm': timeout of each request (seconds) for this run; unset uses the `llm` "
        "resource's timeout_s (20 s by default)."))
    llm_max_retries: Optional[int] = Field(None, description=(
        "naming='llm': retries of a request that timed out or got 429/5xx, for this run; unset uses the "
        "`llm` resource's max_retries (2 by default)."))

    def to_settings(self) -> ClusterSettings:
        return ClusterSettings(
            algorithm=self.algorithm, seed=self.seed, min_cluster_size=self.min_cluster_size,
            umap_n_neighbors=self.umap_n_neighbors, umap_n_components=self.umap_n_components,
            kmeans_k=self.kmeans_k, outlier_strategy=self.outlier_strategy, fit_sample_cap=self.fit_sample_cap,
            min_topics=self.min_topics, max_topic_share=self.max_topic_share, cell_rows=self.cell_rows,
        )


class ClusterConfig(dg.Config):
    """Thresholds of the assignment stage's checks and of the refit (drift) signal."""

    max_outlier_share: float = Field(0.35, description="WARN when more of the pool is an outlier.")
    max_cluster_share: float = Field(0.2, description="WARN when one cluster holds more of the pool.")
    refit_outlier_share: float = Field(0.2, description=(
        "Drift signal: when more of the rows added since the fit are outliers, the topic model no longer "
        "fits new data; the WARN check fails and the drift sensor requests a refit."))


TopicModelConfig = team_defaults(TopicModelConfig, "topic_model", check=lambda c: c.to_settings())
ClusterConfig = team_defaults(ClusterConfig, "clusters")
