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
    res = cluster_embeddings(x, docs, ClusterSettings(algorithm="kmeans", kmeans_k=4))
    assert adjusted_rand_score(truth, res.cluster_id) > 0.95
    names = cluster_names(docs, res.cluster_id.tolist())
    assert sorted(names.values()) == sorted(" / ".join(sorted(w.split())) for w in words)


def test_capped_fit_assigns_every_row_and_ignores_input_order():
    from curation_dagster.lib.topic_model import assign, fit_topic_model

    x, truth = blobs(n_per=100)
    ids = [f"g{i:04d}" for i in range(len(x))]
    docs = [""] * len(x)
    s = ClusterSettings(algorithm="kmeans", kmeans_k=4, fit_sample_cap=80, seed=3)
    model = fit_topic_model(ids, x, docs, s)
    labels, _, _ = assign(model, x)
    assert model.fit_rows == 80 and (labels >= 0).all()
    assert adjusted_rand_score(truth, labels) > 0.95  # 80 fitted rows are enough for the other 320
    perm = np.random.default_rng(1).permutation(len(x))
    model2 = fit_topic_model([ids[i] for i in perm], x[perm], docs, s)
    assert model2.version == model.version and np.allclose(model2.centroids, model.centroids)


def test_bucket_strategy_keeps_outliers_apart():
    from curation_dagster.lib.topic_model import assign, fit_topic_model

    x, _ = blobs(n_per=50, k=3)
    far = -x[:5]  # points opposite to a blob, far from every centroid
    s = ClusterSettings(algorithm="kmeans", kmeans_k=3, outlier_strategy="bucket", seed=2)
    model = fit_topic_model([f"g{i:04d}" for i in range(len(x))], x, [""] * len(x), s)
    labels, _, outlier = assign(model, np.concatenate([x, far]))
    assert (labels[-5:] == -1).all() and outlier[-5:].all()
    assert outlier[:150].mean() < 0.1  # blob members stay in their clusters


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
