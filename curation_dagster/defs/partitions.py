"""Names every stage shares. The daily partitions and the storage kind are declared with the local
defaults here and given the deployment's values when the definitions are built (defs/deployment.py)."""

import dagster as dg

from curation_dagster.defs.deployment import DECLARED_STORAGE_KIND, daily_partitions
from curation_dagster.lib.frames import EMBEDDING_COLUMNS

__all__ = ["daily_partitions", "PARTITION_EXPR", "WAREHOUSE_POOL", "STORAGE_KIND", "OWNERS", "REFIT_REASON_TAG",
           "POOL_VECTORS_IN"]

#: Metadata telling the DuckDB/Snowflake IO managers which column holds the partition's day.
PARTITION_EXPR = {"partition_expr": "created_at"}

#: Every asset that writes to the embedded DuckDB file shares this pool (limit 1 in dagster.yaml).
WAREHOUSE_POOL = "curation_warehouse"

#: The kind tag the UI shows for tables: declared as DuckDB; a prod deployment shows Snowflake.
STORAGE_KIND = DECLARED_STORAGE_KIND

OWNERS = ["team:data-curation"]

#: Run tag that says why the topic model was refit (schedule, drift sensor, demo, by hand).
REFIT_REASON_TAG = "curation/refit_reason"

#: How a pool stage that needs the vectors loads them: every day of generation_embeddings, id and
#: vector only, joined to deduplicated_generations by lib.frames.with_embeddings.
POOL_VECTORS_IN = dg.AssetIn("generation_embeddings", metadata={"columns": EMBEDDING_COLUMNS})
