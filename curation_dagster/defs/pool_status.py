"""The cause of an empty pool, for the pool stages' failures and metadata.

The pool stages that fail on an empty pool (topic_model, generation_clusters) read the `rule` and
`created_at` columns of `rejected_generations` for it; the days come from the instance (the daily
partitions of filtered_generations materialized), or else from the rejected rows."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from curation_dagster.defs.metadata import counts_table
from curation_dagster.lib.pool_status import day_span, empty_pool_cause

#: How the pool stages load rejected_generations: only what the cause needs.
REJECTED_RULES_IN = dg.AssetIn("rejected_generations", metadata={"columns": ["rule", "created_at"]})


def diagnose_empty_pool(context: dg.AssetExecutionContext, rejected: pd.DataFrame | None) -> tuple[str, dict]:
    """(cause, metadata) of an empty pool, e.g. "0 rows kept in 2026-11-01..2026-11-30 (30 days;
    4,120 rejected); top rules: identity_junk 3,803, ..."."""
    try:
        days = sorted(context.instance.get_materialized_partitions(dg.AssetKey("filtered_generations")))
    except Exception:  # noqa: BLE001 - diagnostics only: never mask the stage's own message
        days = []
    readable = rejected is not None and "rule" in rejected.columns
    rules = rejected["rule"].astype(str).tolist() if readable else None
    if readable and "created_at" in rejected.columns:
        days = sorted(set(days) | {str(d)[:10] for d in rejected["created_at"]})
    cause = empty_pool_cause(days, rules)
    metadata = {
        "pool_rows": 0,
        "empty_pool_cause": cause,
        "days": day_span(days) or "none",
        **({"rejected_rows": len(rules),
            "rejections_by_rule": counts_table(pd.Series(rules, dtype=object).value_counts().to_dict())}
           if rules is not None else {}),
    }
    return cause, metadata


def empty_pool_failure(context: dg.AssetExecutionContext, rejected: pd.DataFrame | None, what: str,
                       after: str = "") -> dg.Failure:
    """A Failure naming why the pool is empty: "<what>: the pool is empty: <cause>. <after>"."""
    cause, metadata = diagnose_empty_pool(context, rejected)
    return dg.Failure(description=f"{what}: the pool is empty: {cause}." + (f" {after}" if after else ""),
                      metadata=metadata)
