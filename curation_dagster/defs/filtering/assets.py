"""Rule-based filtering: every row of a day is either kept or rejected with a named rule and reason."""


import time

import dagster as dg
import pandas as pd

from curation_dagster.defs.filtering.checks import CHECK_SPECS, filter_checks
from curation_dagster.defs.filtering.config import FilterConfig
from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, PARTITION_EXPR, STORAGE_KIND, WAREHOUSE_POOL, daily_partitions
from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.rules import rule_descriptions


@dg.multi_asset(
    outs={
        "filtered_generations": dg.AssetOut(
            description=(
                "Generations of the day that pass every rule: sensible instruction and identity "
                "settings, readable English output that is complete, no personal data, current "
                "generator version, not a duplicate, and a usage-based quality score above the "
                "minimum, and not rejected by reviewers. Adds `quality_score` and `content_hash`."
            ),
            metadata=PARTITION_EXPR, owners=OWNERS, kinds={STORAGE_KIND, "pandas"},
        ),
        "rejected_generations": dg.AssetOut(
            description=(
                "The day's rows that failed a rule, each with `rule` (the first that fired), "
                "`reason` (human-readable), `rules_fired` (all of them) and `duplicate_of` for "
                "duplicates. Nothing leaves the pipeline without a row here."
            ),
            metadata=PARTITION_EXPR, owners=OWNERS, kinds={STORAGE_KIND, "pandas"},
        ),
    },
    partitions_def=daily_partitions,
    group_name="filtering",
    pool=WAREHOUSE_POOL,
    check_specs=CHECK_SPECS,
)
def filter_generations(context: dg.AssetExecutionContext, config: FilterConfig, raw_generations: pd.DataFrame,
                       review_decisions: pd.DataFrame):
    """Step `filter_generations` (its key under `ops:` in the Launchpad's run config; settings-file
    section `filter`): one day's raw rows through every rule, published as filtered_generations (the
    rows that pass) and rejected_generations (the rest, each with its rule and reason)."""
    t0 = time.perf_counter()
    # examples reviewers rejected leave here, with rule human_review (no decisions yet: none)
    rejected_by_people = ({} if review_decisions.empty else {
        str(g): str(r or "") for g, s, r in zip(review_decisions["generation_id"], review_decisions["state"],
                                              review_decisions["reasons"]) if s == "rejected"})
    outcome = apply_filters(raw_generations, config.to_settings(), near_threshold=config.near_duplicate_threshold,
                            human_rejections=rejected_by_people)
    elapsed = time.perf_counter() - t0
    n_in, n_kept, n_rej = len(raw_generations), len(outcome.kept), len(outcome.rejected)
    rule_counts = {r: outcome.rule_counts.get(r, 0) for r in rule_descriptions()}
    shared = {"rows_in": n_in, "rows_kept": n_kept, "rows_rejected": n_rej}
    yield dg.Output(
        outcome.kept,
        "filtered_generations",
        metadata={
            **shared,
            "dagster/row_count": n_kept,
            "kept_share": round(n_kept / n_in, 4) if n_in else 0.0,
            "mean_quality_score": round(float(outcome.kept["quality_score"].mean()), 4) if n_kept else 0.0,
            "rejections_by_rule": counts_table(rule_counts),
            "rows_per_second": round(n_in / elapsed, 1) if elapsed > 0 else 0.0,
            "preview": preview(outcome.kept, ["generation_id", "template_id", "quality_score", "instruction"]),
        },
    )
    yield dg.Output(
        outcome.rejected,
        "rejected_generations",
        metadata={
            **shared,
            "dagster/row_count": n_rej,
            "rejections_by_rule": counts_table(rule_counts),
            "rule_descriptions": dg.MetadataValue.md(
                "\n".join(f"- **{r}**: {d}" for r, d in rule_descriptions().items())
            ),
            "preview": preview(outcome.rejected, ["generation_id", "rule", "reason"]),
        },
    )
    yield from filter_checks(raw_generations, outcome.kept, outcome.rejected, outcome.rule_counts,
                             config.max_rule_rejection_share, config.max_total_rejection_share)
