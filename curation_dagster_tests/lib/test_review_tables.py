"""Review tables without Dagster: the queue's order, decisions from answers, cluster decisions on the pool."""

import pandas as pd
import pytest

from curation_dagster.lib.review_tables import (QueueSettings, apply_cluster_decisions, cluster_decisions_table,
                                                example_decisions_table, review_queue_table, short_of_reviews)


def sampled(rows):
    return pd.DataFrame([{"generation_id": g, "probability": p, "is_outlier": o, "quality_score": q,
                          "cluster_id": 1, "cluster_name": "c"} for g, p, o, q in rows])


def test_queue_puts_adjudication_then_pending_then_the_most_uncertain_first():
    # uncertainty = 0.4 (1 - probability, or 1 for an outlier) + 0.4 max(0, 1 - |quality - 0.4| / 0.2)
    sample = sampled([("a", 0.5, False, 0.4),     # accepted: never queued again
                      ("b", 0.95, False, 0.95),   # adjudication: first whatever its score (0.02)
                      ("c", 0.9, False, 1.0),     # pending: second (0.04)
                      ("d", 0.5, False, 0.4),     # new: 0.2 + 0.4 = 0.6
                      ("e", 0.9, False, 0.9),     # new: 0.04
                      ("f", 0.99, True, 0.9)])    # new outlier: 0.4
    decisions = pd.DataFrame({"generation_id": ["a", "b", "c"], "state": ["accepted", "adjudication", "pending"],
                              "reviews": [2, 2, 1]})
    queue, candidates = review_queue_table(sample, decisions, None, QueueSettings(max_items=4))
    assert candidates == 5
    assert queue["generation_id"].tolist() == ["b", "c", "d", "f"] and queue["rank"].tolist() == [1, 2, 3, 4]
    assert queue["review_state"].tolist() == ["adjudication", "pending", "new", "new"]
    assert queue["uncertainty"].tolist() == pytest.approx([0.02, 0.04, 0.6, 0.4])


def test_queue_adds_unsampled_rows_just_above_the_threshold_only_when_asked():
    sample = sampled([("d", 0.5, False, 0.4)])
    pool = sampled([("d", 0.5, False, 0.4), ("n", 0.8, False, 0.45), ("far", 0.8, False, 0.7)])
    queue, _ = review_queue_table(sample, pd.DataFrame(), pool, QueueSettings(near_threshold_band=0.1))
    assert queue["generation_id"].tolist() == ["d", "n"]
    assert queue["candidate"].tolist() == ["sampled", "near_threshold"]
    assert queue["uncertainty"].tolist() == pytest.approx([0.6, 0.08 + 0.3])
    queue, _ = review_queue_table(sample, pd.DataFrame(), pool, QueueSettings())
    assert queue["generation_id"].tolist() == ["d"]


def answer(item, reviewer, verdict, at, **kw):
    return {"generation_id": item, "reviewer": reviewer, "verdict": verdict, "reviewed_at": at,
            "created_day": "2026-11-02", **kw}


def test_decisions_from_answers_and_the_ones_short_of_reviews():
    ann = pd.DataFrame([answer("x", "ana", "accept", "1"), answer("x", "bo", "accept", "2"),
                        answer("y", "ana", "reject", "1", reasons="pii")])
    out, decisions, by_item = example_decisions_table(ann, min_reviews=2)
    assert dict(zip(out["generation_id"], out["state"])) == {"x": "accepted", "y": "pending"}
    assert dict(zip(out["generation_id"], out["reviews"])) == {"x": 2, "y": 1}
    assert out["created_day"].tolist() == ["2026-11-02", "2026-11-02"] and len(by_item["x"]) == 2
    # at one review y is a rejection, which short_of_reviews flags once the minimum is raised to 2
    out1, _, _ = example_decisions_table(ann, min_reviews=1)
    assert dict(zip(out1["generation_id"], out1["state"]))["y"] == "rejected"
    assert short_of_reviews(out1, 2)["generation_id"].tolist() == ["y"]
    assert short_of_reviews(out1, 1).empty
    empty, _, _ = example_decisions_table(pd.DataFrame(), 2)
    assert empty.empty and "state" in empty.columns


def test_cluster_decisions_apply_to_the_model_they_were_made_about():
    ann = pd.DataFrame([
        {"cluster_key": "v1:3", "reviewer": "ana", "verdict": "reject", "reviewed_at": "1"},
        {"cluster_key": "v1:2", "reviewer": "ana", "verdict": "accept", "edited_output": "Billing", "reviewed_at": "1"},
        {"cluster_key": "v0:1", "reviewer": "ana", "verdict": "reject", "reviewed_at": "1"},
    ])
    cd = cluster_decisions_table(ann, min_reviews=1)
    assert sorted(zip(cd["model_version"], cd["cluster_id"], cd["state"])) == [
        ("v0", 1, "rejected"), ("v1", 2, "edited"), ("v1", 3, "rejected")]
    pool = pd.DataFrame({"generation_id": ["p", "q", "r", "s"], "cluster_id": [1, 2, 3, 3],
                         "cluster_name": ["one", "two", "three", "three"], "model_version": "v1"})
    out, excluded, renamed = apply_cluster_decisions(pool, cd)
    assert out["generation_id"].tolist() == ["p", "q"] and out["cluster_name"].tolist() == ["one", "Billing"]
    assert (excluded, renamed) == (1, 1) and "model_version" not in out.columns
    same, none_excluded, none_renamed = apply_cluster_decisions(pool, cd.iloc[0:0])
    assert len(same) == 4 and (none_excluded, none_renamed) == (0, 0)
