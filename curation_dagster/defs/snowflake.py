"""Snowflake for `DAGSTER_DEPLOYMENT=prod`: the source table read through `SnowflakeResource`, every
asset stored by `SnowflakePandasIOManager`, credentials only ever as `EnvVar` (never in config or logs).
"""

import json
import os
import re
from collections.abc import Sequence

import dagster as dg
import numpy as np
import pandas as pd
from dagster._core.storage.db_io_manager import DbTypeHandler
from dagster_snowflake import SnowflakeResource
from dagster_snowflake_pandas import SnowflakePandasIOManager, SnowflakePandasTypeHandler

from curation_dagster.defs.resources import ARRAY_COLUMNS, SourceWarehouse, StorageUnreadable, column_type

#: Required for prod, besides a password or a private key (see README "Production").
REQUIRED_ENV = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_DATABASE")

# ARRAY_COLUMNS: Snowflake hands ARRAY/VARIANT back as JSON text, so vectors are written as JSON text
# and decoded on load: the same values come back on every backend.

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def _checked(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain Snowflake identifier (letters, digits, _ and $)")
    return name


class SnowflakeWarehouse(SourceWarehouse):
    """The source table in Snowflake. Mapped columns are read under their contract names, and only the
    partition's day is fetched (the WHERE clause runs in Snowflake)."""

    snowflake: SnowflakeResource

    def _ident(self, name: str) -> str:
        return _checked(name)  # unquoted, so Snowflake resolves names case-insensitively as users expect

    def _table_ref(self) -> str:
        return ".".join(_checked(p) for p in self.table.split("."))

    def _placeholder(self) -> str:
        return "%s"

    def _query(self, sql: str, params: list) -> pd.DataFrame:
        with self.snowflake.get_connection() as conn:
            cur = conn.cursor()
            cur.execute(sql, params)
            return cur.fetch_pandas_all()

    def _source_columns(self) -> list[str]:
        with self.snowflake.get_connection() as conn:
            cur = conn.cursor()
            cur.execute(f"SELECT * FROM {self._table_ref()} LIMIT 0")
            names = [d[0] for d in cur.description]
        return names


# vectors as JSON text, see ArrayAwareSnowflakePandasTypeHandler
SNOWFLAKE_TYPES = {"array": "VARCHAR", "bool": "BOOLEAN", "int": "NUMBER(38,0)", "float": "FLOAT",
                   "timestamp": "TIMESTAMP_NTZ", "text": "VARCHAR"}


class ArrayAwareSnowflakePandasTypeHandler(SnowflakePandasTypeHandler):
    """pandas <-> Snowflake, with the vector columns round-tripped as JSON text."""

    def handle_output(self, context, table_slice, obj: pd.DataFrame, connection):
        if obj.empty and len(obj.columns):
            # dagster-snowflake-pandas writes no table for an empty frame; the next step would fail to load it
            cols = ", ".join(f'"{str(c).upper()}" {column_type(str(c), t, SNOWFLAKE_TYPES)}' for c, t in obj.dtypes.items())
            where = ".".join(x.upper() for x in (table_slice.database, table_slice.schema, table_slice.table) if x)
            connection.cursor().execute(f"CREATE TABLE IF NOT EXISTS {where} ({cols})")
        obj = obj.copy()
        for col in ARRAY_COLUMNS:
            if col in obj.columns:
                obj[col] = [None if v is None else json.dumps(np.asarray(v, dtype=float).tolist()) for v in obj[col]]
        return super().handle_output(context, table_slice, obj, connection)

    def load_input(self, context, table_slice, connection) -> pd.DataFrame:
        from curation_dagster.defs.resources import OPTIONAL_TABLES

        try:
            df = super().load_input(context, table_slice, connection)
        except Exception as exc:  # noqa: BLE001 - only a review table nobody wrote yet is "empty"
            if table_slice.table.lower() in OPTIONAL_TABLES and "does not exist" in str(exc).lower():
                return pd.DataFrame()
            raise
        return decode_arrays(df)


def decode_arrays(df: pd.DataFrame) -> pd.DataFrame:
    """Vector columns stored as JSON text back to lists."""
    for col in ARRAY_COLUMNS:
        if col in df.columns:
            df[col] = [v if not isinstance(v, str) else json.loads(v) for v in df[col]]
    return df


class CurationSnowflakeIOManager(SnowflakePandasIOManager):
    """Stores every curation asset as a Snowflake table (partitions by `created_at` day)."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [ArrayAwareSnowflakePandasTypeHandler()]

    def where(self) -> str:
        db = self.database
        return f"Snowflake {db.get_value() if isinstance(db, dg.EnvVar) else db}.{self.schema_}"

    def read_table(self, table: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The stored asset `table` (the given columns, all when None, lower-cased as the assets wrote
        them), outside a run (the CLI); None when it was never materialized."""
        import snowflake.connector

        fields = ("account", "user", "password", "warehouse", "database", "role", "private_key", "private_key_path",
                  "private_key_password", "authenticator")
        # the IO manager's own connection fields (EnvVars resolved here), key-pair auth included
        resource = SnowflakeResource(**{f: getattr(self, f) for f in fields if getattr(self, f) is not None},
                                     schema=self.schema_).process_config_and_initialize()
        try:
            with resource.get_connection() as conn:
                cur = conn.cursor()
                cur.execute("select count(*) from information_schema.tables where table_schema = %s "
                            "and table_name = %s", [_checked(self.schema_).upper(), _checked(table).upper()])
                if not cur.fetchone()[0]:
                    return None
                cols = ", ".join(_checked(c) for c in columns) if columns else "*"
                cur.execute(f"select {cols} from {_checked(table)}")
                df = cur.fetch_pandas_all()
        except snowflake.connector.errors.Error as exc:
            raise StorageUnreadable(f"cannot read {self.where()}: {exc}") from None
        df.columns = [c.lower() for c in df.columns]
        return decode_arrays(df)


def snowflake_credentials(environ: dict | None = None) -> dict:
    """Connection fields from SNOWFLAKE_* env vars, each secret passed as `dg.EnvVar` so the value is
    read when a run connects and never lands in run config, the UI or the event log."""
    env = os.environ if environ is None else environ
    missing = [k for k in REQUIRED_ENV if not env.get(k)]
    if not (env.get("SNOWFLAKE_PASSWORD") or env.get("SNOWFLAKE_PRIVATE_KEY") or env.get("SNOWFLAKE_PRIVATE_KEY_PATH")):
        missing.append("SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PRIVATE_KEY_PATH")
    if missing:
        raise ValueError(
            "DAGSTER_DEPLOYMENT=prod reads the warehouse from Snowflake and needs these environment "
            f"variables: {', '.join(missing)} (template: .env.example; README 'Production').")
    fields: dict = {"account": dg.EnvVar("SNOWFLAKE_ACCOUNT"), "user": dg.EnvVar("SNOWFLAKE_USER"),
                    "warehouse": dg.EnvVar("SNOWFLAKE_WAREHOUSE"), "database": dg.EnvVar("SNOWFLAKE_DATABASE")}
    for field, var in (("password", "SNOWFLAKE_PASSWORD"), ("private_key", "SNOWFLAKE_PRIVATE_KEY"),
                       ("private_key_path", "SNOWFLAKE_PRIVATE_KEY_PATH"),
                       ("private_key_password", "SNOWFLAKE_PRIVATE_KEY_PASSWORD"), ("role", "SNOWFLAKE_ROLE")):
        if env.get(var):
            fields[field] = dg.EnvVar(var)
    return fields


def snowflake_resources(environ: dict | None = None) -> dict:
    """The warehouse and IO manager of the prod deployment.

    Source: CURATION_SOURCE_TABLE (default GENERATIONS) in SNOWFLAKE_SCHEMA (default PUBLIC), columns
    renamed by CURATION_SOURCE_COLUMN_MAPPING (JSON: contract column -> your column). Outputs: one
    table per asset in CURATION_SNOWFLAKE_OUTPUT_SCHEMA (default CURATION).
    """
    env = os.environ if environ is None else environ
    creds = snowflake_credentials(env)
    mapping = env.get("CURATION_SOURCE_COLUMN_MAPPING") or "{}"
    try:
        column_mapping = json.loads(mapping)
    except json.JSONDecodeError as exc:
        raise ValueError(f"CURATION_SOURCE_COLUMN_MAPPING is not valid JSON: {exc}") from exc
    if not isinstance(column_mapping, dict):
        raise ValueError("CURATION_SOURCE_COLUMN_MAPPING must be a JSON object: contract column -> your column")
    return {
        "warehouse": SnowflakeWarehouse(
            snowflake=SnowflakeResource(**creds, schema=env.get("SNOWFLAKE_SCHEMA") or "PUBLIC"),
            table=env.get("CURATION_SOURCE_TABLE") or "GENERATIONS",
            column_mapping=column_mapping,
        ),
        "io_manager": CurationSnowflakeIOManager(
            **creds, schema=env.get("CURATION_SNOWFLAKE_OUTPUT_SCHEMA") or "CURATION"),
    }
