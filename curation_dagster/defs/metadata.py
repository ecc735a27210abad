"""Small builders for the metadata a data engineer reads on each materialization."""

from __future__ import annotations

import dagster as dg
import pandas as pd


def counts_table(counts: dict, key: str = "rule", value: str = "rows") -> dg.TableMetadataValue:
    is_int = all(float(v).is_integer() for v in counts.values())
    rows = [dg.TableRecord({key: str(k), value: int(v) if is_int else float(v)})
            for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    return dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=[
        dg.TableColumn(key, "string"), dg.TableColumn(value, "int" if is_int else "float")]))


def preview(df: pd.DataFrame, columns: list[str], n: int = 5, width: int = 80) -> dg.MarkdownMetadataValue:
    if df.empty:
        return dg.MetadataValue.md("_no rows_")
    view = df[[c for c in columns if c in df.columns]].head(n).copy()
    for c in view.columns:
        view[c] = view[c].map(lambda v: (str(v)[:width] + "…") if isinstance(v, str) and len(v) > width else v)
    return dg.MetadataValue.md(view.to_markdown(index=False))
