"""Assignment, cluster summaries, drift and pool dedup as tables, without Dagster."""

import numpy as np
import pandas as pd
import pytest

from curation_dagster.lib.cluster_tables import assignment_table, cluster_summary_table, drift_since_fit
from curation_dagster.lib.dedup_tables import across_days, deduplicate_pool_frame, pool_frame
from curation_dagster.lib.topic_model import TopicModel

S = float(np.sqrt(0.5))
MODEL = TopicModel(version="v1", cluster_ids=[10, 20], names={10: "Billing", 20: "Travel"},
                   keywords={10: ["invoice", "refund"], 20: ["flight"]},
                   centroids=np.array([[1.0, 0.0], [0.0, 1.0]]), outlier_similarity=0.8, fit_rows=4,
                   fit_outlier_share=0.0, outlier_strategy="reassign", fitted_through="2026-11-02",
                   cells={10: np.array([[1.0, 0.0], [0.8, 0.6]])})  # topic 20 has none: one cell, 2
POOL = pd.DataFrame({"generation_id": ["r1", "r2", "r3", "r4"],
                     "template_id": ["general", "billing", "general", "general"],
                     "created_at": ["2026-11-01", "2026-11-03", "2026-11-04", "2026-11-05"]})
VECTORS = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [S, S]])


def test_rows_go_to_their_nearest_topic_and_cell_and_weak_matches_are_flagged():
    out = assignment_table(MODEL, POOL, VECTORS)
    assert out["cluster_id"].tolist() == [10, 10, 20, 10]  # r4 ties: the first topic
    assert out["cluster_name"].tolist() == ["Billing", "Billing", "Travel", "Billing"]
    assert out["cell_id"].tolist() == [0, 1, 2, 1]
    assert out["probability"].tolist() == pytest.approx([1.0, 0.8, 1.0, S], abs=1e-6)
    assert out["is_outlier"].tolist() == [False, False, False, True]  # S < 0.8
    assert set(out["model_version"]) == {"v1"}


def test_summary_per_topic_and_drift_of_the_rows_after_the_fit():
    clusters = assignment_table(MODEL, POOL, VECTORS)
    summ = cluster_summary_table(MODEL, clusters, POOL["template_id"]).set_index("cluster_id")
    assert summ.loc[10, ["size", "cells", "share", "outliers"]].tolist() == [3, 2, 0.75, 1]
    assert summ.loc[20, ["size", "cells", "share", "outliers"]].tolist() == [1, 1, 0.25, 0]
    assert summ.loc[10, "general_share"] == pytest.approx(0.6667)
    assert summ.loc[10, "top_templates"] == "general (2), billing (1)"
    assert summ.loc[10, "keywords"] == "invoice, refund"
    new, drift = drift_since_fit(POOL["created_at"], clusters["is_outlier"], MODEL.fitted_through)
    assert new.tolist() == [False, True, True, True] and drift == pytest.approx(1 / 3)
    assert drift_since_fit(POOL["created_at"], clusters["is_outlier"], "")[1] == 0.0


def row(gid, day, instruction, output, quality=0.5):
    return {"generation_id": gid, "created_at": f"2026-11-0{day}", "template_id": "general", "quality_score": quality,
            "instruction": instruction, "input_message": None, "output": output}


def test_pool_dedup_keeps_the_better_copy_and_says_why_and_across_which_days():
    long = "Paris is the capital of France and its largest city, on the Seine in the north of the country."
    kept_rows = pd.DataFrame([row("a", 1, "What is the capital of France?", long, 0.9),
                              row("b", 2, "What is the capital of France?", long, 0.4),   # exact copy of a
                              row("c", 1, "Write a haiku about rain.", "Soft rain on the roof")])
    emb = pd.DataFrame({"generation_id": ["c", "b", "a"], "embedding": [np.array([0.0, 1.0])] + [np.array([1.0, 0.0])] * 2})
    pool = pool_frame(kept_rows, emb)
    assert pool["generation_id"].tolist() == ["a", "b", "c"]  # sorted by id, whatever the input order
    kept, removed = deduplicate_pool_frame(pool, near_threshold=0.7, semantic_threshold=1.1, seed=0)  # 1.1: semantic dedup off
    assert kept["generation_id"].tolist() == ["a", "c"]
    assert removed[["generation_id", "rule", "duplicate_of"]].values.tolist() == [["b", "exact_duplicate", "a"]]
    assert removed["reason"].iloc[0] == "exact duplicate of a (similarity 1.00)"
    assert across_days(removed, pool) == 1  # b is of day 2, a of day 1
    nothing_kept, nothing_removed = deduplicate_pool_frame(pool.iloc[0:0], 0.7, 0.995, 0)
    assert nothing_kept.empty and nothing_removed.empty and across_days(nothing_removed, pool) == 0
