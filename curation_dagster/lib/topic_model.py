"""A fitted topic model reduced to what assignment needs: one centroid and one name per cluster,
and the centroids of its sampling cells (lib.clustering: finer k-means cells inside each topic).

Fitting (UMAP + HDBSCAN through BERTopic, or KMeans) is the expensive step and runs only when the
model is refit; assigning rows is one matrix product against the centroids, so it costs O(rows).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from curation_dagster.lib.clustering import (ClusterSettings, centroids, cluster_embeddings, fit_cells,
                                             fit_sample_indices)
from curation_dagster.lib.naming import NAMING_METHODS, ctfidf_keywords, ctfidf_names, keybert_mmr_names
from curation_dagster.lib.text import sha256_hex


class EmptyPoolError(ValueError):
    """A topic model cannot be fit on no rows (an empty pool: every row rejected, or none yet)."""


@dataclass
class TopicModel:
    version: str
    cluster_ids: list[int]
    names: dict[int, str]
    keywords: dict[int, list[str]]
    centroids: np.ndarray  # (clusters, dim), unit length
    outlier_similarity: float  # below this cosine similarity to every centroid, a row is an outlier
    fit_rows: int
    fit_outlier_share: float
    outlier_strategy: str
    fitted_through: str  # newest created_at among the rows the model was fit on (ISO), "" if unknown
    # how the names were made (not stored in the table: names are presentation, the version is the fit)
    naming: str = "ctfidf"
    naming_fallbacks: dict[int, str] = field(default_factory=dict)  # llm: cluster -> why it kept the keyword label
    # how the fit degraded on too few rows (lib.clustering.ClusterResult.fallback); "" for a regular fit
    fit_fallback: str = ""
    # cluster -> unit centroids (cells, dim) of its sampling cells; a topic without any is one cell
    cells: dict[int, np.ndarray] = field(default_factory=dict)
    topic_splits: str = ""  # lib.clustering.ClusterResult.splits

    def cell_centroids(self, cluster_id: int) -> np.ndarray:
        got = self.cells.get(cluster_id)
        if got is None or not len(got):
            return self.centroids[self.cluster_ids.index(cluster_id)][None, :]
        return got

    def cell_offsets(self) -> dict[int, int]:
        """Global id of each topic's first cell: cells are numbered topic by topic, in cluster_id order."""
        out, at = {}, 0
        for c in self.cluster_ids:
            out[c] = at
            at += len(self.cell_centroids(c))
        return out

    @property
    def cell_count(self) -> int:
        return sum(len(self.cell_centroids(c)) for c in self.cluster_ids)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "model_version": self.version,
            "cluster_id": self.cluster_ids,
            "cluster_name": [self.names[c] for c in self.cluster_ids],
            "keywords": [", ".join(self.keywords.get(c, [])) for c in self.cluster_ids],
            "centroid": [c.astype(np.float32).tolist() for c in self.centroids],
            "outlier_similarity": self.outlier_similarity,
            "fit_rows": self.fit_rows,
            "fit_outlier_share": self.fit_outlier_share,
            "outlier_strategy": self.outlier_strategy,
            "fitted_through": self.fitted_through,
            # float32 bytes as base64: one string per topic travels through DuckDB and Snowflake alike
            "cell_count": [len(self.cell_centroids(c)) for c in self.cluster_ids],
            "cell_centroids": [base64.b64encode(np.ascontiguousarray(self.cell_centroids(c), np.float32).tobytes())
                               .decode() for c in self.cluster_ids],
        })

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> TopicModel:
        if df.empty:
            raise ValueError("the topic model table is empty: materialize topic_model first")
        df = df.sort_values("cluster_id")
        first = df.iloc[0]
        ids = [int(c) for c in df["cluster_id"]]
        cents = np.stack([np.asarray(v, dtype=np.float32) for v in df["centroid"]])
        cells = {}
        if "cell_centroids" in df.columns:  # a model fit before cells existed: one cell per topic
            for c, blob in zip(ids, df["cell_centroids"]):
                if isinstance(blob, str) and blob:
                    cells[c] = np.frombuffer(base64.b64decode(blob), dtype=np.float32).reshape(-1, cents.shape[1])
        return cls(
            version=str(first["model_version"]), cluster_ids=ids,
            names=dict(zip(ids, df["cluster_name"])),
            keywords={c: [k for k in str(kw).split(", ") if k] for c, kw in zip(ids, df["keywords"])},
            centroids=cents, cells=cells,
            outlier_similarity=float(first["outlier_similarity"]), fit_rows=int(first["fit_rows"]),
            fit_outlier_share=float(first["fit_outlier_share"]), outlier_strategy=str(first["outlier_strategy"]),
            fitted_through=str(first["fitted_through"]),
        )


def name_clusters(docs: list[str], labels: list[int], vectors: np.ndarray | None, naming: str = "keybert_mmr",
                  embedding_model=None, llm=None, llm_post=None) -> tuple[dict[int, str], str, dict[int, str]]:
    """(names, method used, llm fallbacks). keybert_mmr without `embedding_model` falls back to the c-TF-IDF
    label; llm needs `llm` (lib.llm.LLMSettings, or an LLMClient with its cache and counters) and keeps
    the offline label where it gives none."""
    if naming not in NAMING_METHODS:
        raise ValueError(f"unknown naming {naming!r}; use one of {', '.join(NAMING_METHODS)}")
    if naming == "llm" and llm is None:
        raise ValueError("naming='llm' needs the LLM endpoint settings (CURATION_LLM_BASE_URL, CURATION_LLM_MODEL)")
    if naming == "ctfidf" or embedding_model is None:
        names, used, ranked = ctfidf_names(docs, labels), "ctfidf", ctfidf_keywords(docs, labels, top_n=10)
    else:
        names, ranked = keybert_mmr_names(docs, labels, embedding_model, vectors)
        used = "keybert_mmr"
    if naming != "llm":
        return names, used, {}
    from curation_dagster.lib.llm_naming import llm_cluster_names
    from curation_dagster.lib.naming import representative_indices

    lab = np.asarray(labels)
    examples = {c: [docs[i] for i in representative_indices(np.flatnonzero(lab == c), vectors, 8)] for c in names}
    res = llm_cluster_names(ranked, examples, names, llm, post=llm_post)
    return res.names, "llm", res.fallbacks


def fit_topic_model(ids: list[str], vectors: np.ndarray, docs: list[str], s: ClusterSettings,
                    created_at: list | None = None, outlier_quantile: float = 0.05, naming: str = "keybert_mmr",
                    embedding_model=None, llm=None, llm_post=None) -> TopicModel:
    """Fit on (a seeded sample of at most fit_sample_cap of) the rows; keep centroids and names.

    Names (see name_clusters): `naming` "keybert_mmr" (the default; needs `embedding_model`, else the
    c-TF-IDF label), "ctfidf", or "llm" (needs `llm`). The version depends on the fit only, so renaming
    keeps reviewers' cluster decisions (keyed by version and cluster id).

    No rows raise EmptyPoolError. Too few rows for the algorithm (1-2 rows, no more than UMAP's
    neighbours, fewer than kmeans_k) degrade to one cluster or one cluster per row; `fit_fallback`
    says which, and then no fitted row is an outlier of the model (a quantile of a handful of
    similarities is no threshold)."""
    if len(ids) == 0:
        raise EmptyPoolError("cannot fit a topic model on 0 rows: the pool is empty")
    # fit in id order, so the model never depends on the order rows arrived in
    idx = np.array(sorted(fit_sample_indices(ids, s.fit_sample_cap, s.seed), key=lambda i: ids[i]), dtype=np.int64)
    fit_ids = [ids[i] for i in idx]
    x, fit_docs = vectors[idx], [docs[i] for i in idx]
    res = cluster_embeddings(x, fit_docs, s)
    clusters = sorted(c for c in set(res.cluster_id.tolist()) if c != -1)
    if not clusters:  # bucket strategy and nothing clustered: one cluster of everything
        res.cluster_id[:] = 0
        clusters = [0]
    cents = centroids(x, res.cluster_id, clusters)
    members = (res.cluster_id != -1) & ~res.is_outlier
    own = np.einsum("ij,ij->i", x[members], cents[np.searchsorted(clusters, res.cluster_id[members])])
    if not len(own):
        threshold = 0.0
    elif res.fallback and not res.is_outlier.any():  # degraded fit: every fitted row belongs
        threshold = float(own.min()) - 1e-6
    else:
        threshold = float(np.quantile(own, outlier_quantile))
    # cells follow the pool, not the fit sample: a pool of 200k fit on 20k still gets ~200k/cell_rows cells
    cells = fit_cells(x, res.cluster_id, clusters, s.cell_rows, len(ids) / max(len(idx), 1), s.seed)
    labels = res.cluster_id.tolist()
    names, used, fallbacks = name_clusters(fit_docs, labels, x, naming, embedding_model, llm, llm_post)
    keywords = ctfidf_keywords(fit_docs, labels, top_n=8)
    config = json.dumps({k: v for k, v in vars(s).items()}, sort_keys=True, default=str)
    version = sha256_hex(config + "\x1f" + "\x1f".join(sorted(fit_ids)))[:12]
    return TopicModel(
        version=version, cluster_ids=clusters, names={c: names[c] for c in clusters},
        keywords={c: keywords.get(c, []) for c in clusters}, centroids=cents.astype(np.float32),
        outlier_similarity=threshold,
        fit_rows=len(idx), fit_outlier_share=float(res.is_outlier.mean()) if len(res.is_outlier) else 0.0,
        outlier_strategy=s.outlier_strategy,
        fitted_through=str(max(created_at[i] for i in idx)) if created_at is not None and len(idx) else "",
        naming=used, naming_fallbacks={c: r for c, r in fallbacks.items() if c in clusters},
        fit_fallback=res.fallback, cells=cells, topic_splits=res.splits,
    )


def assign(model: TopicModel, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cluster_id, similarity, is_outlier) per row: nearest centroid by cosine similarity. With the
    bucket strategy, outliers get cluster -1; otherwise they keep their nearest cluster, flagged."""
    if len(vectors) == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    sims = vectors @ model.centroids.T
    best = np.argmax(sims, axis=1)
    sim = sims[np.arange(len(vectors)), best]
    outlier = sim < model.outlier_similarity
    labels = np.asarray(model.cluster_ids, dtype=np.int64)[best]
    if model.outlier_strategy == "bucket":
        labels = np.where(outlier, -1, labels)
    return labels, sim.astype(float), outlier


def assign_cells(model: TopicModel, vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Global sampling-cell id of each row: the most similar cell centroid inside its topic
    (rows of the outlier bucket, cluster -1, get cell -1)."""
    out = np.full(len(vectors), -1, dtype=np.int64)
    offsets = model.cell_offsets()
    for c in np.unique(labels):
        if c == -1:
            continue
        idx = np.flatnonzero(labels == c)
        out[idx] = offsets[int(c)] + np.argmax(vectors[idx] @ model.cell_centroids(int(c)).T, axis=1)
    return out
