"""The dataset report page: every section, inline PNGs only, no link outside the file."""

import base64
import re

import numpy as np
import pandas as pd
import pytest

from curation_dagster.lib.report import (PNG_SIGNATURE, SECTIONS, map_points, project_2d, rejection_counts,
                                         render_report, review_counts, thumbnail_png)

DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
URL = re.compile(r"https?://", re.I)


def frames(n: int = 200, clusters: int = 4, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, 384)) * 3
    cid = np.arange(n) % clusters
    vecs = centers[cid] + rng.normal(size=(n, 384))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [f"g{i:04d}" for i in range(n)]
    created = pd.to_datetime([f"{DAYS[i % 3]} 0{i % 10}:00:00" for i in range(n)], utc=True)
    templates = np.where(np.arange(n) % 2 == 0, "general", np.where(np.arange(n) % 3 == 0, "sql", "summary"))
    names = {c: f"topic <{c}> & keywords" for c in range(clusters)}
    pool = pd.DataFrame({"generation_id": ids, "created_at": created, "template_id": templates,
                         "embedding": [list(v) for v in vecs]})
    cl = pd.DataFrame({"generation_id": ids, "cluster_id": cid, "cluster_name": [names[c] for c in cid],
                       "probability": 0.8, "is_outlier": np.arange(n) % 17 == 0, "model_version": "v1"})
    summ = cl.groupby("cluster_id").size().rename("size").reset_index()
    summ["cluster_name"] = summ["cluster_id"].map(names)
    summ["keywords"] = "alpha, beta, gamma"
    summ["share"] = summ["size"] / n
    summ["outliers"] = 1
    summ["general_share"] = 0.5
    summ["top_templates"] = "general (25), sql (10)"
    sampled = pool.iloc[::4].drop(columns="embedding").merge(cl[["generation_id", "cluster_id", "cluster_name"]])
    sampled["quality_score"] = 0.9
    sampled["category"] = np.where(sampled["template_id"] == "general", "general", "template_specific")
    rules = ["too_short", "pii_email", "refusal", "language"]
    rejected = pd.DataFrame({"generation_id": [f"r{i}" for i in range(60)],
                             "created_at": pd.to_datetime([f"{DAYS[i % 3]} 12:00:00" for i in range(60)]),
                             "rule": [rules[i % 4] if i % 5 else "too_short" for i in range(60)],
                             "reason": "because"})
    decisions = pd.DataFrame({"generation_id": ids[:20],
                              "state": (["accepted"] * 10 + ["rejected"] * 4 + ["edited"] * 3 + ["pending"] * 3),
                              "reviews": 2})
    experiments = pd.DataFrame({
        "backend": ["minilm", "minilm", "tfidf"], "algorithm": ["hdbscan", "kmeans", "kmeans"],
        "clusters": [12, 10, 10], "outlier_share": [0.12, 0.0, 0.0], "silhouette": [0.11, 0.08, 0.03],
        "davies_bouldin": [2.1, 2.6, 3.4], "npmi": [0.05, 0.04, 0.02], "diversity": [0.8, 0.75, 0.6],
        "largest_share": [0.2, 0.15, 0.3], "gini": [0.3, 0.2, 0.4], "ari": [0.7, 0.6, 0.3],
        "nmi": [0.75, 0.7, 0.4], "embed_seconds": [3.2, 3.2, 0.4], "cluster_seconds": [1.5, 0.2, 0.2],
        "texts_per_second": [120.0, 120.0, 900.0], "error": [None, None, "<script>x</script>"]})
    manifest = {"dataset": "finetuning_dataset", "rows": {"train": 45, "validation": 5, "total": 50},
                "created_at": "2026-11-04T00:00:00+00:00", "run_id": "abc", "source_partitions": DAYS,
                "changes_since_previous": {"added": 50, "dropped": 0},
                "review": {"reviewed_share": 0.4, "cohen_kappa": 0.61}}
    return dict(pool=pool, clusters=cl, summaries=summ, sampled=sampled, rejected=rejected, decisions=decisions,
                manifest=manifest, experiments=experiments)


@pytest.fixture(scope="module")
def report():
    return render_report(**frames(), target_examples=1_000, generated_at="2026-11-04T00:00:00+00:00")


def images_in(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def test_every_section_in_order_with_inline_pngs_and_no_urls(report):
    page = report.html
    positions = [page.find(f"<h2>{title}</h2>") for title in SECTIONS.values()]
    assert all(p > 0 for p in positions), dict(zip(SECTIONS.values(), positions))
    assert positions == sorted(positions)
    assert not URL.search(page)
    assert "<script" not in page and "&lt;script&gt;" in page  # data is escaped, never markup
    assert "topic &lt;0&gt; &amp; keywords" in page
    pngs = images_in(page)
    assert len(pngs) == 6  # map, clusters, mix, growth, rejections, review (the experiments are a table)
    assert len(pngs) == len(report.images) and all(p.startswith(PNG_SIGNATURE) for p in pngs)
    assert all(p.startswith(PNG_SIGNATURE) for p in report.images.values())
    assert {"map", "clusters", "mix", "growth", "rejections", "review"} <= set(report.images)
    assert "hdbscan" in page and "silhouette" in page  # the experiment grid


def test_summary_counts(report):
    s = report.summary
    assert s["pool_rows"] == 200 and s["map_points"] == 200 and s["map_method"] == "umap"
    assert s["clusters"] == 4 and s["sampled_examples"] == 50 and s["rejected_rows"] == 60
    assert s["reviewed_examples"] == 20 and s["shipped_rows"] == 50 and s["experiments"] == 3
    assert s["progress"] == 0.05


def test_no_reviews_no_experiments_no_manifest_give_notes_not_failures():
    f = frames(n=40)  # < 50 rows: PCA
    rep = render_report(f["pool"], f["clusters"], f["summaries"], f["sampled"], f["rejected"].iloc[:0],
                        pd.DataFrame(), None, None)
    assert "No reviews yet" in rep.html
    assert "materialize clustering_experiments" in rep.html
    assert "No rejected rows" in rep.html and "not exported" in rep.html
    assert rep.summary["map_method"] == "pca" and rep.summary["reviewed_examples"] == 0
    assert "review" not in rep.images and "rejections" not in rep.images
    assert all(f"<h2>{t}</h2>" in rep.html for t in SECTIONS.values())
    assert not URL.search(rep.html)


def test_empty_everything_still_renders():
    empty = pd.DataFrame()
    rep = render_report(empty, empty, empty, empty, empty, empty)
    assert all(f"<h2>{t}</h2>" in rep.html for t in SECTIONS.values())
    assert rep.summary["pool_rows"] == 0 and rep.summary["sampled_examples"] == 0


def test_map_cap_keeps_sampled_examples_and_is_seeded():
    f = frames(n=200)
    a, method, total, _ = map_points(f["pool"], f["clusters"], f["sampled"], cap=80, seed=3)
    b, _, _, _ = map_points(f["pool"], f["clusters"], f["sampled"], cap=80, seed=3)
    assert total == 200 and len(a) == 80 and method == "umap"
    assert set(f["sampled"]["generation_id"]) <= set(a["generation_id"])
    assert a["generation_id"].tolist() == b["generation_id"].tolist()
    assert np.allclose(a[["x", "y"]].to_numpy(), b[["x", "y"]].to_numpy())


def test_small_projections():
    assert project_2d(np.zeros((0, 4)))[0].shape == (0, 2)
    assert project_2d(np.ones((2, 4)))[0].shape == (2, 2)
    coords, method = project_2d(np.random.default_rng(0).normal(size=(10, 8)))
    assert coords.shape == (10, 2) and method == "pca"


def test_rejections_and_reviews_tables():
    f = frames()
    counts = rejection_counts(f["rejected"])
    assert list(counts.index) == DAYS and counts.to_numpy().sum() == 60
    assert counts.columns[0] == "too_short"  # most frequent first
    assert review_counts(pd.DataFrame()) == {}
    assert review_counts(pd.DataFrame({"state": ["accepted", "weird"]})) == {
        "accepted": 1, "edited": 0, "rejected": 0, "adjudication": 0, "pending": 0, "weird": 1}


def test_thumbnail_is_a_small_png(report):
    small = thumbnail_png(report.images["map"], max_width=400, max_bytes=150_000)
    assert small.startswith(PNG_SIGNATURE) and len(small) < 150_000


def test_diversity_and_progress_come_from_the_manifest():
    f = frames()
    vendi = {"export": 12.0, "random_mean": 10.0, "random_std": 0.5, "ratio": 1.2, "z": 4.0}
    f["manifest"]["diversity"] = {
        "pool_rows": 200, "export_rows": 50, "random_samples": 10, "beats_random": True,
        "verdict": "beats random: lexical Vendi 1.20x random (z +4.0)",
        "instruments": {"lexical": {"name": "tfidf_svd", "vendi": vendi,
                                    "coverage": {"export": 0.9, "random_mean": 0.8, "random_std": 0.02,
                                                 "ratio": 1.125, "z": 5.0}}}}
    # the sampler's measured rate (5 a day from 2026-11-03): 950 to go -> 190 days
    f["manifest"]["progress"] = {"examples": 50, "target_examples": 1000, "progress": 0.05, "daily_rate": 5.0,
                                 "projected_date": "2027-05-12"}
    rep = render_report(**f, target_examples=1_000, generated_at="2026-11-04T00:00:00+00:00")
    page = rep.html
    section = page[page.find("<h2>Diversity against random</h2>"):page.find("<h2>Growth toward the target</h2>")]
    assert "beats random: lexical Vendi 1.20x random" in section
    assert "Vendi score" in section and "cell coverage" in section and "1.125" in section
    assert "1.20x (z +4.0)" in page  # the summary card
    assert rep.summary["beats_random"] is True and rep.summary["lexical_vendi_ratio"] == 1.2
    assert rep.summary["projected_date"] == "2027-05-12"
    assert "At 5 examples per source day the target is reached 2027-05-12" in page


def test_no_diversity_block_says_not_measured(report):
    section = report.html[report.html.find("<h2>Diversity against random</h2>"):]
    assert "Not measured" in section and report.summary["beats_random"] is None


def test_place_by_neighbours_is_the_similarity_weighted_mean_of_the_nearest():
    from curation_dagster.lib.report import place_by_neighbours
    known = np.array([[1, 0], [0, 1], [-1, 0]], dtype=np.float32)
    xy = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, 0.0]])
    # (1, 1) is equally like the first two (cosine 0.707 each) and unlike the third (-0.707 -> weight 0)
    got = place_by_neighbours(np.array([[1, 1]], np.float32), known, xy, k=3)
    assert np.allclose(got, [[5.0, 5.0]], atol=1e-4)
    # k = 1: the single most similar row's place
    assert np.allclose(place_by_neighbours(np.array([[0.9, 0.1]], np.float32), known, xy, k=1), [[10.0, 0.0]])


def test_map_layout_is_reused_for_the_same_topic_model_and_redone_otherwise():
    from curation_dagster.lib.report import MAX_PLACED_SHARE, MapLayout, layout_map
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(120, 8)).astype(np.float32)
    ids = [f"g{i}" for i in range(120)]
    coords, method, placed, layout = layout_map(ids[:100], vecs[:100], layout=None, key="v1")
    assert method == "umap" and placed == 0 and len(layout.places) == 100
    # a day later: 20 new rows (20 / 120 <= MAX_PLACED_SHARE), same topic model: old places kept
    assert 20 / 120 <= MAX_PLACED_SHARE
    again, method2, placed2, kept = layout_map(ids, vecs, layout=layout, key="v1")
    assert placed2 == 20 and method2 == "umap" and kept is layout
    assert np.array_equal(again[:100], coords)
    # a new copy of row 7 sits at the similarity-weighted mean place of row 7 and its 4 nearest rows
    twin_ids = ids[:100] + ["twin"]
    twin, _, _, _ = layout_map(twin_ids, np.vstack([vecs[:100], vecs[7:8]]), layout=layout, key="v1")
    unit = vecs[:100] / np.linalg.norm(vecs[:100], axis=1, keepdims=True)
    sims = unit @ unit[7]
    top = np.argsort(-sims)[:5]
    assert top[0] == 7
    w = np.clip(sims[top], 0, None) + 1e-6
    assert np.allclose(twin[-1], (coords[top] * w[:, None]).sum(0) / w.sum(), atol=1e-4)
    # the layout survives a round trip through the stored table
    back = MapLayout.from_frame(layout.to_frame())
    assert back.key == "v1" and back.method == "umap" and back.places["generation_id"].tolist() == ids[:100]
    # a refit (another key), or too many rows it does not hold: projected afresh
    assert layout_map(ids, vecs, layout=layout, key="v2")[2:4][0] == 0
    fresh = layout_map(ids[:60] + [f"n{i}" for i in range(60)], vecs, layout=layout, key="v1")
    assert fresh[2] == 0 and fresh[3] is not layout
