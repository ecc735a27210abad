"""Small pandas helpers shared by the stages."""

from __future__ import annotations

import pandas as pd


def with_columns(df: pd.DataFrame | None, columns: dict) -> pd.DataFrame:
    """`df` with at least `columns` (name -> dtype), typed: an empty frame (a review table nobody has
    written yet) becomes a typed empty table, so the stages and the warehouse see real columns."""
    df = pd.DataFrame() if df is None else df.copy()
    n = len(df)
    for col, dtype in columns.items():
        if col not in df.columns:
            df[col] = pd.Series([None] * n, index=df.index, dtype=object)
        if n == 0 or dtype is not object:
            try:
                df[col] = df[col].astype(dtype)
            except (TypeError, ValueError):
                if n:
                    raise
                df[col] = pd.Series([], dtype=dtype)
        else:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def embedding_matrix(df: pd.DataFrame, column: str = "embedding"):
    """The rows' stored embeddings as one float32 matrix (n x d); (0 x 1) for no rows."""
    import numpy as np

    if df is None or not len(df):
        return np.zeros((0, 1), np.float32)
    return np.stack(df[column].to_numpy()).astype(np.float32)
