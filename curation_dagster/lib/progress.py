"""Progress of the dataset toward its target size, projected at the recent daily rate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd


@dataclass
class Progress:
    count: int
    target: int
    share: float
    daily_rate: float  # examples per source day, over the last `window_days` days with data
    days_to_target: float | None  # None when the rate is zero
    projected_date: date | None

    def summary(self) -> str:
        when = self.projected_date.isoformat() if self.projected_date else "never at the current rate"
        return f"{self.count:,} / {self.target:,} examples ({self.share:.1%}); target reached: {when}"


def dataset_progress(created_at: pd.Series, target: int, window_days: int = 7) -> Progress:
    """`created_at` of the examples in the dataset; the rate is examples per day over the last
    window of source days (the days the examples were generated on)."""
    count = int(len(created_at))
    share = count / target if target else 1.0
    if count == 0:
        return Progress(0, target, 0.0, 0.0, None, None)
    days = pd.to_datetime(created_at).dt.normalize()
    last = days.max()
    recent = days[days > last - pd.Timedelta(days=window_days)]
    span = min(window_days, (last - days.min()).days + 1)
    rate = len(recent) / span if span else 0.0
    if count >= target:
        return Progress(count, target, share, rate, 0.0, last.date())
    if rate <= 0:
        return Progress(count, target, share, rate, None, None)
    remaining = math.ceil((target - count) / rate)
    return Progress(count, target, share, round(rate, 2), float(remaining), last.date() + timedelta(days=remaining))
