"""Run a Great Expectations 1.x suite on a pandas frame and summarise the result as plain data.

One ephemeral GX context per process (its import and set-up cost ~4 s once). dagster-ge supports
only GX 0.x, so the Dagster side maps these summaries into AssetCheckResult metadata itself.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

_lock = threading.Lock()


@dataclass
class ExpectationOutcome:
    expectation: str  # e.g. expect_column_values_to_be_unique(generation_id)
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: object = None
    examples: list = field(default_factory=list)


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    successful: int
    outcomes: list[ExpectationOutcome]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


@lru_cache(maxsize=1)
def _batch_definition():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # a pandas batch hashes every value of its frame for a fingerprint in its batch markers (GX skips it
    # above this many bytes); nothing here reads it, and it cost more than the expectations: 3.4 s for one
    # uniqueness check on a 74,000-row pool with its embeddings, about 1 s of a 100,000-row refresh's
    # checks on the columns they read
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    # no "Calculating Metrics" bars in run logs
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("curation_frames")
    asset = source.add_dataframe_asset(name="frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _label(cfg) -> str:
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id", "result_format")}
    arg = kwargs.get("column") or kwargs.get("column_list") or kwargs.get("column_set") or kwargs.get("value") or ""
    if isinstance(arg, (list, tuple)):
        arg = ",".join(map(str, arg))[:60]
    return f"{cfg.type}({arg})"


def run_suite(df: pd.DataFrame, expectations: list, name: str) -> SuiteOutcome:
    """Validate df against the expectations (great_expectations.expectations.* instances)."""
    import great_expectations as gx

    with _lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
        suite = gx.ExpectationSuite(name=name, expectations=list(expectations))
        result = batch.validate(suite)
    outcomes = []
    for r in result.results:
        res = r.result or {}
        outcomes.append(ExpectationOutcome(
            expectation=_label(r.expectation_config),
            success=bool(r.success),
            unexpected_count=res.get("unexpected_count"),
            unexpected_percent=(round(float(res["unexpected_percent"]), 4)
                                if res.get("unexpected_percent") is not None else None),
            observed_value=res.get("observed_value"),
            examples=[str(x)[:80] for x in (res.get("partial_unexpected_list") or [])[:5]],
        ))
    stats = result.statistics
    return SuiteOutcome(name, bool(result.success), int(stats["evaluated_expectations"]),
                        int(stats["successful_expectations"]), outcomes)
