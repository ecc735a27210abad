"""Quality score from usage signals.

The score is a weighted mean of the signals a row has, in [0, 1]:
sent (0.35), copied (0.20), 1 - edit_ratio (0.25), (rating - 1) / 4 (0.20).
Missing signals drop out and the remaining weights are renormalised, so a row with only a rating is
scored on its rating. A row with no usage signal at all gets `neutral_score` (default 0.5): imported
data without telemetry is judged by the content rules alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QualityWeights:
    sent: float = 0.35
    copied: float = 0.20
    edit: float = 0.25
    rating: float = 0.20
    neutral_score: float = 0.5


def _present(v) -> bool:
    if v is None:
        return False
    try:
        return not math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def quality_score(copied, sent, edit_ratio, rating, weights: QualityWeights = QualityWeights()) -> float:
    parts: list[tuple[float, float]] = []
    if _present(sent):
        parts.append((weights.sent, 1.0 if bool(sent) else 0.0))
    if _present(copied):
        parts.append((weights.copied, 1.0 if bool(copied) else 0.0))
    if _present(edit_ratio):
        parts.append((weights.edit, 1.0 - min(max(float(edit_ratio), 0.0), 1.0)))
    if _present(rating):
        parts.append((weights.rating, (min(max(float(rating), 1.0), 5.0) - 1.0) / 4.0))
    total = sum(w for w, _ in parts)
    if total == 0:
        return weights.neutral_score
    return round(sum(w * v for w, v in parts) / total, 6)


def row_quality_score(row: dict, weights: QualityWeights = QualityWeights()) -> float:
    """quality_score of a data-contract row; signals of a type that cannot be read count as absent."""
    try:
        return quality_score(row.get("copied"), row.get("sent"), row.get("edit_ratio"), row.get("rating"), weights)
    except (TypeError, ValueError):
        return weights.neutral_score


#: The data-contract columns that carry usage signals.
SIGNAL_COLUMNS = ("sent", "copied", "edit_ratio", "rating")


def has_usage_signals(row: dict) -> bool:
    """Whether a row carries at least one usage signal (without one its quality_score is neutral_score)."""
    return any(_present(row.get(c)) for c in SIGNAL_COLUMNS)


def usage_signal_mask(df):
    """has_usage_signals over a frame's rows (pandas boolean Series; absent columns count as no signal)."""
    import pandas as pd

    cols = [c for c in SIGNAL_COLUMNS if c in df.columns]
    if not cols:
        return pd.Series(False, index=df.index)
    present = pd.DataFrame({c: df[c].map(_present).astype(bool) for c in cols}, index=df.index)
    return present.any(axis=1)
