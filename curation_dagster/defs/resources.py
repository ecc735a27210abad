"""Resources by deployment: `DAGSTER_DEPLOYMENT=local` (default) uses embedded DuckDB files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager
from pydantic import Field

from curation_dagster import settings
from curation_dagster.lib.contract import CONTRACT_COLUMNS


class DuckDBWarehouse(dg.ConfigurableResource):
    """The warehouse table that holds production generations (the `generations_source` asset)."""

    database: str = Field(description="Path of the DuckDB file holding the source table.")
    table: str = Field(default="generations", description="Source table name.")
    column_mapping: dict[str, str] = Field(
        default_factory=dict,
        description="Data-contract column -> your column name, for columns named differently.",
    )

    def _select_list(self) -> str:
        return ", ".join(f'"{self.column_mapping.get(c, c)}" AS "{c}"' for c in CONTRACT_COLUMNS)

    def read_window(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Rows with start <= created_at < end; the filter runs inside the database."""
        ts = self.column_mapping.get("created_at", "created_at")
        sql = (f'SELECT {self._select_list()} FROM "{self.table}" '
               f'WHERE "{ts}" >= ? AND "{ts}" < ? ORDER BY "{ts}", "{self.column_mapping.get("generation_id", "generation_id")}"')
        with duckdb.connect(self.database, read_only=True) as con:
            return con.execute(sql, [start.replace(tzinfo=None), end.replace(tzinfo=None)]).df()

    def describe(self) -> pd.DataFrame:
        """Columns of the source table and the contract column each one serves."""
        with duckdb.connect(self.database, read_only=True) as con:
            cols = [r[0] for r in con.execute(f'DESCRIBE "{self.table}"').fetchall()]
        return pd.DataFrame({"contract_column": list(CONTRACT_COLUMNS),
                             "source_column": [self.column_mapping.get(c, c) for c in CONTRACT_COLUMNS],
                             "present": [self.column_mapping.get(c, c) in cols for c in CONTRACT_COLUMNS]})

    def count_rows(self) -> int:
        with duckdb.connect(self.database, read_only=True) as con:
            return con.execute(f'SELECT count(*) FROM "{self.table}"').fetchone()[0]


class DatasetStore(dg.ConfigurableResource):
    """Where finetuning_dataset publishes its files (a local folder or a mounted volume)."""

    export_dir: str = Field(description="Folder holding one sub-folder per exported dataset.")

    def path(self, dataset_name: str = "finetuning_dataset") -> Path:
        return Path(self.export_dir) / dataset_name


class EmbeddingCacheResource(dg.ConfigurableResource):
    """Content-addressed embedding cache (a DuckDB file): unchanged text is never embedded twice."""

    path: str = Field(description="DuckDB file of cached vectors.")

    def open(self):
        from curation_dagster.lib.embedding_cache import EmbeddingCache

        return EmbeddingCache(self.path)


def alert_channels(log_path: Path) -> dg.ConfigurableResource:
    """Log file always; webhook and Slack when their environment variables are set."""
    import os

    from dagster_slack import SlackResource

    from curation_dagster.defs.alerts import AlertChannels

    slack = SlackResource(token=dg.EnvVar("SLACK_BOT_TOKEN")) if os.environ.get("SLACK_BOT_TOKEN") else None
    return AlertChannels(
        log_path=str(log_path),
        webhook_url=os.environ.get("CURATION_ALERT_WEBHOOK_URL") or None,
        slack=slack,
        slack_channel=os.environ.get("CURATION_ALERT_SLACK_CHANNEL") or None,
        ui_base_url=os.environ.get("CURATION_UI_BASE_URL", "http://127.0.0.1:3000"),
        min_severity=os.environ.get("CURATION_ALERT_MIN_SEVERITY", "WARN"),
    )


def build_resources(deployment: str | None = None, data_dir: str | Path | None = None) -> dict:
    """Resources for a deployment; `data_dir` overrides CURATION_DATA_DIR (tests use a temp dir)."""
    deployment = deployment or settings.deployment()
    if deployment == "local":
        base = Path(data_dir) if data_dir else None
        return {
            "warehouse": DuckDBWarehouse(database=str(base / "warehouse.duckdb" if base else settings.warehouse_path())),
            "io_manager": DuckDBPandasIOManager(
                database=str(base / "pipeline.duckdb" if base else settings.storage_path()), schema="curation"),
            "dataset_store": DatasetStore(export_dir=str(base / "exports" if base else settings.export_dir())),
            "embedding_cache": EmbeddingCacheResource(
                path=str((base or settings.data_dir()) / "embedding_cache.duckdb")),
            "alerts": alert_channels((base or settings.data_dir()) / "alerts.jsonl"),
        }
    raise ValueError(
        f"DAGSTER_DEPLOYMENT={deployment!r} is not supported yet: only 'local' (embedded DuckDB) is "
        "implemented; the Snowflake 'prod' deployment is tracked in issue 5."
    )
