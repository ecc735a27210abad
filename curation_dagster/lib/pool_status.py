"""Why the pool is empty, in one line a data engineer can act on.

The pool stages (topic model, clusters, sample, export) have nothing to do when no row was kept; they
fail (or report) with this line instead of crashing, e.g.
"0 rows kept in 2026-10-01..2026-10-30 (30 days; 4,120 rejected); top rules: identity_junk 3,803, ...".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def day_span(days: Iterable[str], note: str = "") -> str:
    """"2026-11-01", "2026-11-01..2026-11-30 (30 days)", "2026-11-01..2026-11-30 (30 days; <note>)",
    or "" for no day."""
    days = sorted({str(d)[:10] for d in days if d is not None and str(d)[:10]})
    if not days:
        return ""
    notes = "; ".join(n for n in ((f"{len(days)} days" if len(days) > 1 else ""), note) if n)
    return (days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}") + (f" ({notes})" if notes else "")


def top_rules(rules: Iterable[str], n: int = 3) -> str:
    """"identity_junk 3,803, old_generator_version 12" (most rejections first, ties by name)."""
    counts = Counter(str(r) for r in rules if r is not None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{rule} {count:,}" for rule, count in ranked[:n])
    rest = len(ranked) - n
    return shown + (f" (+{rest} more rule{'s' if rest > 1 else ''})" if rest > 0 else "")


def empty_pool_cause(days: Iterable[str], rejected_rules: Iterable[str] | None, kept_rows: int = 0) -> str:
    """The reason the pool has no row. `days`: the daily partitions materialized (or the days the
    rejected rows fall on); `rejected_rules`: the `rule` of every rejected row, None when they could
    not be read; `kept_rows`: rows filtered_generations kept (0 for an all-rejected pool)."""
    span = day_span(days)
    if not span:
        return ("no daily partition has been materialized yet: run daily_curation_job for some days "
                "(or `curation run --from YYYY-MM-DD --to YYYY-MM-DD`) first")
    if kept_rows:
        return (f"{kept_rows:,} rows kept in {span} but none of them has an embedding: "
                "materialize generation_embeddings for those days")
    if rejected_rules is None:
        return f"0 rows kept in {span} (see rejected_generations for the rules that rejected them)"
    rules = [str(r) for r in rejected_rules]
    if not rules:
        return f"0 rows in the source for {span}: nothing to curate (check the source table and its column mapping)"
    return f"0 rows kept in {day_span(days, f'{len(rules):,} rejected')}; top rules: {top_rules(rules)}"
