"""lib/offline_judge.py: the quality model learned from usage signals, on constructed data: its held-out
AUC where good and bad rows are separable, the skip when labels are too few, and what the sampler's
pool gets from it (and from the LLM judge's low verdicts)."""

import numpy as np
import pandas as pd
import pytest

from curation_dagster.lib.offline_judge import OfflineJudgeSettings, apply_judges, fit_offline_judge, labels
from curation_dagster.lib.quality import has_usage_signals, usage_signal_mask


def separable(n_good: int, n_bad: int, dim: int = 16, seed: int = 0):
    """Unit vectors around two opposite directions; the good ones with quality 0.9, the bad 0.45."""
    rng = np.random.default_rng(seed)
    centre = np.zeros(dim)
    centre[0] = 1.0
    x = np.vstack([centre + 0.3 * rng.standard_normal((n_good, dim)), -centre + 0.3 * rng.standard_normal((n_bad, dim))])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.array([0.9] * n_good + [0.45] * n_bad)


def test_separable_usage_labels_give_a_high_held_out_auc_and_score_the_unlabelled_rows():
    x, quality = separable(120, 80)
    probe, _ = separable(5, 5, seed=1)
    res = fit_offline_judge(x, quality, probe, OfflineJudgeSettings())
    assert res.skipped is None and (res.good, res.bad) == (120, 80)
    assert (res.train_rows, res.test_rows) == (150, 50)  # 25% held out, stratified
    assert res.auc > 0.99
    # P(good): every probe near the good rows above every probe near the bad ones, on either side of 1/2
    assert res.scores.shape == (10,) and (res.scores[:5] > 0.5).all() and (res.scores[5:] < 0.5).all()
    meta = res.metadata()
    assert meta["held_out_auc"] == round(res.auc, 4) and meta["labelled_good"] == 120
    # seeded: the same rows give the same model and scores
    again = fit_offline_judge(x, quality, probe, OfflineJudgeSettings())
    assert again.auc == res.auc and np.array_equal(again.scores, res.scores)


def test_labels_come_from_the_usage_quality_score():
    assert labels([0.7, 0.69, 1.0, 0.4], 0.7).tolist() == [1, 0, 1, 0]


def test_too_few_labelled_rows_of_a_class_skip_the_fit_with_the_counts():
    x, quality = separable(200, 30)
    res = fit_offline_judge(x, quality, x[:3], OfflineJudgeSettings())
    assert res.auc is None and len(res.scores) == 0
    assert res.skipped == ("too few labelled rows: 200 good and 30 bad (quality score >= 0.7 or below, from usage "
                           "signals), fewer than 50 of each")
    assert res.metadata() == {"labelled_good": 200, "labelled_bad": 30, "skipped_reason": res.skipped}
    none = fit_offline_judge(np.zeros((0, 4)), [], np.ones((5, 4)), OfflineJudgeSettings())
    assert none.skipped.endswith("; no row carries usage signals (copied, sent, edit_ratio, rating)")
    assert fit_offline_judge(x, quality, x[:3], OfflineJudgeSettings(min_per_class=30)).skipped is None
    with pytest.raises(ValueError, match="test_fraction"):
        OfflineJudgeSettings(test_fraction=1.0)


def test_which_rows_carry_usage_signals():
    df = pd.DataFrame({"sent": pd.array([True, None, None, False], dtype="boolean"),
                       "copied": pd.array([None] * 4, dtype="boolean"),
                       "edit_ratio": [None, 0.2, None, None], "rating": pd.array([None, None, None, 3], dtype="Int64")})
    assert usage_signal_mask(df).tolist() == [True, True, False, True]
    assert [has_usage_signals(r) for r in df.to_dict("records")] == [True, True, False, True]
    assert usage_signal_mask(pd.DataFrame({"generation_id": ["a"]})).tolist() == [False]


def test_the_sampler_sees_offline_scores_for_rows_without_signals_and_no_row_judged_low():
    pool = pd.DataFrame({"generation_id": ["a", "b", "c", "d"], "quality_score": [0.9, 0.5, 0.5, 0.8],
                         "sent": pd.array([True, None, None, True], dtype="boolean"),
                         "rating": pd.array([None, None, None, None], dtype="Int64")})
    scores = pd.DataFrame({"generation_id": ["b"], "offline_quality": [0.83]})
    out, meta = apply_judges(pool, scores, {"d"})
    assert out["generation_id"].tolist() == ["a", "b", "c"]
    assert out["quality_score"].tolist() == [0.9, 0.83, 0.5]
    assert out["quality_source"].tolist() == ["usage", "offline_judge", "neutral"]
    assert meta == {"excluded_judged_low": 1, "quality_from_offline_judge": 1, "quality_neutral_no_signals": 1}
    same, meta = apply_judges(pool, pd.DataFrame(), set())  # no offline judge yet, nothing judged
    assert same["quality_score"].tolist() == pool["quality_score"].tolist() and meta["excluded_judged_low"] == 0
