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
