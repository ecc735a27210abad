"""Where `curation import` and `curation review import` write: the embedded DuckDB warehouse, or the
Snowflake source schema (the same place the deployment's SourceWarehouse reads them from).

Both sinks do the same three things: append contract rows whose generation_id the table does not
hold yet (so re-imports add nothing), and keep one `import_quarantine` table of bad lines per source
file (replaced on re-import, never doubled).

A generation_id seen again (in the table, or earlier in the same batch) is "already present" only
when its content is the same: the same content hash (`content_hash`: the text fields instruction,
input_message, output and identity). With other content it is a conflict, which `add` reports so the
import quarantines it instead of silently keeping the first version. Metadata (created_at, template,
generator version, usage signals) may differ and still count as already present: the import
appends, it never updates a stored row.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from curation_dagster.lib.contract import CONTRACT_COLUMNS, conform, safe_text
from curation_dagster.lib.warehouse import (GENERATIONS_DDL, append_generations, replace_reviews, reset_quarantine,
                                           write_quarantine)

CONTENT_COLUMNS = ("instruction", "input_message", "output", "identity")


def content_hash(values) -> str:
    """SHA-256 of a row's CONTENT_COLUMNS values (in that order; None stays distinct from "")."""
    h = hashlib.sha256()
    for v in values:
        v = safe_text(v)
        h.update(b"\xff" if v is None else b"\x00" + str(len(v)).encode() + b":" + v.encode("utf-8"))
    return h.hexdigest()


@dataclass
class Added:
    """What `add` did with a batch: rows inserted, rows already present with the same content, and
    (position in the batch, reason) of rows whose generation_id is taken by other content."""
    added: int = 0
    present: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)


def split_repeats(rows: pd.DataFrame, stored: dict[str, set[str]]) -> tuple[list[int], int, list[tuple[int, str]]]:
    """(positions of new rows, count already present, conflicts) of a batch, given the content hashes
    the table holds for its ids. A row's id is compared with the table's row(s) of that id, else with
    the first row of that id earlier in the batch (which is then the one inserted)."""
    new, present, conflicts = [], 0, []
    first: dict[str, str] = {}
    ids = rows["generation_id"].tolist()
    hashes = [content_hash(v) for v in rows[list(CONTENT_COLUMNS)].itertuples(index=False, name=None)]
    for pos, (gid, h) in enumerate(zip(ids, hashes)):
        if gid in stored:
            same = h in stored[gid]
        elif gid in first:
            same = h == first[gid]
        else:
            first[gid] = h
            new.append(pos)
            continue
        if same:
            present += 1
        else:
            conflicts.append((pos, f"generation_id {gid} already imported with different content "
                                   f"(its {'/'.join(CONTENT_COLUMNS)} differ)"))
    return new, present, conflicts


def _add(sink, rows: pd.DataFrame) -> Added:
    if rows.empty:
        sink.append(rows)
        return Added()
    rows = conform(rows)
    new, present, conflicts = split_repeats(rows, sink.stored_hashes(rows["generation_id"].dropna().unique().tolist()))
    return Added(sink.append(rows.iloc[new]), present, conflicts)


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

    def add(self, rows: pd.DataFrame) -> Added:
        """Append the batch's new rows; say which were already present and which conflict (module doc)."""
        return _add(self, rows)

    def stored_hashes(self, ids: list[str]) -> dict[str, set[str]]:
        """generation_id -> content hashes the table holds, for those of `ids` it holds."""
        ddl = GENERATIONS_DDL.format(table=f'"{self.table}"').replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")
        self.con.execute(ddl).fetchall()
        if not ids:
            return {}
        self.con.register("wanted_ids", pd.DataFrame({"generation_id": ids}))
        try:
            found = self.con.execute(
                f'SELECT generation_id, {", ".join(CONTENT_COLUMNS)} FROM "{self.table}" '
                f"WHERE generation_id IN (SELECT generation_id FROM wanted_ids)").fetchall()
        finally:
            self.con.unregister("wanted_ids")
        return _by_id(found)

    def quarantine(self, source: str, entries: list, stamp: str) -> None:
        write_quarantine(self.con, source, entries, stamp)

    def replace_reviews(self, reviews: pd.DataFrame) -> None:
        """Spreadsheet reviews into `review_imports`, replacing what the same reviewer said about the
        same item in the same sheet before (lib.warehouse.replace_reviews)."""
        replace_reviews(self.con, reviews)

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

    def add(self, rows: pd.DataFrame) -> Added:
        """Append the batch's new rows; say which were already present and which conflict (module doc)."""
        return _add(self, rows)

    def stored_hashes(self, ids: list[str]) -> dict[str, set[str]]:
        """generation_id -> content hashes the table holds, for those of `ids` it holds."""
        if not ids:
            return {}
        gid = self.columns[0]
        self._write(pd.DataFrame({gid: ids}), "IMPORT_STAGE_IDS")
        cols = ", ".join(f"t.{_ident(self.mapping.get(c, c))}" for c in CONTENT_COLUMNS)
        found = self._run(f"SELECT t.{gid}, {cols} FROM {self.table} t "
                          f"WHERE t.{gid} IN (SELECT {gid} FROM IMPORT_STAGE_IDS)").fetchall()
        return _by_id(found)

    def quarantine(self, source: str, entries: list, stamp: str) -> None:
        if not entries:
            return
        frame = pd.DataFrame({"SOURCE": source, "LINE": [e.line for e in entries],
                              "REASON": [safe_text(e.reason) for e in entries],
                              "RAW": [safe_text(e.raw) for e in entries], "IMPORTED_AT": pd.Timestamp(stamp)})
        self._write(frame, "IMPORT_STAGE_QUARANTINE")
        self._run("INSERT INTO IMPORT_QUARANTINE SELECT SOURCE, LINE, REASON, RAW, IMPORTED_AT "
                  "FROM IMPORT_STAGE_QUARANTINE")

    def replace_reviews(self, reviews: pd.DataFrame) -> None:
        """Spreadsheet reviews into REVIEW_IMPORTS (beside the source table, where the prod
        SourceWarehouse reads them), replacing what the same reviewer said about the same item in the
        same sheet before, so re-importing a sheet never doubles it."""
        self._run("CREATE TABLE IF NOT EXISTS REVIEW_IMPORTS (GENERATION_ID VARCHAR, REVIEWER VARCHAR, "
                  "VERDICT VARCHAR, REASONS VARCHAR, EDITED_OUTPUT VARCHAR, ADJUDICATOR BOOLEAN, SOURCE VARCHAR, "
                  "REVIEWED_AT TIMESTAMP_NTZ, CREATED_DAY VARCHAR)")
        if reviews.empty:
            return
        staged = reviews.copy()
        staged.columns = [c.upper() for c in staged.columns]
        self._write(staged, "IMPORT_STAGE_REVIEWS")
        self._run("DELETE FROM REVIEW_IMPORTS t USING IMPORT_STAGE_REVIEWS s WHERE t.GENERATION_ID = s.GENERATION_ID "
                  "AND t.REVIEWER = s.REVIEWER AND t.SOURCE = s.SOURCE")
        cols = ", ".join(staged.columns)
        self._run(f"INSERT INTO REVIEW_IMPORTS ({cols}) SELECT {cols} FROM IMPORT_STAGE_REVIEWS")

    def close(self) -> None:
        self.conn.close()


def _by_id(found) -> dict[str, set[str]]:
    stored: dict[str, set[str]] = {}
    for gid, *values in found:
        stored.setdefault(gid, set()).add(content_hash(values))
    return stored


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
