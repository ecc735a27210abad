import dagster as dg
from pydantic import Field

from curation_dagster.lib.clustering import ClusterSettings
from curation_dagster.lib.embedding import DEFAULT_MODEL
from curation_dagster.lib.llm_naming import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, LLMSettings, settings_from_values


class TopicModelConfig(dg.Config):
    """How the topic model is fit (only when topic_model is materialized: on its schedule, on drift, or by hand)."""

    algorithm: str = Field("bertopic", description="'bertopic' (UMAP + HDBSCAN) or 'kmeans'.")
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
    naming_field: str = Field("instruction", description="Text column whose c-TF-IDF keywords name clusters.")
    naming: str = Field("keybert_mmr", description=(
        "How clusters are named. 'keybert_mmr' (default, offline): the top 30 c-TF-IDF words re-ranked by "
        "similarity to the cluster's representative instructions with `naming_model`, near-synonyms and "
        "abbreviations removed by MMR, e.g. 'Invoice · Delayed · Refund'. 'ctfidf': the top 3 c-TF-IDF "
        "words, e.g. 'invoice / delayed / inv' (no model). 'llm': a 2-5 word name from the "
        "OpenAI-compatible endpoint in CURATION_LLM_BASE_URL / CURATION_LLM_MODEL / CURATION_LLM_API_KEY "
        "(env vars, never run config), keeping the keybert_mmr label where it gives none."))
    naming_model: str = Field(DEFAULT_MODEL, description=(
        "sentence-transformers model for keybert_mmr naming (the packaged embedding model, offline; "
        "loaded once per process)."))
    llm_timeout_s: float = Field(20.0, description="naming='llm': timeout of each request (seconds).")
    llm_max_retries: int = Field(1, description="naming='llm': retries of a request that timed out or got 429/5xx.")

    def to_settings(self) -> ClusterSettings:
        return ClusterSettings(
            algorithm=self.algorithm, seed=self.seed, min_cluster_size=self.min_cluster_size,
            umap_n_neighbors=self.umap_n_neighbors, umap_n_components=self.umap_n_components,
            kmeans_k=self.kmeans_k, outlier_strategy=self.outlier_strategy, fit_sample_cap=self.fit_sample_cap,
        )


def llm_settings_from_env(timeout_s: float = 20.0, max_retries: int = 1) -> LLMSettings:
    """The naming LLM endpoint from CURATION_LLM_BASE_URL, CURATION_LLM_MODEL and CURATION_LLM_API_KEY
    (read with dg.EnvVar when a run names clusters with naming='llm'; the key is never run config).
    ValueError naming the missing variables when the endpoint is not configured."""
    base_url, model, api_key = (dg.EnvVar(v).get_value() for v in (ENV_BASE_URL, ENV_MODEL, ENV_API_KEY))
    return settings_from_values(base_url, model, api_key, timeout_s=timeout_s, max_retries=max_retries)


class ClusterConfig(dg.Config):
    """Thresholds of the assignment stage's checks and of the refit (drift) signal."""

    max_outlier_share: float = Field(0.35, description="WARN when more of the pool is an outlier.")
    max_cluster_share: float = Field(0.2, description="WARN when one cluster holds more of the pool.")
    refit_outlier_share: float = Field(0.2, description=(
        "Drift signal: when more of the rows added since the fit are outliers, the topic model no longer "
        "fits new data; the WARN check fails and the drift sensor requests a refit."))
