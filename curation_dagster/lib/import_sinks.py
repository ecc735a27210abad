"""Where `curation import` writes: the embedded DuckDB warehouse, or the Snowflake source table.

Both sinks do the same three things: append contract rows whose generation_id the table does not
hold yet (so re-imports add nothing), and keep one `import_quarantine` table of bad lines per source
file (replaced on re-import, never doubled).
"""

from __future__ import annotations

import json
import os
import re

import duckdb
import pandas as pd

from curation_dagster.lib.contract import CONTRACT_COLUMNS, conform, safe_text
from curation_dagster.lib.warehouse import append_generations, reset_quarantine, write_quarantine


class DuckDBSink:
    def __init__(self, path: str, table: str = "generations", memory_limit: str = "512MB"):
        self.where = f"{path} table {table}"
        self.table = table
        self.con = duckdb.connect(path)
        self.con.execute("SET memory_limit = ?", [memory_limit]).fetchall()  # bounded, whatever the file size

    def reset_quarantine(self, source: str) -> None:
        reset_quarantine(self.con, source)

    def append(self, rows: pd.DataFrame) -> int:
        return append_generations(self.con, rows, self.table)

    def quarantine(self, source: str, entries: list, stamp: str) -> None:
        write_quarantine(self.con, source, entries, stamp)

    def close(self) -> None:
        self.con.close()


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain Snowflake identifier")
    return name.upper()


SNOWFLAKE_TYPES = {"created_at": "TIMESTAMP_NTZ", "copied": "BOOLEAN", "sent": "BOOLEAN", "edit_ratio": "FLOAT",
                   "rating": "NUMBER(2,0)"}


def snowflake_connect(environ: dict | None = None):
    """A connector connection from the same SNOWFLAKE_* variables the prod deployment reads."""
    import snowflake.connector

    env = os.environ if environ is None else environ
    args = {k: env[v] for k, v in (("account", "SNOWFLAKE_ACCOUNT"), ("user", "SNOWFLAKE_USER"),
                                   ("password", "SNOWFLAKE_PASSWORD"), ("warehouse", "SNOWFLAKE_WAREHOUSE"),
                                   ("database", "SNOWFLAKE_DATABASE"), ("role", "SNOWFLAKE_ROLE"),
                                   ("private_key_file", "SNOWFLAKE_PRIVATE_KEY_PATH"),
                                   ("private_key_file_pwd", "SNOWFLAKE_PRIVATE_KEY_PASSWORD")) if env.get(v)}
    missing = [v for v in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_DATABASE") if not env.get(v)]
    if missing:
        raise ValueError(f"importing into Snowflake needs {', '.join(missing)} (see .env.example)")
    return snowflake.connector.connect(**args, schema=env.get("SNOWFLAKE_SCHEMA") or "PUBLIC")


class SnowflakeSink:
    """Appends to the prod source table (CURATION_SOURCE_TABLE, columns named through
    CURATION_SOURCE_COLUMN_MAPPING), creating it with the contract's columns if it does not exist."""

    def __init__(self, conn, table: str = "GENERATIONS", mapping: dict | None = None):
        self.conn, self.mapping = conn, dict(mapping or {})
        self.table = ".".join(_ident(p) for p in table.split("."))
        self.where = f"Snowflake table {self.table}"
        self.columns = [_ident(self.mapping.get(c, c)) for c in CONTRACT_COLUMNS]
        cols = ", ".join(f"{name} {SNOWFLAKE_TYPES.get(c, 'VARCHAR')}" for c, name in zip(CONTRACT_COLUMNS, self.columns))
        self._run(f"CREATE TABLE IF NOT EXISTS {self.table} ({cols})")
        self._run("CREATE TABLE IF NOT EXISTS IMPORT_QUARANTINE (SOURCE VARCHAR, LINE NUMBER, REASON VARCHAR, "
                  "RAW VARCHAR, IMPORTED_AT TIMESTAMP_NTZ)")

    def _run(self, sql: str, params=None):
        cur = self.conn.cursor()
        cur.execute(sql, params)
        return cur

    def reset_quarantine(self, source: str) -> None:
        self._run("DELETE FROM IMPORT_QUARANTINE WHERE SOURCE = %s", [source])

    def _write(self, frame: pd.DataFrame, table: str) -> None:
        from snowflake.connector.pandas_tools import write_pandas

        write_pandas(self.conn, frame, table, auto_create_table=True, overwrite=True, table_type="temporary",
                     use_logical_type=True, quote_identifiers=False)

    def append(self, rows: pd.DataFrame) -> int:
        if rows.empty:
            return 0
        staged = conform(rows).drop_duplicates("generation_id")
        staged.columns = self.columns
        self._write(staged, "IMPORT_STAGE_GENERATIONS")
        gid = self.columns[0]
        cols = ", ".join(self.columns)
        before = self._run(f"SELECT count(*) FROM {self.table}").fetchone()[0]
        # the anti-join runs in Snowflake: a re-import sends rows but inserts none
        self._run(f"INSERT INTO {self.table} ({cols}) SELECT {cols} FROM IMPORT_STAGE_GENERATIONS s "
                  f"WHERE NOT EXISTS (SELECT 1 FROM {self.table} t WHERE t.{gid} = s.{gid})")
        return self._run(f"SELECT count(*) FROM {self.table}").fetchone()[0] - before

    def quarantine(self, source: str, entries: list, stamp: str) -> None:
        if not entries:
            return
        frame = pd.DataFrame({"SOURCE": source, "LINE": [e.line for e in entries],
                              "REASON": [safe_text(e.reason) for e in entries],
                              "RAW": [safe_text(e.raw) for e in entries], "IMPORTED_AT": pd.Timestamp(stamp)})
        self._write(frame, "IMPORT_STAGE_QUARANTINE")
        self._run("INSERT INTO IMPORT_QUARANTINE SELECT SOURCE, LINE, REASON, RAW, IMPORTED_AT "
                  "FROM IMPORT_STAGE_QUARANTINE")

    def close(self) -> None:
        self.conn.close()


def open_sink(deployment: str, warehouse: str | None, table: str | None, memory_limit: str,
              default_duckdb: str, environ: dict | None = None):
    """DuckDB for local (or whenever --warehouse names a file), Snowflake for prod."""
    if warehouse or deployment == "local":
        return DuckDBSink(warehouse or default_duckdb, table or "generations", memory_limit)
    if deployment == "prod":
        env = os.environ if environ is None else environ
        mapping = json.loads(env.get("CURATION_SOURCE_COLUMN_MAPPING") or "{}")
        return SnowflakeSink(snowflake_connect(env), table or env.get("CURATION_SOURCE_TABLE") or "GENERATIONS",
                             mapping)
    raise ValueError(f"DAGSTER_DEPLOYMENT={deployment!r} is not a deployment: use 'local' or 'prod'")
