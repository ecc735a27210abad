"""Consensus, agreement and review priority on hand-made cases with known answers."""

import pytest

from curation_dagster.lib.review import (Review, cohen_kappa, decide, fleiss_kappa, reviewer_rates,
                                         uncertainty)


def test_cohen_kappa_matches_the_textbook_example():
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(["x", "y"] * 10, ["y", "x"] * 10) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def test_fleiss_kappa_matches_the_textbook_example():
    # 10 items, 14 raters, 5 categories (Fleiss 1971 as tabulated on Wikipedia): kappa 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 0], [1, 0]])


def test_consensus_states():
    acc = lambda who, **kw: Review(who, "accept", **kw)  # noqa: E731
    rej = lambda who, *why: Review(who, "reject", reasons=why)  # noqa: E731
    assert decide([acc("ann")], min_reviews=2).state == "pending"
    assert not decide([acc("ann")], min_reviews=2).usable
    assert decide([acc("ann"), acc("bo")]).state == "accepted"
    split = decide([acc("ann"), rej("bo", "wrong_tone")])
    assert split.state == "adjudication" and not split.usable
    out = decide([rej("ann", "hallucination"), rej("bo", "pii", "hallucination"), acc("cy")])
    assert out.state == "rejected" and out.reasons == ("hallucination", "pii")
    edit = decide([acc("ann", edited_text="Fixed reply"), acc("bo", edited_text="Fixed reply"), acc("cy")])
    assert edit.state == "edited" and edit.text == "Fixed reply"
    assert decide([acc("ann", edited_text="A"), acc("bo", edited_text="B")]).state == "adjudication"
    # an adjudicator settles a split, and their edit wins
    final = decide([acc("ann"), rej("bo", "other"), acc("lead", edited_text="Lead's text", adjudicator=True)])
    assert final.state == "edited" and final.text == "Lead's text"
    with pytest.raises(ValueError):
        Review("ann", "maybe")


def test_reviewer_rates_and_uncertainty_order():
    reviews = {"g1": [Review("ann", "accept"), Review("bo", "accept")],
               "g2": [Review("ann", "reject", ("pii",)), Review("bo", "accept", edited_text="x"),
                      Review("cy", "reject", ("pii",))]}
    rates = reviewer_rates(reviews, {k: decide(v) for k, v in reviews.items()})
    assert rates["ann"] == {"reviewed": 2, "accept_rate": 0.5, "reject_rate": 0.5, "edit_rate": 0.0,
                            "agreement_with_decision": 1.0}
    assert rates["bo"]["agreement_with_decision"] == 0.5 and rates["bo"]["edit_rate"] == 0.5
    sure = uncertainty(0.9, False, 0.9, 0.4)
    near_threshold = uncertainty(0.9, False, 0.42, 0.4)
    outlier = uncertainty(0.3, True, 0.9, 0.4)
    assert sure < near_threshold and sure < outlier
    assert uncertainty(0.9, False, 0.9, 0.4, near_misses=1) > sure
    assert 0.0 <= sure <= 1.0 and uncertainty(None, True, 0.4, 0.4, near_misses=2) == 1.0


def test_spreadsheet_rows_parse_and_the_latest_review_counts():
    from curation_dagster.lib.review import decide_all, pairwise_kappa, parse_review

    assert parse_review({"reviewer": "ann", "verdict": ""}) is None  # not reviewed yet
    r = parse_review({"reviewer": "ann", "verdict": " Reject ", "reasons": "PII, other", "edited_output": "  "})
    assert r == Review("ann", "reject", ("pii", "other"), None, False)
    with pytest.raises(ValueError, match="unknown reasons"):
        parse_review({"reviewer": "ann", "verdict": "reject", "reasons": "boring"})
    with pytest.raises(ValueError, match="no reviewer"):
        parse_review({"verdict": "accept"})
    rows = [{"generation_id": "g1", "reviewer": "ann", "verdict": "reject", "reviewed_at": "2026-11-01"},
            {"generation_id": "g1", "reviewer": "ann", "verdict": "accept", "reviewed_at": "2026-11-02"},  # changed mind
            {"generation_id": "g1", "reviewer": "bo", "verdict": "accept", "reviewed_at": "2026-11-01"},
            {"generation_id": "g2", "reviewer": "ann", "verdict": "reject", "reviewed_at": "2026-11-01"},
            {"generation_id": "g2", "reviewer": "bo", "verdict": "reject", "reviewed_at": "2026-11-01"}]
    decisions, by_item = decide_all(rows)
    assert decisions["g1"].state == "accepted" and decisions["g1"].reviews == 2
    assert decisions["g2"].state == "rejected"
    assert pairwise_kappa(by_item) == pytest.approx(1.0)
    assert pairwise_kappa({"g1": [Review("ann", "accept")]}) is None


def test_fleiss_kappa_over_items_with_three_reviewers_and_item_agreement():
    from curation_dagster.lib.review import Review, decide, item_fleiss_kappa

    def item(*verdicts):
        return [Review(f"r{i}", v) for i, v in enumerate(verdicts)]

    # 4 items x 3 raters, categories (accept, reject): counts (3,0) (0,3) (2,1) (1,2)
    by_item = {"a": item("accept", "accept", "accept"), "b": item("reject", "reject", "reject"),
               "c": item("accept", "accept", "reject"), "d": item("accept", "reject", "reject")}
    # P_i = 1, 1, 1/3, 1/3 -> P_bar 2/3; shares 1/2, 1/2 -> P_e 1/2; kappa (2/3 - 1/2) / (1/2) = 1/3
    assert item_fleiss_kappa(by_item) == pytest.approx(1 / 3)
    assert item_fleiss_kappa({"a": item("accept", "reject")}) is None  # two reviewers: Cohen's instead
    assert decide(by_item["c"]).agreement == pytest.approx(2 / 3, abs=1e-4) and decide(by_item["a"]).agreement == 1.0


def test_an_adjudicator_settles_a_split_and_is_kept_apart_from_their_own_review():
    from curation_dagster.lib.review import decide_all, pairwise_kappa

    rows = [{"generation_id": "g", "reviewer": "ann", "verdict": "accept", "reviewed_at": "1"},
            {"generation_id": "g", "reviewer": "bo", "verdict": "reject", "reasons": "pii", "reviewed_at": "2"},
            {"generation_id": "h", "reviewer": "ann", "verdict": "accept", "reviewed_at": "1"},
            {"generation_id": "h", "reviewer": "bo", "verdict": "accept", "reviewed_at": "2"}]
    decisions, _ = decide_all(rows)
    assert decisions["g"].state == "adjudication" and not decisions["g"].adjudicated
    # ann adjudicates: her adjudicating review does not replace her own first review
    settled, by_item = decide_all(rows + [{"generation_id": "g", "reviewer": "ann", "verdict": "reject",
                                           "reasons": "pii", "adjudicator": True, "reviewed_at": "3"}])
    assert settled["g"].state == "rejected" and settled["g"].adjudicated and settled["g"].reviews == 3
    assert settled["g"].agreement == 0.5  # the two reviewers split, whatever the adjudicator said
    assert pairwise_kappa(by_item) == pairwise_kappa(decide_all(rows)[1])  # adjudication is not agreement


def test_cluster_reviews_decide_by_cluster_key():
    from curation_dagster.lib.review import decide_all

    rows = [{"cluster_key": "v1:3", "reviewer": "ann", "verdict": "reject", "reviewed_at": "1"},
            {"cluster_key": "v1:4", "reviewer": "ann", "verdict": "accept", "edited_output": "Refund requests",
             "reviewed_at": "1"}]
    decisions, _ = decide_all(rows, min_reviews=1, key="cluster_key")
    assert decisions["v1:3"].state == "rejected" and decisions["v1:4"].state == "edited"
    assert decisions["v1:4"].text == "Refund requests"
    assert decide_all(rows, min_reviews=2, key="cluster_key")[0]["v1:3"].state == "pending"


def test_near_threshold_takes_scores_at_or_just_above_the_threshold_not_queued_not_missing():
    from curation_dagster.lib.review import near_threshold

    import pandas as pd

    scores = [0.39, 0.40, 0.50, 0.55, 0.56, None, pd.NA, 0.45]
    queued = [False, False, False, False, False, False, False, True]
    assert near_threshold([float("nan")], [False], 0.4, 0.15) == [False]
    # threshold 0.4, band 0.15: 0.40, 0.50 and 0.55 are in [0.40, 0.55]; 0.45 is in the queue already
    assert near_threshold(scores, queued, 0.4, 0.15) == [False, True, True, True, False, False, False, False]
    assert near_threshold([], [], 0.4, 0.15) == []
