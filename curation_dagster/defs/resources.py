"""Resources by deployment: `DAGSTER_DEPLOYMENT=local` (default) uses embedded DuckDB files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager, DuckDBPandasTypeHandler
from pydantic import Field

from curation_dagster import settings
from curation_dagster.defs.llm import llm_endpoint_resource
from curation_dagster.lib.contract import CONTRACT_COLUMNS
from curation_dagster.lib.files import state_path


class SourceWarehouse(dg.ConfigurableResource):
    """The warehouse table that holds production generations (the `generations_source` asset).

    Subclasses say how to run a query; the column mapping, the SQL and the contract check are shared,
    so DuckDB (local) and Snowflake (prod) read the same rows the same way.
    """

    table: str = Field(default="generations", description="Source table name (may be DB.SCHEMA.TABLE).")
    column_mapping: dict[str, str] = Field(
        default_factory=dict,
        description="Data-contract column -> your column name, for columns named differently.",
    )

    def _query(self, sql: str, params: list) -> pd.DataFrame:
        raise NotImplementedError

    def _source_columns(self) -> list[str]:
        raise NotImplementedError

    def _ident(self, name: str) -> str:
        return f'"{name}"'

    def _source(self, contract_column: str) -> str:
        return self.column_mapping.get(contract_column, contract_column)

    def window_sql(self) -> str:
        """The partition read: the date filter runs inside the database, never in pandas."""
        select = ", ".join(f"{self._ident(self._source(c))} AS {self._ident(c)}" for c in CONTRACT_COLUMNS)
        ts, gid = self._ident(self._source("created_at")), self._ident(self._source("generation_id"))
        return (f"SELECT {select} FROM {self._table_ref()} "
                f"WHERE {ts} >= {self._placeholder()} AND {ts} < {self._placeholder()} ORDER BY {ts}, {gid}")

    def _table_ref(self) -> str:
        return self._ident(self.table)

    def _placeholder(self) -> str:
        return "?"

    def read_window(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Rows with start <= created_at < end (UTC, compared as naive timestamps)."""
        df = self._query(self.window_sql(), [start.replace(tzinfo=None), end.replace(tzinfo=None)])
        df.columns = [str(c).lower() for c in df.columns]
        return df

    def describe(self) -> pd.DataFrame:
        """Columns of the source table and the contract column each one serves."""
        cols = {c.lower() for c in self._source_columns()}
        return pd.DataFrame({"contract_column": list(CONTRACT_COLUMNS),
                             "source_column": [self._source(c) for c in CONTRACT_COLUMNS],
                             "present": [self._source(c).lower() in cols for c in CONTRACT_COLUMNS]})

    def count_rows(self) -> int:
        return int(self._query(f"SELECT count(*) AS n FROM {self._table_ref()}", []).iloc[0, 0])

    def read_reviews(self) -> pd.DataFrame:
        """Every spreadsheet review in the warehouse's `review_imports` table (written by `curation
        review import`); an empty frame when nobody has imported one yet."""
        from curation_dagster.lib.review import ANNOTATION_COLUMNS

        try:
            df = self._query(f"SELECT * FROM {self._ident('review_imports')}", [])
        except Exception as exc:  # noqa: BLE001 - no table yet is "no reviews", anything else is raised
            msg = str(exc).lower()
            if "review_imports" in msg and ("exist" in msg or "not found" in msg):
                return pd.DataFrame(columns=list(ANNOTATION_COLUMNS))
            raise
        df.columns = [str(c).lower() for c in df.columns]
        return df


class DuckDBWarehouse(SourceWarehouse):
    """The source table in an embedded DuckDB file (the local default, seeded by `curation demo`)."""

    database: str = Field(description="Path of the DuckDB file holding the source table.")

    def _query(self, sql: str, params: list) -> pd.DataFrame:
        with duckdb.connect(self.database, read_only=True) as con:
            return con.execute(sql, params).df()

    def _source_columns(self) -> list[str]:
        with duckdb.connect(self.database, read_only=True) as con:
            return [r[0] for r in con.execute(f"DESCRIBE {self._table_ref()}").fetchall()]


#: Columns our assets hold as float arrays (the Snowflake handler stores them as JSON text).
ARRAY_COLUMNS = ("embedding", "centroid")


def column_type(column: str, dtype, types: dict[str, str]) -> str:
    """A warehouse type for a frame column, from its dtype (DuckDB and Snowflake cannot infer one from
    an empty or all-null column). `types` names the backend's type for each kind."""
    if column in ARRAY_COLUMNS:
        return types["array"]
    kind = getattr(dtype, "kind", "O")
    if str(dtype) == "boolean" or kind == "b":
        return types["bool"]
    if kind in "iu":
        return types["int"]
    if kind == "f":
        return types["float"]
    if kind == "M":
        return types["timestamp"]
    return types["text"]


DUCKDB_TYPES = {"array": "DOUBLE[]", "bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE",
                "timestamp": "TIMESTAMP", "text": "VARCHAR"}


#: Tables nobody may have written yet (review tables before the first review, the on-demand
#: experiment grid, the topic model before its first successful fit, the judge's tables before the
#: first pool refresh that has them): loading one that does not
#: exist gives an empty frame, so the daily and pool stages that consult them run before they exist
#: (generation_clusters then fails saying to fit the topic model first).
OPTIONAL_TABLES = frozenset({"review_annotations", "cluster_annotations", "review_decisions", "cluster_decisions",
                             "clustering_experiments", "topic_model", "judged_examples", "offline_judge"})


class EmptyAwareDuckDBPandasTypeHandler(DuckDBPandasTypeHandler):
    """Creates each table from the frame's dtypes before the first write. DuckDB would otherwise type
    it from the first frame's values: an all-null column (no duplicates that day) becomes type NULL
    and the next day's values cannot be inserted, and dagster-duckdb writes no table at all for an
    empty frame, so the next step fails to load it."""

    def handle_output(self, context, table_slice, obj: pd.DataFrame, connection):
        types = [(str(c), column_type(c, t, DUCKDB_TYPES)) for c, t in obj.dtypes.items()]
        if len(obj.columns) and not table_slice.partition_dimensions:
            # a whole-table asset whose columns changed (a new version of the code location added one, or
            # an earlier frame typed a column otherwise): its rows were just deleted and are all rewritten
            # now, so the table is made anew
            had = [tuple(r) for r in connection.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? and "
                "table_name = ? order by ordinal_position", [table_slice.schema, table_slice.table]).fetchall()]
            if had and had != types:
                connection.execute(f"drop table {table_slice.schema}.{table_slice.table}")
        if len(obj.columns):
            cols = ", ".join(f'"{c}" {t}' for c, t in types)
            connection.execute(f"create table if not exists {table_slice.schema}.{table_slice.table} ({cols})")
        return super().handle_output(context, table_slice, obj, connection)

    def load_input(self, context, table_slice, connection) -> pd.DataFrame:
        if table_slice.table in OPTIONAL_TABLES:
            found = connection.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [table_slice.schema, table_slice.table]).fetchall()[0][0]
            if not found:
                return pd.DataFrame()
        return super().load_input(context, table_slice, connection)


class StorageUnreadable(Exception):
    """The pipeline storage cannot be read (a writer holds the DuckDB file, Snowflake refuses)."""


class CurationDuckDBIOManager(DuckDBPandasIOManager):
    """The local IO manager: DuckDB tables typed from the frames' dtypes, empty outputs included."""

    @staticmethod
    def type_handlers():
        return [EmptyAwareDuckDBPandasTypeHandler()]

    def where(self) -> str:
        return self.database

    def read_table(self, table: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The stored asset `table` (the given columns, all of them when None), read only, outside a
        run (the CLI); None when it was never materialized."""
        if not Path(self.database).exists():
            return None
        try:
            with duckdb.connect(self.database, read_only=True) as con:
                found = con.execute("select count(*) from information_schema.tables where table_schema = ? "
                                    "and table_name = ?", [self.schema_, table]).fetchone()[0]
                if not found:
                    return None
                cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
                return con.execute(f'select {cols} from "{self.schema_}"."{table}"').df()
        except duckdb.Error as exc:  # a writer holds the file (a run, `dagster dev`), or it is not DuckDB
            raise StorageUnreadable(f"cannot read {self.database}: {str(exc).splitlines()[0]}") from None


class DatasetStore(dg.ConfigurableResource):
    """Where finetuning_dataset publishes its files (a local folder or a mounted volume)."""

    export_dir: str = Field(description="Folder holding one sub-folder per exported dataset.")

    def path(self, dataset_name: str = "finetuning_dataset") -> Path:
        return Path(self.export_dir) / dataset_name

    def state_path(self, owner: str, what: str) -> Path:
        """A file asset `owner` keeps between runs to spare work, never part of a published dataset:
        `<export_dir>/state/<owner>.<what>` (lib.files.state_path, where the export keeps its own)."""
        return state_path(self.path(owner), what)


class EmbeddingCacheResource(dg.ConfigurableResource):
    """Content-addressed embedding cache (a DuckDB file): unchanged text is never embedded twice."""

    path: str = Field(description="DuckDB file of cached vectors.")

    def open(self):
        from curation_dagster.lib.embedding_cache import EmbeddingCache

        return EmbeddingCache(self.path)


class DedupCacheResource(dg.ConfigurableResource):
    """Each pool row's dedup hashes by content (a DuckDB file): the pool's dedup hashes only new rows."""

    path: str = Field(description="DuckDB file of cached exact keys and MinHash signatures.")

    def open(self):
        from curation_dagster.lib.dedup_cache import SignatureCache

        return SignatureCache(self.path)

    def pairs_path(self, kind: str) -> Path:
        """The pool's `kind` ("near", "semantic") pairs (lib.pool_pairs), beside the signatures: a refresh
        compares only rows it has not seen."""
        p = Path(self.path)
        return p.with_name(f"{p.stem}.{kind}_pairs.npz")


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


def label_studio_resource(environ: dict | None = None) -> dg.ConfigurableResource:
    """Label Studio when LABEL_STUDIO_URL is set (its key through EnvVar, never in config); reviewers
    from CURATION_REVIEWERS (comma-separated account emails), CURATION_ADJUDICATOR optional."""
    import os

    from curation_dagster.defs.review.resources import LabelStudioResource

    env = os.environ if environ is None else environ
    if not env.get("LABEL_STUDIO_URL"):
        return LabelStudioResource()
    if not env.get("LABEL_STUDIO_API_KEY"):
        raise ValueError("LABEL_STUDIO_URL is set but LABEL_STUDIO_API_KEY is not: set both, or neither")
    return LabelStudioResource(
        url=dg.EnvVar("LABEL_STUDIO_URL"), api_key=dg.EnvVar("LABEL_STUDIO_API_KEY"),
        reviewers=env.get("CURATION_REVIEWERS", ""), adjudicator=env.get("CURATION_ADJUDICATOR", ""),
        project_prefix=env.get("CURATION_REVIEW_PROJECT_PREFIX") or "Curation",
    )


def build_resources(deployment: str | None = None, data_dir: str | Path | None = None,
                    environ: dict | None = None) -> dict:
    """Resources for a deployment; `data_dir` overrides CURATION_DATA_DIR (tests use a temp dir).

    `local`: source table and asset tables in embedded DuckDB files. `prod`: both in Snowflake
    (credentials from SNOWFLAKE_* env vars). Exports, the embedding and dedup caches and the alert log are files
    under the data dir in both (a mounted volume in docker-compose), and so is the LLM response cache.
    Optional services (Label Studio, the LLM endpoint, Slack) are configured from their env vars in both,
    and unconfigured when those are unset.
    """
    deployment = deployment or settings.deployment()
    base = Path(data_dir) if data_dir else None
    shared = {
        "label_studio": label_studio_resource(environ),
        "llm": llm_endpoint_resource(environ, cache_path=str((base or settings.data_dir()) / "llm_cache.duckdb")),
        "dataset_store": DatasetStore(export_dir=str(base / "exports" if base else settings.export_dir())),
        "embedding_cache": EmbeddingCacheResource(path=str((base or settings.data_dir()) / "embedding_cache.duckdb")),
        "dedup_cache": DedupCacheResource(path=str((base or settings.data_dir()) / "dedup_cache.duckdb")),
        "alerts": alert_channels((base or settings.data_dir()) / "alerts.jsonl"),
    }
    if deployment == "local":
        return {
            "warehouse": DuckDBWarehouse(database=str(base / "warehouse.duckdb" if base else settings.warehouse_path())),
            "io_manager": CurationDuckDBIOManager(
                database=str(base / "pipeline.duckdb" if base else settings.storage_path()), schema="curation"),
            **shared,
        }
    if deployment == "prod":
        from curation_dagster.defs.snowflake import snowflake_resources

        return {**snowflake_resources(environ), **shared}
    raise ValueError(f"DAGSTER_DEPLOYMENT={deployment!r} is not a deployment: use 'local' (embedded DuckDB, "
                     "the default) or 'prod' (Snowflake).")


def pipeline_storage(deployment: str | None = None, data_dir: str | Path | None = None):
    """The deployment's IO manager (DuckDB locally, Snowflake in prod), for reading stored assets
    outside a run: `read_table(name, columns)` and `where()`. The CLI reads through it, so it reads
    what the assets wrote in either deployment."""
    return build_resources(deployment, data_dir)["io_manager"]
