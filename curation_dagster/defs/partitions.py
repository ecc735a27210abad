import dagster as dg

from curation_dagster.settings import deployment, partitions_start_date

#: One partition per UTC day of `created_at`; the start date is CURATION_START_DATE.
daily_partitions = dg.DailyPartitionsDefinition(start_date=partitions_start_date(), timezone="UTC")

#: Metadata telling the DuckDB/Snowflake IO managers which column holds the partition's day.
PARTITION_EXPR = {"partition_expr": "created_at"}

#: Every asset that writes to the embedded DuckDB file shares this pool (limit 1 in dagster.yaml).
WAREHOUSE_POOL = "curation_warehouse"

#: The kind tag the UI shows for tables: where this deployment keeps them.
STORAGE_KIND = "snowflake" if deployment() == "prod" else "duckdb"

OWNERS = ["team:data-curation"]

#: Run tag that says why the topic model was refit (schedule, drift sensor, demo, by hand).
REFIT_REASON_TAG = "curation/refit_reason"
