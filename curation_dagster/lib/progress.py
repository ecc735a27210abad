"""Progress of the dataset toward its target size, projected at the recent daily rate.

`projected_progress` takes the rate the design really grows at (sampled_examples measures it by
sampling the pool as it was a window of source days earlier: lib.sampling.daily_growth) and the
largest dataset the design can reach (per_cluster mode: clusters x N), so it never promises a date
the sampler cannot meet. `dataset_progress` estimates the rate from the examples' own days.
"""

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


def projected_progress(count: int, target: int, daily_rate: float, last_day: date | None,
                       ceiling: int | None = None) -> Progress:
    """Progress at `daily_rate` examples per source day from `last_day` (the pool's newest day);
    `ceiling`, the most the sampler can ever give with its settings, below the target means never."""
    share = count / target if target else 1.0
    rate = round(max(daily_rate, 0.0), 2)
    if count >= target:
        return Progress(count, target, share, rate, 0.0, last_day)
    if rate <= 0 or last_day is None or (ceiling is not None and ceiling < target):
        return Progress(count, target, share, rate, None, None)
    remaining = math.ceil((target - count) / rate)
    return Progress(count, target, share, rate, float(remaining), last_day + timedelta(days=remaining))
