"""Checks on each day's filter outcome, run in the step that filtered that day."""

import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, WARN, gx_check, spec
from curation_dagster.defs.metadata import counts_table

CHECK_SPECS = [
    spec("filtered_rows_reconcile", "filtered_generations",
         "Every row of the day is either kept or rejected, exactly once (rows in = kept + rejected), and "
         "every rejected row names its rule and reason.", ERROR),
    spec("rejection_rates_within_bounds", "rejected_generations",
         "No single rule rejects more than `max_rule_rejection_share` of the day and all rules together no "
         "more than `max_total_rejection_share`. A sudden jump usually means a broken upstream, not bad users.",
         WARN),
]


def filter_checks(raw: pd.DataFrame, kept: pd.DataFrame, rejected: pd.DataFrame, rule_counts: dict[str, int],
                  max_rule_share: float, max_total_share: float) -> list[dg.AssetCheckResult]:
    ledger = pd.concat([
        pd.DataFrame({"generation_id": kept["generation_id"], "outcome": "kept", "rule": "kept", "reason": "kept"}),
        pd.DataFrame({"generation_id": rejected["generation_id"], "outcome": "rejected",
                      "rule": rejected["rule"], "reason": rejected["reason"]}),
    ], ignore_index=True)
    # ids can be null in raw data (quarantined as invalid_record); reconcile on row positions instead
    ledger["generation_id"] = ledger["generation_id"].fillna("<null id>")
    reconcile = gx_check([
        (ledger, [
            gxe.ExpectTableRowCountToEqual(value=len(raw)),
            gxe.ExpectColumnValuesToNotBeNull(column="rule"),
            gxe.ExpectColumnValuesToNotBeNull(column="reason"),
            gxe.ExpectColumnValueLengthsToBeBetween(column="reason", min_value=1),
        ]),
        (ledger[ledger["generation_id"] != "<null id>"], [gxe.ExpectColumnValuesToBeUnique(column="generation_id")]),
    ], "filtered_rows_reconcile", "filtered_generations", ERROR,
        extra={"rows_in": len(raw), "rows_kept": len(kept), "rows_rejected": len(rejected)})

    n = max(len(raw), 1)
    rates = pd.DataFrame(
        [{"rule": r, "share": c / n, "bound": max_rule_share} for r, c in sorted(rule_counts.items())]
        + [{"rule": "all_rules", "share": len(rejected) / n, "bound": max_total_share}]
    )
    rates["share_of_bound"] = rates["share"] / rates["bound"]
    bounds = gx_check([
        (rates, [gxe.ExpectColumnValuesToBeBetween(column="share_of_bound", min_value=0, max_value=1)]),
    ], "rejection_rates_within_bounds", "rejected_generations", WARN, extra={
        "rejection_share": round(len(rejected) / n, 4),
        "rules_over_bound": ", ".join(rates.loc[rates["share_of_bound"] > 1, "rule"]) or "none",
        "rates": counts_table({r: round(s * 100, 1) for r, s in zip(rates["rule"], rates["share"])}, "rule", "percent"),
    })
    return [reconcile, bounds]
