"""Small pandas (and Arrow) helpers shared by the stages."""

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


#: what the pool stages read of generation_embeddings: the pool table holds no vectors (each refresh
#: would write all of them again: 4.7 s of a 100,000-row add-day run), so they join them by id
EMBEDDING_COLUMNS = ["generation_id", "embedding"]


def pool_with_embeddings_sql(schema: str = "curation") -> str:
    """SQL over the pipeline storage for with_embeddings' frame (benchmarks and notebooks reading DuckDB)."""
    return (f"SELECT d.*, e.embedding FROM {schema}.deduplicated_generations d "
            f"JOIN {schema}.generation_embeddings e USING (generation_id)")


def with_embeddings(pool: pd.DataFrame, embeddings: pd.DataFrame) -> pd.DataFrame:
    """`pool` (deduplicated_generations, in its order) with each row's vector from `embeddings`
    (generation_embeddings, every day) as an `embedding` column. A pool row whose vector is gone (its
    day re-materialized since the pool refresh) is left out, as pool_frame leaves out a kept row
    without one; an id stored twice gives its first vector, so no pool row is repeated."""
    if "embedding" in pool.columns:
        pool = pool.drop(columns="embedding")
    if not len(pool):
        return pool.assign(embedding=pd.Series(dtype=object))
    vectors = embeddings.drop_duplicates("generation_id").set_index("generation_id")["embedding"] \
        if len(embeddings) else pd.Series(dtype=object)
    out = pool.assign(embedding=pool["generation_id"].map(vectors))
    return out[out["embedding"].notna()].reset_index(drop=True) if out["embedding"].isna().any() else out


def embedding_matrix(df: pd.DataFrame, column: str = "embedding"):
    """The rows' stored embeddings as one float32 matrix (n x d); (0 x 1) for no rows."""
    import numpy as np

    if df is None or not len(df):
        return np.zeros((0, 1), np.float32)
    return np.stack(df[column].to_numpy()).astype(np.float32)


def list_column_rows(column, dtype) -> list:
    """Each row of an Arrow list column (a DuckDB FLOAT[] / UBIGINT[] read with to_arrow_table) as a numpy
    array: slices of one flat array, not a Python list per row (fetchall took 2.9 s for 74,688 signatures)."""
    lists = column.combine_chunks()
    flat = lists.flatten().to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    bounds = lists.offsets.to_numpy()
    return [flat[bounds[i]:bounds[i + 1]] for i in range(len(lists))]
