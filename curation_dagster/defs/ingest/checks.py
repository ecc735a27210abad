"""Checks on each day of raw_generations, run in the step that loaded that day."""

from datetime import datetime

import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, WARN, gx_check, spec
from curation_dagster.defs.resources import SourceWarehouse
from curation_dagster.lib.contract import CONTRACT_COLUMNS, TEXT_COLUMNS

ASSET = "raw_generations"
#: numpy dtype kinds each contract column may have (O/U/S text, M datetime, b bool, f float, i int)
DTYPE_KINDS = {**{c: "OUS" for c in TEXT_COLUMNS}, "created_at": "M", "copied": "b", "sent": "b",
               "edit_ratio": "f", "rating": "iu"}

CHECK_SPECS = [
    spec("raw_matches_data_contract", ASSET,
         "The day's rows have exactly the data contract's columns and types, unique generation_id, and "
         "created_at inside the partition's day. Failing means the warehouse or the column mapping broke.",
         ERROR),
    spec("raw_values_plausible", ASSET,
         "generation_id is never null (null ids are quarantined by the filter, but many mean a broken "
         "export), edit_ratio within 0..1 and rating within 1..5.", WARN),
]


def schema_frame(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([
        {"column": c, "dtype": str(df[c].dtype) if c in df else "missing",
         "matches": bool(c in df and df[c].dtype.kind in DTYPE_KINDS[c])}
        for c in CONTRACT_COLUMNS
    ])


def raw_checks(df: pd.DataFrame, start: datetime, end: datetime) -> list[dg.AssetCheckResult]:
    start, end = pd.Timestamp(start).tz_localize(None), pd.Timestamp(end).tz_localize(None)
    contract = gx_check([
        (df, [
            gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(CONTRACT_COLUMNS)),
            gxe.ExpectColumnValuesToBeUnique(column="generation_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="created_at"),
            gxe.ExpectColumnValuesToBeBetween(column="created_at", min_value=start, max_value=end, strict_max=True),
        ]),
        (schema_frame(df), [gxe.ExpectColumnValuesToBeInSet(column="matches", value_set=[True])]),
    ], "raw_matches_data_contract", ASSET, ERROR, extra={"partition_start": str(start), "rows": len(df)})
    plausible = gx_check([
        (df, [
            gxe.ExpectColumnValuesToNotBeNull(column="generation_id"),
            gxe.ExpectColumnValuesToBeBetween(column="edit_ratio", min_value=0, max_value=1),
            gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=1, max_value=5),
        ]),
    ], "raw_values_plausible", ASSET, WARN, extra={"rows": len(df)})
    return [contract, plausible]


@dg.asset_check(
    asset="generations_source",
    description="[ERROR] The warehouse table is reachable and has a column for every field of the data "
                "contract (through the column mapping). Run it after changing the mapping or the table.",
)
def source_table_matches_contract(warehouse: SourceWarehouse) -> dg.AssetCheckResult:
    try:
        columns = warehouse.describe()
        rows = warehouse.count_rows()
    except Exception as exc:  # noqa: BLE001 - an unreachable table is the finding, not a crash
        return dg.AssetCheckResult(passed=False, severity=ERROR,
                                   metadata={"error": f"{type(exc).__name__}: {exc}"[:500]})
    result = gx_check([(columns, [gxe.ExpectColumnValuesToBeInSet(column="present", value_set=[True])])],
                      "source_table_matches_contract", "generations_source", ERROR,
                      extra={"rows": rows, "table": warehouse.table,
                             "missing_columns": ", ".join(columns.loc[~columns["present"], "source_column"]) or "none"})
    return dg.AssetCheckResult(passed=result.passed, severity=ERROR, metadata=result.metadata)
