"""The offline judge: a quality model for teams with no LLM endpoint, learned from the usage signals the
data does have. Pure: no Dagster.

Rows with usage signals (lib.quality.has_usage_signals) are labelled good when their usage-based
quality score is at least `good_at` (0.7: used with little editing) and bad otherwise; a logistic
regression on their embeddings (standardised) learns embedding -> P(good). It is fitted on a seeded,
stratified training split and its AUC measured on the held-out rest; the same model then scores the
rows WITHOUT usage signals, whose quality_score would otherwise be the neutral 0.5. With fewer than
`min_per_class` labelled rows of either class it is not fitted (the reason says how many there are):
on an import with no usage signals at all (a ShareGPT dump) that is always the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from curation_dagster.lib.quality import usage_signal_mask

#: The offline_judge table: a score per pool row without usage signals.
OFFLINE_COLUMNS = {"generation_id": object, "offline_quality": "float64"}
#: Where a row's quality_score came from (sampled_examples' `quality_source`).
USAGE, OFFLINE, NEUTRAL = "usage", "offline_judge", "neutral"


@dataclass(frozen=True)
class OfflineJudgeSettings:
    good_at: float = 0.7  # a labelled row is good when its usage-based quality score is at least this
    min_per_class: int = 50  # fewer good or bad labelled rows: not fitted
    test_fraction: float = 0.25  # held out (stratified, seeded) to measure the AUC
    seed: int = 42
    max_rows: int = 50_000  # labelled rows fitted on at most (a seeded sample beyond)
    regularization: float = 0.1  # inverse strength C of the L2 penalty

    def __post_init__(self):
        if not 0 < self.good_at <= 1:
            raise ValueError(f"good_at must be in (0, 1], got {self.good_at}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.min_per_class < 2:
            raise ValueError(f"min_per_class must be at least 2, got {self.min_per_class}")
        if self.regularization <= 0:
            raise ValueError(f"regularization must be above 0, got {self.regularization}")


@dataclass
class OfflineJudgeResult:
    skipped: str | None  # why no model was fitted; None when it was
    good: int = 0  # labelled rows of each class (all of them, before any cap)
    bad: int = 0
    train_rows: int = 0
    test_rows: int = 0
    auc: float | None = None  # on the held-out rows
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))  # P(good) of each row to score

    def metadata(self) -> dict:
        out = {"labelled_good": self.good, "labelled_bad": self.bad}
        if self.skipped:
            return {**out, "skipped_reason": self.skipped}
        return {**out, "train_rows": self.train_rows, "test_rows": self.test_rows,
                **({"held_out_auc": round(float(self.auc), 4)} if self.auc is not None else {})}


def labels(quality_scores, good_at: float) -> np.ndarray:
    """1 (good) where the usage-based quality score is at least `good_at`, else 0."""
    return (np.asarray(quality_scores, dtype=np.float64) >= good_at).astype(np.int64)


def fit_offline_judge(labelled: np.ndarray, quality_scores, to_score: np.ndarray,
                      s: OfflineJudgeSettings = OfflineJudgeSettings()) -> OfflineJudgeResult:
    """Fit on `labelled` (n x d embeddings of rows with usage signals, in a stable order, e.g. by id) and
    their usage-based `quality_scores`; score `to_score` (m x d, rows without signals) with P(good)."""
    y = labels(quality_scores, s.good_at)
    good, bad = int(y.sum()), int(len(y) - y.sum())
    if good < s.min_per_class or bad < s.min_per_class:
        return OfflineJudgeResult(
            skipped=(f"too few labelled rows: {good:,} good and {bad:,} bad (quality score >= {s.good_at} or "
                     f"below, from usage signals), fewer than {s.min_per_class} of each"
                     + ("; no row carries usage signals (copied, sent, edit_ratio, rating)" if not len(y) else "")),
            good=good, bad=bad)
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(labelled, dtype=np.float64)
    rng = np.random.default_rng(s.seed)
    if len(y) > s.max_rows:  # a seeded sample of the labelled rows
        keep = np.sort(rng.choice(len(y), s.max_rows, replace=False))
        X, y = X[keep], y[keep]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=s.test_fraction, random_state=s.seed,
                                                        stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=s.regularization, max_iter=2000))
    model.fit(X_train, y_train)
    auc = float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])) if len(set(y_test)) == 2 else None
    m = np.asarray(to_score, dtype=np.float64)
    scores = model.predict_proba(m)[:, 1] if len(m) else np.zeros(0)
    return OfflineJudgeResult(skipped=None, good=good, bad=bad, train_rows=len(y_train), test_rows=len(y_test),
                              auc=auc, scores=np.round(scores, 6))


def apply_judges(pool: pd.DataFrame, offline_scores: pd.DataFrame | None,
                 judged_low: set[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """The pool as the sampler sees it, and counts for its metadata: rows an LLM judge scored low (in
    this or an earlier refresh) left out, and each row's `quality_source`: `usage` (it has usage
    signals), `offline_judge` (none, so its quality_score is the offline judge's P(good)) or `neutral`
    (none and no offline score: the neutral quality score stays)."""
    low = set(judged_low or ())
    out = pool[~pool["generation_id"].astype(str).isin(low)].copy() if low else pool.copy()
    signals = usage_signal_mask(out).to_numpy(dtype=bool)
    scores = {}
    if offline_scores is not None and len(offline_scores) and "offline_quality" in offline_scores.columns:
        scores = dict(zip(offline_scores["generation_id"].astype(str), offline_scores["offline_quality"]))
    offline = out["generation_id"].astype(str).map(scores)
    use = ~signals & offline.notna().to_numpy()
    out["quality_source"] = np.where(signals, USAGE, np.where(use, OFFLINE, NEUTRAL)).astype(object)
    if use.any():
        out["quality_score"] = out["quality_score"].astype("float64")
        out.loc[use, "quality_score"] = offline[use].astype("float64")
    return out, {"excluded_judged_low": int(len(pool) - len(out)), "quality_from_offline_judge": int(use.sum()),
                 "quality_neutral_no_signals": int((~signals & ~use).sum())}
