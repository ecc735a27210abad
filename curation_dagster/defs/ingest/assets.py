"""The warehouse table and its daily slices."""


import dagster as dg

from curation_dagster.defs.ingest.checks import CHECK_SPECS, raw_checks
from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, PARTITION_EXPR, STORAGE_KIND, WAREHOUSE_POOL, daily_partitions
from curation_dagster.defs.resources import SourceWarehouse
from curation_dagster.lib.contract import conform

generations_source = dg.AssetSpec(
    key="generations_source",
    description=(
        "The warehouse table of production generations (user instruction, identity settings, input "
        "message, model output, usage signals). Owned by the product's logging pipeline, not by "
        "Dagster: in local mode it is the `generations` table of data/warehouse.duckdb."
    ),
    group_name="ingest",
    owners=OWNERS,
    kinds={STORAGE_KIND},
)


@dg.asset(
    deps=[generations_source],
    partitions_def=daily_partitions,
    metadata=PARTITION_EXPR,
    group_name="ingest",
    owners=OWNERS,
    kinds={STORAGE_KIND, "pandas"},
    pool=WAREHOUSE_POOL,
    check_specs=CHECK_SPECS,
)
def raw_generations(context: dg.AssetExecutionContext, warehouse: SourceWarehouse):
    """One UTC day of generations copied from the warehouse, held to the data contract.

    Only that day's rows are read (the date filter runs in the database). Columns are renamed
    through the warehouse's column mapping; text is made storable (mis-encoded characters become
    U+FFFD, so the filter stage can reject them with a reason instead of the load crashing).
    """
    window = context.partition_time_window
    df = conform(warehouse.read_window(window.start, window.end))
    yield dg.Output(df, metadata={
        "dagster/row_count": len(df),
        "partition_day": context.partition_key,
        "templates": counts_table(df["template_id"].fillna("<null>").value_counts().to_dict(), "template_id"),
        "generator_versions": counts_table(df["generator_version"].fillna("<null>").value_counts().to_dict(),
                                           "generator_version"),
        "preview": preview(df, ["generation_id", "template_id", "instruction", "output"]),
    })
    yield from raw_checks(df, window.start, window.end)
