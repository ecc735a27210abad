"""Small builders for the metadata a data engineer reads on each materialization."""

from __future__ import annotations

import dagster as dg
import pandas as pd


def counts_table(counts: dict[str, int], key: str = "rule", value: str = "rows") -> dg.TableMetadataValue:
    rows = [dg.TableRecord({key: k, value: int(v)}) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return dg.MetadataValue.table(
        rows, schema=dg.TableSchema(columns=[dg.TableColumn(key, "string"), dg.TableColumn(value, "int")])
    )


def preview(df: pd.DataFrame, columns: list[str], n: int = 5, width: int = 80) -> dg.MarkdownMetadataValue:
    if df.empty:
        return dg.MetadataValue.md("_no rows_")
    view = df[[c for c in columns if c in df.columns]].head(n).copy()
    for c in view.columns:
        view[c] = view[c].map(lambda v: (str(v)[:width] + "…") if isinstance(v, str) and len(v) > width else v)
    return dg.MetadataValue.md(view.to_markdown(index=False))
