"""Topic clustering of the embedded pool: BERTopic (UMAP + HDBSCAN) by default, KMeans as an option.

Two levels. Topics are what people read and review (named, include/exclude, rename); HDBSCAN's
topics are kept between size bounds (a topic holding more than `max_topic_share` of the rows, or
fewer topics than `min_topics`, is split with KMeans), because on real pools it often finds a
handful of huge clusters. Cells are finer k-means cells inside each topic, about `cell_rows` pool
rows each, so their number follows the pool (thousands at hundreds of thousands of rows); the
sample balances its quota across cells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from curation_dagster.lib.registry import Registry, first_doc_line
from curation_dagster.lib.text import stable_unit_hash


@dataclass(frozen=True)
class ClusterSettings:
    algorithm: str = "bertopic"  # a name of CLUSTERING_ALGORITHMS with a topic-model fit: "bertopic" | "kmeans"
    seed: int = 42
    min_cluster_size: int = 15
    min_samples: int | None = None
    umap_n_neighbors: int = 15
    umap_n_components: int = 5
    kmeans_k: int = 24
    outlier_strategy: str = "reassign"  # "reassign" to nearest cluster (flag kept) | "bucket" (cluster -1)
    fit_sample_cap: int = 20_000  # the topic model fits on at most this many rows (seeded sample)
    min_topics: int = 8  # bertopic: fewer topics than this and the largest are split (KMeans, 2 at a time)
    max_topic_share: float = 0.15  # bertopic: a topic holding more of the rows is split into parts below it
    cell_rows: int = 25  # average pool rows per sampling cell inside a topic (0: one cell per topic)


@dataclass
class ClusterResult:
    cluster_id: np.ndarray  # int, -1 only with the bucket strategy
    probability: np.ndarray  # float in [0, 1]
    is_outlier: np.ndarray  # bool: the algorithm left the row unassigned
    fallback: str = ""  # why the configured fit did not run or found nothing ("" when it ran as configured)
    splits: str = ""  # which topics were split to keep them within the size bounds ("" when none)


@dataclass(frozen=True)
class ClusteringAlgorithm:
    """One clustering algorithm, under one name for the topic model and the experiments grid.

    `fit(embeddings, docs, settings) -> (labels, probability, fallback note)`: the topic model's fit
    (TopicModelConfig.algorithm takes the names that have one); label -1 = outlier. `min_rows(settings)`:
    fewer rows give one cluster of every row instead of a fit; `why_few`: the reason said then.
    `split`: the topic model keeps its topics within the size bounds (split_topics) after the fit.
    `grid(vectors, texts, seed=, k=, k_range=, arg=, **kwargs) -> (labels, params text)`: the experiments
    grid's run (kwargs from ExperimentConfig.algorithm_kwargs; `arg` the text after ':' of the spec,
    required when `argument` names it, e.g. sklearn:<ClassName>); `imports`: modules imported before
    the grid's clock starts."""

    name: str
    fit: Callable | None = None
    min_rows: Callable[[ClusterSettings], int] = lambda s: 3
    why_few: Callable[[int, ClusterSettings], str] | None = None
    split: bool = False
    grid: Callable | None = None
    imports: tuple[str, ...] = ()
    argument: str = ""


#: name -> algorithm, in registration order (`@topic_model_algorithm` / `@grid_algorithm` below)
CLUSTERING_ALGORITHMS: Registry[ClusteringAlgorithm] = Registry("clustering algorithm")


def _register(name: str, description: str, fn, **fields):
    old = CLUSTERING_ALGORITHMS.get(name) or ClusteringAlgorithm(name)
    CLUSTERING_ALGORITHMS.add(name, replace(old, **fields),
                              CLUSTERING_ALGORITHMS.descriptions.get(name) or description or first_doc_line(fn))
    return fn


def topic_model_algorithm(name: str, description: str = "", *, min_rows=None, why_few=None, split: bool = False):
    """Register the decorated `fit(embeddings, docs, settings) -> (labels, probability, fallback)` as
    the topic model's algorithm `name`."""
    def register(fn):
        extra = {"min_rows": min_rows} if min_rows is not None else {}
        return _register(name, description, fn, fit=fn, why_few=why_few, split=split, **extra)

    return register


def grid_algorithm(name: str, description: str = "", *, imports: tuple[str, ...] = (), argument: str = ""):
    """Register the decorated `run(vectors, texts, *, seed, k, k_range, arg, **kwargs) -> (labels,
    params)` as the experiments grid's algorithm `name` (the same name as the topic model's, if any)."""
    def register(fn):
        return _register(name, description, fn, grid=fn, imports=imports, argument=argument)

    return register


def has_fit(a: ClusteringAlgorithm) -> bool:
    return a.fit is not None


def has_grid(a: ClusteringAlgorithm) -> bool:
    return a.grid is not None


def topic_model_algorithms() -> tuple[str, ...]:
    """What TopicModelConfig.algorithm takes."""
    return CLUSTERING_ALGORITHMS.names(has_fit)


def grid_algorithms() -> tuple[str, ...]:
    """What ExperimentConfig.algorithms takes (`name` or `name:<argument>`)."""
    return CLUSTERING_ALGORITHMS.names(has_grid)


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Number clusters 0..k-1 by size (largest first), ties by first member, so ids are stable."""
    ids = [c for c in np.unique(labels) if c != -1]
    firsts = {c: int(np.argmax(labels == c)) for c in ids}
    order = sorted(ids, key=lambda c: (-int((labels == c).sum()), firsts[c]))
    mapping = {c: i for i, c in enumerate(order)}
    mapping[-1] = -1
    return np.array([mapping[c] for c in labels], dtype=np.int64)


def _fit_bertopic(embeddings: np.ndarray, docs: list[str], s: ClusterSettings) -> tuple[np.ndarray, np.ndarray]:
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    n = len(docs)
    umap_model = UMAP(
        n_neighbors=min(s.umap_n_neighbors, max(2, n - 1)),
        # spectral init needs n_components + 1 < rows
        n_components=min(s.umap_n_components, max(1, n - 2)),
        min_dist=0.0,
        metric="cosine",
        random_state=s.seed,
    )
    hdbscan_model = HDBSCAN(
        min_cluster_size=min(s.min_cluster_size, max(2, n // 2)),
        min_samples=s.min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=True,
    )
    model = BERTopic(
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=CountVectorizer(stop_words="english"),
        calculate_probabilities=False,
        verbose=False,
    )
    topics, probs = model.fit_transform(docs, embeddings)
    probs = np.asarray(probs if probs is not None else np.ones(n), dtype=float).reshape(n, -1).max(axis=1)
    return np.asarray(topics, dtype=np.int64), probs


@topic_model_algorithm("bertopic", min_rows=lambda s: max(3, s.umap_n_neighbors + 1), split=True,
                       why_few=lambda n, s: (f"{n} rows, not more than umap_n_neighbors={s.umap_n_neighbors} "
                                             "(UMAP + HDBSCAN need more)"))
def _topic_bertopic(embeddings: np.ndarray, docs: list[str], s: ClusterSettings):
    """UMAP + HDBSCAN through BERTopic, the default; the topic model keeps topics within min_topics / max_topic_share"""
    labels, prob = _fit_bertopic(embeddings, docs, s)
    return labels, prob, ("" if (labels != -1).any() else
                          f"HDBSCAN found no cluster in {len(labels)} rows: one cluster of every row, all flagged outliers")


def _fit_kmeans(embeddings: np.ndarray, s: ClusterSettings) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans

    k = max(1, min(s.kmeans_k, len(embeddings)))
    km = KMeans(n_clusters=k, random_state=s.seed, n_init=10).fit(embeddings)
    dist = km.transform(embeddings)
    # soft confidence: how much closer the assigned centroid is than the runner-up
    part = np.sort(dist, axis=1)
    prob = 1.0 - part[:, 0] / np.maximum(part[:, 1] if k > 1 else part[:, 0] + 1, 1e-9) if k > 1 else np.ones(len(dist))
    return km.labels_.astype(np.int64), np.clip(prob, 0.0, 1.0)


@topic_model_algorithm("kmeans")
def _topic_kmeans(embeddings: np.ndarray, docs: list[str], s: ClusterSettings):
    """KMeans with kmeans_k clusters, the count asked for (never split); the grid picks k by silhouette when kmeans_k is empty"""
    labels, prob = _fit_kmeans(embeddings, s)
    n = len(embeddings)
    return labels, prob, (f"{n} rows, fewer than kmeans_k={s.kmeans_k}: k={n}, each row its own cluster"
                          if n < s.kmeans_k else "")


def _kmeans_labels(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(x)))
    if k == 1:
        return np.zeros(len(x), np.int64)
    return KMeans(n_clusters=k, random_state=seed, n_init=3).fit(x).labels_.astype(np.int64)


def split_topics(embeddings: np.ndarray, labels: np.ndarray, max_share: float, min_topics: int,
                 seed: int) -> tuple[np.ndarray, str]:
    """Labels with every topic above `max_share` of the rows split by KMeans into parts below it, then
    the largest topic halved until there are `min_topics` (topics of fewer than 4 rows are left alone);
    and a readable note of what was split. -1 (bucketed outliers) is never split."""
    labels = labels.copy()
    n = int((labels != -1).sum())
    if n < 4:
        return labels, ""
    limit = max(2, int(max_share * n)) if 0 < max_share < 1 else n
    notes, next_id = [], int(labels.max()) + 1

    def split(c: int, parts: int) -> int:
        nonlocal next_id
        idx = np.flatnonzero(labels == c)
        sub = _kmeans_labels(embeddings[idx], parts, seed)
        made = len(np.unique(sub))
        for j in range(1, made):
            labels[idx[sub == j]] = next_id
            next_id += 1
        return made

    for c in sorted(int(c) for c in np.unique(labels) if c != -1):
        size = int((labels == c).sum())
        if size > limit:
            made = split(c, -(-size // limit))
            notes.append(f"{size} rows into {made}")
    while len([c for c in np.unique(labels) if c != -1]) < min_topics:
        ids, counts = np.unique(labels[labels != -1], return_counts=True)
        big = int(ids[np.argmax(counts)])
        if counts.max() < 4 or split(big, 2) < 2:
            break
        notes.append(f"{int(counts.max())} rows into 2 (fewer than min_topics={min_topics})")
    return labels, ("split " + "; ".join(notes)) if notes else ""


def fit_cells(embeddings: np.ndarray, labels: np.ndarray, clusters: list[int], cell_rows: int,
              scale: float, seed: int) -> dict[int, np.ndarray]:
    """Unit centroids of the sampling cells of each topic: k-means inside the topic with one cell per
    `cell_rows` rows of the pool (the fit rows times `scale`, the pool's size over the fit sample's),
    at most one cell per 2 fit rows. `cell_rows` 0 gives one cell per topic (its centroid)."""
    out = {}
    for c in clusters:
        x = embeddings[labels == c]
        k = 1 if cell_rows <= 0 else max(1, min(round(len(x) * scale / cell_rows), len(x) // 2))
        sub = _kmeans_labels(x, k, seed)
        out[c] = centroids(x, sub, sorted(np.unique(sub).tolist())).astype(np.float32)
    return out


def centroids(embeddings: np.ndarray, labels: np.ndarray, clusters: list[int]) -> np.ndarray:
    """Unit-length mean vector of each cluster's rows, in the order of `clusters`."""
    cents = np.stack([embeddings[labels == c].mean(axis=0) for c in clusters])
    return cents / np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)


def reassign_outliers(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give each -1 row the cluster whose centroid is most cosine-similar."""
    ids = sorted(c for c in set(labels.tolist()) if c != -1)
    if not ids or (labels != -1).all():
        return labels.copy()
    cents = centroids(embeddings, labels, ids)
    out = labels.copy()
    mask = labels == -1
    out[mask] = np.array(ids)[np.argmax(embeddings[mask] @ cents.T, axis=1)]
    return out


def fit_sample_indices(ids: list[str], cap: int, seed: int) -> np.ndarray:
    """Sorted positions of the rows to fit on: all of them, or the `cap` with the lowest seeded hash
    of their id (the same rows whatever the input order)."""
    if not cap or len(ids) <= cap:
        return np.arange(len(ids))
    keys = np.array([stable_unit_hash(seed, "fit", i) for i in ids])
    return np.sort(np.argsort(keys, kind="stable")[:cap])


def cluster_embeddings(embeddings: np.ndarray, docs: list[str], s: ClusterSettings) -> ClusterResult:
    """Fit the configured algorithm (CLUSTERING_ALGORITHMS) on every row given (topic_model.fit_topic_model
    caps the rows).

    Too few rows for the algorithm degrade instead of failing, and `fallback` says how: fewer than
    its `min_rows` (3; for bertopic more than `umap_n_neighbors`) give one cluster of every row; kmeans
    with fewer rows than `kmeans_k` fits k = rows (each row its own cluster); HDBSCAN finding no
    cluster gives one cluster with every row flagged an outlier. No rows: an empty result."""
    n = len(embeddings)
    if n == 0:
        return ClusterResult(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool), "no rows to cluster")
    algo = CLUSTERING_ALGORITHMS.get(s.algorithm)
    if algo is None or algo.fit is None:
        raise ValueError(f"unknown clustering algorithm {s.algorithm!r}; use one of {', '.join(topic_model_algorithms())}")
    if s.outlier_strategy not in ("reassign", "bucket"):
        raise ValueError(f"unknown outlier_strategy {s.outlier_strategy!r}; use 'reassign' or 'bucket'")
    if n < algo.min_rows(s):
        why = (f"only {n} row{'s' if n > 1 else ''}" if n < 3 or algo.why_few is None else algo.why_few(n, s))
        return ClusterResult(np.zeros(n, np.int64), np.ones(n), np.zeros(n, bool),
                             f"{why}: one cluster of every row, no {s.algorithm} fit")
    labels, prob, fallback = algo.fit(embeddings, docs, s)
    labels = np.asarray(labels, dtype=np.int64)
    is_outlier = labels == -1
    if is_outlier.all():
        labels = np.zeros(n, np.int64)  # nothing dense enough: one cluster, every row flagged
        fallback = fallback or f"{s.algorithm} found no cluster in {n} rows: one cluster of every row, all flagged outliers"
    elif s.outlier_strategy == "reassign":
        labels = reassign_outliers(embeddings, labels)
    splits = ""
    if not fallback and algo.split:  # kmeans_k is the count the user asked for
        labels, splits = split_topics(embeddings, labels, s.max_topic_share, s.min_topics, s.seed)
    prob = np.where(is_outlier, 0.0, prob)
    return ClusterResult(_relabel_by_size(labels), prob, is_outlier, fallback, splits)


# ------------------------------------------------------------------------------------------------
# The experiments grid's runs (lib/experiments.cluster): kwargs from ExperimentConfig.algorithm_kwargs
# ------------------------------------------------------------------------------------------------


@grid_algorithm("kmeans", imports=("sklearn.cluster",))
def _grid_kmeans(vectors: np.ndarray, texts: list[str], *, seed: int, k: int | None, k_range, arg=None,
                 **kwargs) -> tuple[np.ndarray, str]:
    """The grid's kmeans: kmeans_k clusters, or the k of k_range with the best cosine silhouette."""
    from sklearn.cluster import KMeans

    from curation_dagster.lib.experiments import MIN_ROWS_PER_CLUSTER, silhouette

    n = len(vectors)
    kwargs.setdefault("n_init", 3)
    if k is not None:
        k = max(1, min(int(k), n))
        return KMeans(n_clusters=k, random_state=seed, **kwargs).fit_predict(vectors), f"k={k}"
    # clusters of fewer than ~10 rows on average are no use to per-cluster sampling
    candidates = sorted({int(c) for c in k_range if 2 <= int(c) <= max(2, n // MIN_ROWS_PER_CLUSTER) and int(c) < n})
    if not candidates:
        candidates = [max(1, min(2, n))]
    best = None
    scores = {}
    for c in candidates:
        labels = KMeans(n_clusters=c, random_state=seed, **kwargs).fit_predict(vectors)
        sil = silhouette(vectors, labels, seed)
        scores[c] = sil
        if best is None or (not np.isnan(sil) and (np.isnan(best[0]) or sil > best[0])):
            best = (sil, c, labels)
    tried = ", ".join(f"{c}:{sil:.3f}" for c, sil in scores.items())
    return best[2], f"k={best[1]} (best silhouette of {tried})"


@grid_algorithm("bertopic", imports=("bertopic", "hdbscan", "umap"))
def _grid_bertopic(vectors: np.ndarray, texts: list[str], *, seed: int, k=None, k_range=(), arg=None,
                   **kwargs) -> tuple[np.ndarray, str]:
    """The grid's bertopic: built exactly as the topic model builds it (_fit_bertopic), seeded; kwargs are ClusterSettings fields."""
    from dataclasses import fields

    known = {f.name for f in fields(ClusterSettings)}
    unknown = set(kwargs) - known
    if unknown:
        raise ValueError(f"bertopic: unknown settings {sorted(unknown)}; use ClusterSettings fields")
    s = replace(ClusterSettings(seed=seed), **kwargs)
    if len(vectors) < 3:
        return np.zeros(len(vectors), np.int64), "too few rows"
    labels, _ = _fit_bertopic(vectors, list(texts), s)
    return labels, (f"min_cluster_size={s.min_cluster_size}, umap_n_neighbors={s.umap_n_neighbors}, "
                    f"umap_n_components={s.umap_n_components}")


@grid_algorithm("hdbscan", imports=("hdbscan",))
def _grid_hdbscan(vectors: np.ndarray, texts: list[str], *, seed: int = 42, k=None, k_range=(), arg=None,
                  **kwargs) -> tuple[np.ndarray, str]:
    """HDBSCAN directly on the vectors, no UMAP (experiments grid only; kwargs go to hdbscan.HDBSCAN)"""
    from hdbscan import HDBSCAN

    # 15 as the topic model, smaller on small samples (1 in 50 rows, at least 5)
    kwargs.setdefault("min_cluster_size", max(2, min(15, max(5, len(vectors) // 50), len(vectors) // 2)))
    kwargs.setdefault("metric", "euclidean")  # on unit vectors, ordered as cosine distance
    labels = HDBSCAN(**kwargs).fit_predict(vectors)
    return np.asarray(labels, dtype=np.int64), ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))


@grid_algorithm("sklearn", imports=("sklearn.cluster",), argument="ClassName")
def _grid_sklearn(vectors: np.ndarray, texts: list[str], *, seed: int, k: int | None, k_range=(), arg=None,
                  **kwargs) -> tuple[np.ndarray, str]:
    """'sklearn:<ClassName>', any sklearn.cluster class with fit_predict (experiments grid only)"""
    import importlib
    import inspect

    name = arg
    module = importlib.import_module("sklearn.cluster")
    cls = getattr(module, name, None) if name and not name.startswith("_") else None
    if not inspect.isclass(cls) or not hasattr(cls, "fit_predict"):
        raise ValueError(f"sklearn.cluster has no clustering class {name!r}")
    params = inspect.signature(cls).parameters
    if "random_state" in params:
        kwargs.setdefault("random_state", seed)
    if k is not None and "n_clusters" in params:
        kwargs.setdefault("n_clusters", min(int(k), len(vectors)))
    labels = cls(**kwargs).fit_predict(vectors)
    return np.asarray(labels, dtype=np.int64), ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items())) or "defaults"
