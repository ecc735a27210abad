"""Side-by-side comparison of embedding backends x clustering algorithms over the same texts.

One grid cell = one backend (how texts become vectors) and one algorithm (how vectors become
clusters). Every cell runs on the same seeded sample of at most `sample_cap` texts and is scored with
the same metrics, so the table says which combination suits the pool; the topic model itself keeps
using whatever its own config says (`TopicModelConfig.algorithm`).

Backends (spec strings): any name of ``lib.embedding.EMBEDDING_BACKENDS`` (the pipeline's
``sentence-transformers``, ``onnx-fp32``, ``onnx-int8``, ``model2vec``, and ``tfidf_svd``, which fits
TF-IDF -> TruncatedSVD(`tfidf_components`) on the sampled texts together), loaded as the pipeline
loads it from the packaged all-MiniLM-L6-v2, or ``<name>:<local model path>`` for another model.
Old names still parse: ``minilm`` is ``sentence-transformers`` (and the asset passes the pool's stored
vectors under it: no re-embedding, 0 s), ``sentence_transformers:<path>`` is
``sentence-transformers:<path>``. Given vectors or a callable for a spec are used instead of loading.
Model loading (ONNX export, model2vec distillation) is not timed, encoding is.

Algorithms (spec strings; extra keyword arguments per spec through `algorithm_kwargs`): any name of
``lib.clustering.CLUSTERING_ALGORITHMS`` with a grid run (its ``@grid_algorithm`` function there):

- ``kmeans``: KMeans with `kmeans_k` clusters, or, when it is None, the k of `k_range` (only values
  up to rows / 10) with the best cosine silhouette.
- ``bertopic``: UMAP + HDBSCAN through BERTopic, built exactly as the topic model builds it
  (``lib.clustering._fit_bertopic``), seeded; kwargs override ``ClusterSettings`` fields.
- ``hdbscan``: HDBSCAN directly on the vectors (no UMAP); kwargs go to ``hdbscan.HDBSCAN``. Unless
  they say otherwise, min_cluster_size is 15 as in the topic model, or rows / 50 (at least 5) on
  samples under 750 rows.
- ``sklearn:<ClassName>``: any class of ``sklearn.cluster`` (``fit_predict``), e.g.
  ``sklearn:AgglomerativeClustering``; `kmeans_k` fills ``n_clusters`` and the seed ``random_state``
  when the class takes them and the kwargs do not say otherwise.

Metrics per cell (label -1 = outlier / noise, left out of the geometric metrics):

- ``silhouette``: cosine silhouette of the clustered rows (NaN with fewer than 2 clusters); higher is better.
- ``davies_bouldin``: Davies-Bouldin index (Euclidean on the vectors); lower is better.
- ``npmi``: mean NPMI coherence of each cluster's top-10 c-TF-IDF keywords, counting co-occurrence
  per document over the sampled texts; in [-1, 1], higher is better.
- ``diversity``: unique share of all clusters' top-10 keywords (1.0 = no keyword shared).
- ``largest_share`` / ``gini``: share of all rows in the largest cluster, Gini of cluster sizes
  (0 = equal sizes).
- ``outlier_share``: share of rows labelled -1.
- ``ari`` / ``nmi``: agreement with ground-truth labels when given (rows whose label is None are left
  out; outliers count as one more cluster).
- ``embed_seconds`` (per backend, shared by its cells; model loading and imports not counted),
  ``cluster_seconds`` (imports not counted; the first UMAP fit of a process includes numba's
  compilation, ~10 s), and ``texts_per_second`` = rows / (embed_seconds + cluster_seconds).
- ``params``: what the cell ran with (e.g. the k kmeans chose and the silhouette of every k tried).

A cell that raises keeps its error text in ``error`` (its metrics stay empty); the grid goes on.

Recommendation rule (``recommend``):

1. Only cells without an error and with at least 2 clusters count.
2. Of those, only cells with ``outlier_share <= 0.15`` (MAX_OUTLIER_SHARE): a model that leaves many
   rows unassigned cannot drive per-cluster sampling. When no cell qualifies, all of step 1 count and
   the reason says so.
3. Rank the eligible cells by silhouette (descending) and by npmi (descending), rank 1 = best, NaN
   last; the smallest sum of the two ranks wins.
4. Ties: higher texts_per_second, then the earlier cell in the table.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from curation_dagster.lib.embedding import embedding_text
from curation_dagster.lib.frames import embedding_matrix

DEFAULT_BACKENDS = ("minilm", "model2vec", "tfidf_svd")
DEFAULT_ALGORITHMS = ("kmeans", "bertopic", "hdbscan")
DEFAULT_K_RANGE = (8, 12, 16, 20, 24, 32)
MAX_OUTLIER_SHARE = 0.15
TOP_KEYWORDS = 10
MIN_ROWS_PER_CLUSTER = 10
#: silhouette is O(rows^2); above this many rows it is estimated on a seeded sample of them
SILHOUETTE_SAMPLE = 3000
#: the same token rule as the cluster names (lib.naming): words of 3+ letters
TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b"

COLUMNS = ["backend", "algorithm", "clusters", "outlier_share", "silhouette", "davies_bouldin", "npmi",
           "diversity", "largest_share", "gini", "ari", "nmi", "embed_seconds", "cluster_seconds",
           "texts_per_second", "error", "params"]


# ------------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------------


def _clustered(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows not labelled -1, or None when they form fewer than 2 clusters (or every row is its own)."""
    labels = np.asarray(labels)
    mask = labels != -1
    x, y = np.asarray(vectors)[mask], labels[mask]
    n_labels = len(np.unique(y))
    if n_labels < 2 or n_labels >= len(y):
        return None
    return x, y


def silhouette(vectors: np.ndarray, labels: np.ndarray, seed: int = 0,
               sample_size: int = SILHOUETTE_SAMPLE) -> float:
    """Cosine silhouette of the rows not labelled -1; NaN with fewer than 2 clusters."""
    from sklearn.metrics import silhouette_score

    got = _clustered(vectors, labels)
    if got is None:
        return float("nan")
    x, y = got
    size = sample_size if sample_size and len(y) > sample_size else None
    return float(silhouette_score(x, y, metric="cosine", sample_size=size, random_state=seed))


def davies_bouldin(vectors: np.ndarray, labels: np.ndarray) -> float:
    """Davies-Bouldin index of the rows not labelled -1 (lower is better); NaN with fewer than 2 clusters."""
    from sklearn.metrics import davies_bouldin_score

    got = _clustered(vectors, labels)
    return float("nan") if got is None else float(davies_bouldin_score(*got))


def _keyword_lists(keywords_per_cluster) -> list[list[str]]:
    if isinstance(keywords_per_cluster, dict):
        return [list(v) for _, v in sorted(keywords_per_cluster.items())]
    return [list(v) for v in keywords_per_cluster]


def npmi_coherence(keywords_per_cluster, documents: Sequence[str], top_n: int = TOP_KEYWORDS) -> float:
    """Mean over clusters of the mean NPMI of every pair of the cluster's top keywords.

    p(w) and p(wi, wj) are shares of `documents` that contain the word / both words (lowercase tokens
    of 3+ letters). NPMI = log(p(wi,wj) / (p(wi) p(wj))) / -log p(wi,wj): -1 for words that never
    appear together, 1 for words that always do. Clusters with fewer than 2 keywords are skipped;
    NaN when no cluster has 2.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    lists = [[w.lower() for w in kw[:top_n]] for kw in _keyword_lists(keywords_per_cluster)]
    lists = [list(dict.fromkeys(kw)) for kw in lists]
    lists = [kw for kw in lists if len(kw) >= 2]
    docs = [d or "" for d in documents]
    if not lists or not docs:
        return float("nan")
    vocab = sorted({w for kw in lists for w in kw})
    vec = CountVectorizer(vocabulary=vocab, token_pattern=TOKEN_PATTERN, lowercase=True, binary=True)
    x = vec.transform(docs).astype(np.float64)
    n = float(len(docs))
    co = (x.T @ x).toarray() / n  # co[i, j] = share of docs with both words; co[i, i] = p(word)
    p = np.diag(co)
    index = {w: i for i, w in enumerate(vocab)}
    per_cluster = []
    for kw in lists:
        scores = []
        for a in range(len(kw)):
            for b in range(a + 1, len(kw)):
                i, j = index[kw[a]], index[kw[b]]
                pij = co[i, j]
                if pij <= 0:
                    scores.append(-1.0)
                elif pij >= 1.0:
                    scores.append(1.0)
                else:
                    scores.append(math.log(pij / (p[i] * p[j])) / -math.log(pij))
        per_cluster.append(float(np.mean(scores)))
    return float(np.mean(per_cluster))


def topic_diversity(keywords_per_cluster, top_k: int = TOP_KEYWORDS) -> float:
    """Unique words among every cluster's top-k keywords / all of those words (1.0: none shared)."""
    words = [w.lower() for kw in _keyword_lists(keywords_per_cluster) for w in kw[:top_k]]
    return float(len(set(words)) / len(words)) if words else float("nan")


def cluster_sizes(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    _, counts = np.unique(labels[labels != -1], return_counts=True)
    return counts


def largest_cluster_share(labels: np.ndarray) -> float:
    """Rows in the largest cluster (not -1) / all rows."""
    sizes = cluster_sizes(labels)
    return float(sizes.max() / len(labels)) if len(sizes) else 0.0


def gini(sizes: Sequence[float]) -> float:
    """Gini coefficient of cluster sizes: 0 for equal sizes, towards 1 when one cluster holds all."""
    x = np.sort(np.asarray(sizes, dtype=float))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * x).sum() / (n * x.sum()))


def outlier_share(labels: np.ndarray) -> float:
    labels = np.asarray(labels)
    return float((labels == -1).mean()) if len(labels) else 0.0


def _with_truth(labels_true, labels_pred) -> tuple[list, np.ndarray]:
    truth = list(labels_true)
    keep = np.array([t is not None and not (isinstance(t, float) and math.isnan(t)) for t in truth], dtype=bool)
    return [str(t) for t, k in zip(truth, keep) if k], np.asarray(labels_pred)[keep]


def ari(labels_true, labels_pred) -> float:
    """Adjusted Rand index against ground truth (rows whose truth is None left out)."""
    from sklearn.metrics import adjusted_rand_score

    t, p = _with_truth(labels_true, labels_pred)
    return float(adjusted_rand_score(t, p)) if len(t) else float("nan")


def nmi(labels_true, labels_pred) -> float:
    """Normalised mutual information against ground truth (rows whose truth is None left out)."""
    from sklearn.metrics import normalized_mutual_info_score

    t, p = _with_truth(labels_true, labels_pred)
    return float(normalized_mutual_info_score(t, p)) if len(t) else float("nan")


def cluster_keywords(docs: Sequence[str], labels: np.ndarray, top_n: int = TOP_KEYWORDS) -> dict[int, list[str]]:
    """Top c-TF-IDF keywords of each cluster (not -1): the formula and stop words of the cluster names."""
    from curation_dagster.lib.naming import ctfidf_keywords

    labels = np.asarray(labels)
    keep = labels != -1
    if not keep.any():
        return {}
    return ctfidf_keywords([d for d, k in zip(docs, keep) if k], labels[keep].tolist(), top_n=top_n)


# ------------------------------------------------------------------------------------------------
# Embedding backends
# ------------------------------------------------------------------------------------------------


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def tfidf_svd_vectors(texts: Sequence[str], n_components: int = 128, seed: int = 42) -> np.ndarray:
    """TF-IDF (sublinear tf, English stop words, words in 2+ texts) -> TruncatedSVD -> unit length."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [t or "" for t in texts]
    min_df = 2 if len(docs) >= 20 else 1
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=min_df,
                            token_pattern=TOKEN_PATTERN).fit_transform(docs)
    k = min(n_components, tfidf.shape[1] - 1, len(docs) - 1)
    if k < 1:
        raise ValueError(f"too few texts or words for tfidf_svd ({len(docs)} texts, {tfidf.shape[1]} words)")
    return _normalise(TruncatedSVD(n_components=k, random_state=seed).fit_transform(tfidf))


def embed(backend: str, texts: Sequence[str], seed: int = 42, *, vectors: np.ndarray | None = None,
          embedder: Callable[[list[str]], np.ndarray] | None = None,
          tfidf_components: int = 128) -> tuple[np.ndarray, float]:
    """(unit vectors, seconds) for one backend spec: a name (or alias) of lib.embedding's
    EMBEDDING_BACKENDS, optionally `:<model path>` (default the packaged model). Given `vectors` are
    used as they are (0 s); given `embedder` is called on the texts. Model loading is not timed,
    encoding is."""
    texts = list(texts)
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) != len(texts):
            raise ValueError(f"{backend}: {len(vectors)} vectors for {len(texts)} texts")
        return _normalise(vectors), 0.0
    if embedder is None:
        from curation_dagster.lib.embedding import DEFAULT_MODEL, EMBEDDING_BACKENDS, embed_texts

        name, path = EMBEDDING_BACKENDS.parse(backend)
        if path == "":
            raise ValueError(f"{backend!r}: no model path after ':' (use '{name}:<local model path>' or '{name}')")
        model = EMBEDDING_BACKENDS[name].load(path or DEFAULT_MODEL, "cpu", seed=seed,
                                              tfidf_components=tfidf_components)
        embedder = lambda b: embed_texts(model, b)  # noqa: E731
    t0 = time.perf_counter()
    out = _normalise(embedder(texts))
    return out, time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------
# Clustering algorithms
# ------------------------------------------------------------------------------------------------


def cluster(algorithm: str, vectors: np.ndarray, texts: Sequence[str], seed: int = 42, *,
            kmeans_k: int | None = None, k_range: Sequence[int] = DEFAULT_K_RANGE,
            kwargs: dict | None = None) -> tuple[np.ndarray, float, str]:
    """(labels with -1 = outlier, seconds, the parameters used) for one algorithm spec: a name of
    lib.clustering's CLUSTERING_ALGORITHMS with a grid run, `name:<argument>` for those taking one."""
    from curation_dagster.lib.clustering import CLUSTERING_ALGORITHMS, grid_algorithms

    kwargs = dict(kwargs or {})
    name, arg = CLUSTERING_ALGORITHMS.parse(algorithm)
    algo = CLUSTERING_ALGORITHMS[name]
    if algo.grid is None:
        raise ValueError(f"unknown clustering algorithm {algorithm!r} for the grid; one of {', '.join(grid_algorithms())}")
    if algo.argument and not arg:
        raise ValueError(f"{name} needs an argument: '{name}:<{algo.argument}>'")
    if arg is not None and not algo.argument:
        raise ValueError(f"{name} takes no argument after ':' ({algorithm!r})")
    for module in algo.imports:  # import time is not clustering time
        importlib.import_module(module)
    t0 = time.perf_counter()
    labels, params = algo.grid(vectors, list(texts), seed=seed, k=kmeans_k, k_range=k_range, arg=arg, **kwargs)
    return np.asarray(labels, dtype=np.int64), time.perf_counter() - t0, params


# ------------------------------------------------------------------------------------------------
# The grid
# ------------------------------------------------------------------------------------------------


def sample_indices(n: int, sample_cap: int | None, seed: int, ids: Sequence[str] | None = None) -> np.ndarray:
    """Sorted positions of the rows every cell sees: all, or `sample_cap` of them, seeded (by id when
    ids are given, so the same rows whatever the input order)."""
    if not sample_cap or n <= sample_cap:
        return np.arange(n)
    if ids is not None:
        from curation_dagster.lib.clustering import fit_sample_indices

        return fit_sample_indices(list(ids), sample_cap, seed)
    return np.sort(np.random.default_rng(seed).choice(n, size=sample_cap, replace=False))


def score(vectors: np.ndarray, labels: np.ndarray, keyword_docs: Sequence[str],
          labels_true: Sequence | None = None, seed: int = 42) -> dict:
    """Every metric of one clustering."""
    kws = cluster_keywords(keyword_docs, labels)
    sizes = cluster_sizes(labels)
    return {
        "clusters": int(len(sizes)),
        "outlier_share": outlier_share(labels),
        "silhouette": silhouette(vectors, labels, seed),
        "davies_bouldin": davies_bouldin(vectors, labels),
        "npmi": npmi_coherence(kws, keyword_docs),
        "diversity": topic_diversity(kws),
        "largest_share": largest_cluster_share(labels),
        "gini": gini(sizes),
        "ari": ari(labels_true, labels) if labels_true is not None else float("nan"),
        "nmi": nmi(labels_true, labels) if labels_true is not None else float("nan"),
    }


def _error_text(stage: str, exc: BaseException) -> str:
    return f"{stage}: {type(exc).__name__}: {exc}"[:500]


def grid_inputs(pool: pd.DataFrame, text_fields: Sequence[str], keyword_field: str) -> dict:
    """run_grid's inputs from a pool frame (sorted by id first, so results never depend on load order):
    texts to embed, ground truth (template_id, None where unknown), ids, keyword documents, and the
    pool's stored embedding as the "minilm" backend (never re-embedded)."""
    pool = pool.sort_values("generation_id", kind="mergesort").reset_index(drop=True)
    return {
        "texts": [embedding_text(r, tuple(text_fields)) for r in pool.to_dict("records")],
        "labels_true": [t if isinstance(t, str) and t else None for t in pool["template_id"]] if len(pool) else [],
        "ids": pool["generation_id"].tolist(),
        "keyword_docs": pool[keyword_field].fillna("").astype(str).tolist() if len(pool) else [],
        "vectors": {"minilm": embedding_matrix(pool)},
    }


def run_grid(texts: Sequence[str], labels_true: Sequence | None = None,
             backends: Sequence[str] = DEFAULT_BACKENDS, algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
             sample_cap: int | None = 3000, seed: int = 42, *,
             vectors: dict[str, np.ndarray] | None = None,
             embedders: dict[str, Callable[[list[str]], np.ndarray]] | None = None,
             kmeans_k: int | None = None, k_range: Sequence[int] = DEFAULT_K_RANGE,
             algorithm_kwargs: dict[str, dict] | None = None, tfidf_components: int = 128,
             ids: Sequence[str] | None = None, keyword_docs: Sequence[str] | None = None,
             log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per (backend, algorithm), in the order given; see the module docstring for the columns.

    `vectors` maps a backend spec to precomputed vectors aligned with `texts` (e.g. the pool's stored
    MiniLM embeddings for "minilm"); `embedders` maps a spec to a callable texts -> vectors.
    `keyword_docs` (aligned with `texts`, default the texts) name the clusters and score NPMI.
    `algorithm_kwargs` maps an algorithm spec to its extra keyword arguments.
    """
    texts = ["" if t is None else str(t) for t in texts]
    keyword_docs = texts if keyword_docs is None else ["" if t is None else str(t) for t in keyword_docs]
    if len(keyword_docs) != len(texts):
        raise ValueError("keyword_docs must be aligned with texts")
    if labels_true is not None and len(labels_true) != len(texts):
        raise ValueError("labels_true must be aligned with texts")
    idx = sample_indices(len(texts), sample_cap, seed, ids)
    s_texts = [texts[i] for i in idx]
    s_docs = [keyword_docs[i] for i in idx]
    s_truth = [list(labels_true)[i] for i in idx] if labels_true is not None else None
    vectors, embedders, algorithm_kwargs = vectors or {}, embedders or {}, algorithm_kwargs or {}
    rows = []
    for backend in backends:
        try:
            given = vectors.get(backend)
            x, embed_s = embed(backend, s_texts, seed,
                               vectors=np.asarray(given)[idx] if given is not None else None,
                               embedder=embedders.get(backend), tfidf_components=tfidf_components)
            embed_error = None
        except Exception as exc:  # noqa: BLE001 - a broken backend is a row of the table, not a crash
            x, embed_s, embed_error = None, float("nan"), _error_text("embedding", exc)
        for algorithm in algorithms:
            row = {c: float("nan") for c in COLUMNS}
            row.update(backend=backend, algorithm=algorithm, clusters=0, embed_seconds=embed_s,
                       error=embed_error, params="")
            if embed_error is None:
                try:
                    labels, cluster_s, params = cluster(algorithm, x, s_texts, seed, kmeans_k=kmeans_k,
                                                        k_range=k_range, kwargs=algorithm_kwargs.get(algorithm))
                    row.update(score(x, labels, s_docs, s_truth, seed), cluster_seconds=cluster_s, params=params)
                    total = embed_s + cluster_s
                    row["texts_per_second"] = len(idx) / total if total > 0 else float("nan")
                except Exception as exc:  # noqa: BLE001
                    row["error"] = _error_text("clustering", exc)
            if log:
                log(f"{backend} x {algorithm}: " + (row["error"] or f"{row['clusters']} clusters, "
                    f"silhouette {row['silhouette']:.3f}, {row['cluster_seconds']:.1f}s"))
            rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["clusters"] = table["clusters"].astype("int64")
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    return table


def recommend(table: pd.DataFrame, max_outlier_share: float = MAX_OUTLIER_SHARE) -> tuple[str, str, str]:
    """(backend, algorithm, reason) by the rule in the module docstring."""
    ok = table[table["error"].isna() & (table["clusters"] >= 2)]
    if ok.empty:
        raise ValueError("no grid cell produced at least 2 clusters without an error")
    eligible = ok[ok["outlier_share"] <= max_outlier_share]
    pool = f"{len(eligible)} cell(s) with outlier_share <= {max_outlier_share:.0%}"
    if eligible.empty:
        eligible = ok
        pool = (f"all {len(ok)} cell(s) without an error (none kept outlier_share <= {max_outlier_share:.0%}, "
                "so the outlier limit was dropped)")
    ranks = (eligible["silhouette"].rank(ascending=False, method="min", na_option="bottom")
             + eligible["npmi"].rank(ascending=False, method="min", na_option="bottom"))
    order = pd.DataFrame({"rank_sum": ranks, "speed": eligible["texts_per_second"].fillna(0.0),
                          "pos": np.arange(len(eligible))}, index=eligible.index)
    best = order.sort_values(["rank_sum", "speed", "pos"], ascending=[True, False, True]).index[0]
    row = eligible.loc[best]
    reason = (f"{row['backend']} x {row['algorithm']}: best silhouette + NPMI rank sum "
              f"({int(order.loc[best, 'rank_sum'])}) of {pool} "
              f"(silhouette {row['silhouette']:.3f}, npmi {row['npmi']:.3f}, outliers {row['outlier_share']:.1%}, "
              f"{row['clusters']} clusters, {row['texts_per_second']:.0f} texts/s); ties go to the faster cell.")
    return str(row["backend"]), str(row["algorithm"]), reason
