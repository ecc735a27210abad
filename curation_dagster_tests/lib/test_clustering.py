import numpy as np
from sklearn.metrics import adjusted_rand_score

from curation_dagster.lib.clustering import ClusterSettings, cluster_embeddings
from curation_dagster.lib.naming import cluster_names


def blobs(n_per=60, k=4, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim)) * 4
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centers])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.repeat(np.arange(k), n_per)


def test_kmeans_finds_the_blobs_and_names_clusters():
    x, truth = blobs()
    words = ["invoice payment overdue", "interview candidate role", "meeting calendar slot", "refund order damaged"]
    docs = [f"{words[t]} please thanks" for t in truth]
    res = cluster_embeddings(x, docs, ClusterSettings(algorithm="kmeans", kmeans_k=4, fit_sample_cap=0))
    assert adjusted_rand_score(truth, res.cluster_id) > 0.95
    names = cluster_names(docs, res.cluster_id.tolist())
    assert sorted(names.values()) == sorted(" / ".join(sorted(w.split())) for w in words)


def test_capped_fit_assigns_every_row_and_ignores_input_order():
    x, truth = blobs(n_per=100)
    ids = [f"g{i:04d}" for i in range(len(x))]
    docs = [""] * len(x)
    s = ClusterSettings(algorithm="kmeans", kmeans_k=4, fit_sample_cap=80, seed=3)
    res = cluster_embeddings(x, docs, s, ids=ids)
    assert len(res.cluster_id) == len(x) and (res.cluster_id >= 0).all()
    assert adjusted_rand_score(truth, res.cluster_id) > 0.95  # 80 fitted rows are enough for the other 320
    perm = np.random.default_rng(1).permutation(len(x))
    res2 = cluster_embeddings(x[perm], docs, s, ids=[ids[i] for i in perm])
    back = np.empty_like(res2.cluster_id)
    back[perm] = res2.cluster_id
    assert adjusted_rand_score(res.cluster_id, back) == 1.0


def test_bucket_strategy_keeps_outliers_apart():
    x, _ = blobs(n_per=50, k=3)
    far = -x[:5]  # points opposite to a blob, far from every centroid
    xs = np.concatenate([x, far])
    ids = [f"g{i:04d}" for i in range(len(xs))]
    s = ClusterSettings(algorithm="kmeans", kmeans_k=3, fit_sample_cap=60, outlier_strategy="bucket", seed=2)
    res = cluster_embeddings(xs, [""] * len(xs), s, ids=ids)
    from curation_dagster.lib.text import stable_unit_hash

    keys = np.array([stable_unit_hash(2, "fit", i) for i in ids])
    in_fit = np.zeros(len(xs), bool)
    in_fit[np.argsort(keys, kind="stable")[:60]] = True
    far_assigned = ~in_fit[-5:]
    assert far_assigned.any()
    assert (res.cluster_id[-5:][far_assigned] == -1).all() and res.is_outlier[-5:][far_assigned].all()
    assert res.is_outlier[:150][~in_fit[:150]].mean() < 0.2  # most blob members beyond the sample stay in


def test_topic_model_round_trip_and_assignment():
    from curation_dagster.lib.topic_model import TopicModel, assign, fit_topic_model

    x, truth = blobs(n_per=80)
    ids = [f"g{i:04d}" for i in range(len(x))]
    created = [f"2026-11-0{1 + i % 3}" for i in range(len(x))]
    words = ["invoice payment overdue", "interview candidate role", "meeting calendar slot", "refund order damaged"]
    docs = [words[t] for t in truth]
    s = ClusterSettings(algorithm="kmeans", kmeans_k=4, fit_sample_cap=100, seed=4)
    model = fit_topic_model(ids, x, docs, s, created_at=created)
    assert model.fit_rows == 100 and len(model.cluster_ids) == 4 and model.fitted_through == "2026-11-03"
    again = TopicModel.from_frame(model.to_frame())
    assert again.version == model.version and np.allclose(again.centroids, model.centroids)
    labels, sim, outlier = assign(again, x)
    assert adjusted_rand_score(truth, labels) > 0.95 and outlier.mean() < 0.2
    assert {again.names[c] for c in labels} == {" / ".join(sorted(w.split())) for w in words}
    perm = np.random.default_rng(0).permutation(len(x))
    assert fit_topic_model([ids[i] for i in perm], x[perm], [docs[i] for i in perm], s).version == \
        fit_topic_model(ids, x, docs, s).version  # same rows and config, same model, whatever the order
