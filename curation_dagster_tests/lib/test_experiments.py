import random

import numpy as np
import pandas as pd
import pytest

from curation_dagster.lib.experiments import (COLUMNS, ari, cluster, davies_bouldin, gini, largest_cluster_share,
                                              nmi, npmi_coherence, outlier_share, recommend, run_grid, silhouette,
                                              topic_diversity)


def blobs(n_per=50, k=4, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim)) * 6
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centers])
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.repeat(np.arange(k), n_per)


TOPICS = {
    "invoice": "invoice payment overdue amount billing account balance remittance",
    "interview": "interview candidate position hiring resume recruiter schedule panel",
    "refund": "refund order damaged package shipping return replacement courier",
    "party": "party birthday cake celebration guests balloons venue music",
}


def synthetic_texts(n_per=30, seed=0):
    rng = random.Random(seed)
    texts, truth = [], []
    for topic, words in TOPICS.items():
        vocab = words.split()
        for _ in range(n_per):
            texts.append(" ".join(rng.sample(vocab, 5)) + " thanks regards team")
            truth.append(topic)
    return texts, truth


@pytest.mark.parametrize("k", [4, None])
def test_separated_blobs_score_near_one(k):
    x, truth = blobs()
    labels, _, params = cluster("kmeans", x, [""] * len(x), seed=1, kmeans_k=k, k_range=(2, 3, 4, 6, 8))
    assert params.startswith("k=4")
    assert silhouette(x, labels) > 0.8
    assert ari(truth, labels) > 0.99 and nmi(truth, labels) > 0.99
    assert davies_bouldin(x, labels) < 0.5


def test_uniform_noise_scores_low():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(300, 32))
    truth = rng.integers(0, 4, size=300)
    labels, _, _ = cluster("kmeans", x, [""] * 300, seed=1, kmeans_k=4)
    assert silhouette(x, labels) < 0.2
    assert abs(ari(truth, labels)) < 0.05


def test_silhouette_ignores_noise_and_needs_two_clusters():
    x, truth = blobs(k=2)
    assert np.isnan(silhouette(x, np.zeros(len(x), int)))
    assert np.isnan(silhouette(x, np.full(len(x), -1)))
    noisy = truth.copy()
    noisy[:5] = -1
    assert silhouette(x, noisy) > 0.8
    assert outlier_share(noisy) == pytest.approx(5 / len(x))


def test_ground_truth_none_rows_are_left_out():
    truth = ["a", "a", None, "b", "b", float("nan")]
    pred = np.array([0, 0, 1, 1, 1, 0])
    assert ari(truth, pred) == pytest.approx(1.0) and nmi(truth, pred) == pytest.approx(1.0)


def test_npmi_always_together_beats_never_together():
    docs = ["apple banana"] * 10 + ["cherry"] * 10 + ["durian"] * 10 + ["apple banana cherry"] * 2
    together = npmi_coherence([["apple", "banana"]], docs)
    apart = npmi_coherence([["cherry", "durian"]], docs)
    assert together == pytest.approx(1.0)
    assert apart == pytest.approx(-1.0)
    assert together > npmi_coherence({0: ["apple", "cherry"]}, docs) > apart


def test_topic_diversity():
    assert topic_diversity([["a", "b", "c"], ["d", "e", "f"]]) == 1.0
    assert topic_diversity([["a", "b", "c"], ["a", "b", "d"]]) == pytest.approx(4 / 6)


def test_balance():
    assert gini([10, 10, 10, 10]) == pytest.approx(0.0)
    assert gini([1, 1, 1, 97]) > 0.6
    labels = np.array([0] * 6 + [1] * 2 + [-1] * 2)
    assert largest_cluster_share(labels) == pytest.approx(0.6)


def test_grid_fills_every_tfidf_cell_and_keeps_errors_in_their_cell():
    texts, truth = synthetic_texts()
    algorithms = ["kmeans", "hdbscan", "sklearn:AgglomerativeClustering", "sklearn:NoSuchThing", "nonsense"]
    table = run_grid(texts, truth, backends=["tfidf_svd", "no_such_backend"], algorithms=algorithms,
                     sample_cap=100, seed=3, kmeans_k=None, k_range=(2, 4, 6),
                     algorithm_kwargs={"hdbscan": {"min_cluster_size": 5},
                                       "sklearn:AgglomerativeClustering": {"n_clusters": 4}},
                     tfidf_components=16)
    assert list(table.columns) == COLUMNS
    assert len(table) == 10
    good = table[(table.backend == "tfidf_svd") & table.algorithm.isin(algorithms[:3])]
    assert good["error"].isna().all(), good["error"].tolist()
    metric_cols = ["silhouette", "davies_bouldin", "npmi", "diversity", "largest_share", "gini", "ari", "nmi",
                   "embed_seconds", "cluster_seconds", "texts_per_second"]
    assert good[metric_cols].notna().all().all()
    assert (good["clusters"] >= 2).all()
    km = good[good.algorithm == "kmeans"].iloc[0]
    assert km["clusters"] == 4 and km["ari"] > 0.9 and km["params"].startswith("k=4")
    bad = table[~table.index.isin(good.index)]
    assert bad["error"].notna().all()
    assert table.loc[(table.backend == "tfidf_svd") & (table.algorithm == "nonsense"), "error"].iloc[0].startswith(
        "clustering: ValueError: unknown clustering algorithm")
    assert table[table.backend == "no_such_backend"]["error"].str.startswith("embedding:").all()
    assert recommend(table)[0] == "tfidf_svd"


def test_grid_uses_given_vectors_and_samples_the_same_rows_by_id():
    x, truth = blobs(n_per=40)
    texts = [f"doc {t}" for t in truth]
    ids = [f"g{i:04d}" for i in range(len(x))]
    a = run_grid(texts, truth, ["minilm"], ["kmeans"], sample_cap=100, seed=5, vectors={"minilm": x},
                 kmeans_k=4, ids=ids)
    perm = np.random.default_rng(0).permutation(len(x))
    b = run_grid([texts[i] for i in perm], [truth[i] for i in perm], ["minilm"], ["kmeans"], sample_cap=100,
                 seed=5, vectors={"minilm": x[perm]}, kmeans_k=4, ids=[ids[i] for i in perm])
    assert a.loc[0, "embed_seconds"] == 0.0 and a.loc[0, "error"] is None
    assert a.loc[0, "ari"] > 0.99
    assert a.loc[0, "silhouette"] == pytest.approx(b.loc[0, "silhouette"], abs=1e-6)


def cell(backend, algorithm, outliers, sil, npmi, speed, clusters=10, error=None):
    return {"backend": backend, "algorithm": algorithm, "clusters": clusters, "outlier_share": outliers,
            "silhouette": sil, "npmi": npmi, "texts_per_second": speed, "error": error}


def test_recommend_follows_the_documented_rule():
    table = pd.DataFrame([
        cell("minilm", "kmeans", 0.0, 0.10, 0.05, 500),
        cell("minilm", "bertopic", 0.10, 0.20, 0.15, 100),       # best silhouette and npmi of the eligible
        cell("minilm", "hdbscan", 0.60, 0.50, 0.40, 300),        # better, but leaves 60% unassigned
        cell("tfidf_svd", "kmeans", 0.0, 0.90, 0.90, 900, error="clustering: boom"),
        cell("tfidf_svd", "sklearn:Birch", 0.0, 0.95, 0.95, 900, clusters=1),
    ])
    backend, algorithm, reason = recommend(table)
    assert (backend, algorithm) == ("minilm", "bertopic")
    assert "silhouette" in reason and "15%" in reason
    # a tie on the rank sum goes to the faster cell
    tie = pd.DataFrame([cell("a", "slow", 0.0, 0.3, 0.1, 10), cell("b", "fast", 0.0, 0.1, 0.3, 20)])
    assert recommend(tie)[:2] == ("b", "fast")
    # no cell within the outlier limit: all error-free cells are ranked, and the reason says so
    loose = pd.DataFrame([cell("a", "x", 0.5, 0.3, 0.3, 10), cell("b", "y", 0.4, 0.1, 0.1, 20)])
    backend, algorithm, reason = recommend(loose)
    assert (backend, algorithm) == ("a", "x") and "dropped" in reason
    with pytest.raises(ValueError):
        recommend(pd.DataFrame([cell("a", "x", 0.0, 0.3, 0.3, 10, error="boom")]))
