"""Write generations into the embedded DuckDB warehouse (the local stand-in for Snowflake)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from curation_dagster.lib.contract import conform, safe_text

# No PRIMARY KEY: like Snowflake, the warehouse does not enforce one; raw_generations' checks do.
GENERATIONS_DDL = """
CREATE TABLE {table} (
    generation_id VARCHAR,
    created_at TIMESTAMP NOT NULL,
    template_id VARCHAR,
    generator_version VARCHAR,
    instruction VARCHAR,
    identity VARCHAR,
    input_message VARCHAR,
    output VARCHAR,
    copied BOOLEAN,
    sent BOOLEAN,
    edit_ratio DOUBLE,
    rating INTEGER
)
"""


def write_generations(path: str | Path, generations: pd.DataFrame, labels: pd.DataFrame | None = None,
                      table: str = "generations", replace: bool = True) -> int:
    """Create (or replace) the source table and, if given, the `generation_labels` ground truth."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df = conform(generations)
    with duckdb.connect(str(path)) as con:
        if replace:
            con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(GENERATIONS_DDL.format(table=f'"{table}"').replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
        con.register("incoming", df)
        con.execute(f'INSERT INTO "{table}" SELECT * FROM incoming')
        con.unregister("incoming")
        if labels is not None:
            lab = labels.copy()
            for c in lab.columns:
                if lab[c].dtype == object:
                    lab[c] = lab[c].map(safe_text)
            con.execute("DROP TABLE IF EXISTS generation_labels")
            con.register("lab", lab)
            con.execute("CREATE TABLE generation_labels AS SELECT * FROM lab")
            con.unregister("lab")
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def read_labels(path: str | Path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT * FROM generation_labels ORDER BY generation_id").df()


QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS import_quarantine (
    source VARCHAR, line BIGINT, reason VARCHAR, raw VARCHAR, imported_at TIMESTAMP
)
"""


def append_generations(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, table: str = "generations") -> int:
    """Insert rows whose generation_id the table does not hold yet (re-imports add nothing); returns
    how many were inserted."""
    ddl = GENERATIONS_DDL.format(table=f'"{table}"').replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")
    con.execute(ddl).fetchall()  # DuckDB wants each result finished before the next statement
    if df.empty:
        return 0
    incoming = conform(df).drop_duplicates("generation_id")
    con.register("incoming", incoming)
    before = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
    con.execute(f'INSERT INTO "{table}" SELECT * FROM incoming '
                f'WHERE generation_id NOT IN (SELECT generation_id FROM "{table}" WHERE generation_id IS NOT NULL)'
                ).fetchall()
    con.unregister("incoming")
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] - before


def reset_quarantine(con: duckdb.DuckDBPyConnection, source: str) -> None:
    con.execute(QUARANTINE_DDL).fetchall()
    con.execute("DELETE FROM import_quarantine WHERE source = ?", [source]).fetchall()


def write_quarantine(con: duckdb.DuckDBPyConnection, source: str, entries: list, imported_at: str) -> None:
    if not entries:
        return
    frame = pd.DataFrame({"source": source, "line": [e.line for e in entries],
                          "reason": [safe_text(e.reason) for e in entries], "raw": [safe_text(e.raw) for e in entries],
                          "imported_at": pd.Timestamp(imported_at)})
    con.register("q", frame)
    con.execute("INSERT INTO import_quarantine SELECT source, line, reason, raw, imported_at FROM q").fetchall()
    con.unregister("q")


REVIEWS_DDL = """
CREATE TABLE IF NOT EXISTS review_imports (
    generation_id VARCHAR, reviewer VARCHAR, verdict VARCHAR, reasons VARCHAR, edited_output VARCHAR,
    adjudicator BOOLEAN, source VARCHAR, reviewed_at TIMESTAMP, created_day VARCHAR
)
"""


def replace_reviews(con: duckdb.DuckDBPyConnection, reviews: pd.DataFrame) -> None:
    """Store spreadsheet reviews (columns of lib/review.ANNOTATION_COLUMNS) in `review_imports`,
    where the review_annotations asset picks them up, replacing what the same reviewer said
    about the same item in the same sheet before, so re-importing a sheet never doubles it."""
    con.execute(REVIEWS_DDL).fetchall()
    # tables from before the source day was recorded gain the column (empty for their rows)
    con.execute("ALTER TABLE review_imports ADD COLUMN IF NOT EXISTS created_day VARCHAR").fetchall()
    con.register("incoming", reviews)
    con.execute("DELETE FROM review_imports WHERE (generation_id, reviewer, source) IN "
                "(SELECT generation_id, reviewer, source FROM incoming)").fetchall()
    con.execute("INSERT INTO review_imports BY NAME SELECT * FROM incoming").fetchall()
    con.unregister("incoming")
