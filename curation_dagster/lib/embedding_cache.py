"""A content-addressed store of embeddings, so unchanged text is never embedded twice.

The key is sha256(model, embedded fields, text): the same text under another model or another
field choice is a different key. A backend other than the default sentence-transformers one
(lib.embedding.backend_id: "onnx-fp32/<recipe>", "onnx-int8/<recipe>") is part of the model
component, so its vectors never mix with the transformer's; the default backend keeps the keys it
always had (no re-embedding after the upgrade). Vectors live in a DuckDB table of their own file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from curation_dagster.lib.frames import list_column_rows
from curation_dagster.lib.text import sha256_hex


DEFAULT_BACKEND = "sentence-transformers"


def cache_key(model: str, fields: tuple[str, ...], text: str, backend: str = DEFAULT_BACKEND) -> str:
    if backend and backend != DEFAULT_BACKEND:
        model = f"{model}\x1e{backend}"
    return sha256_hex("\x1f".join([model, ",".join(fields), text]))


class EmbeddingCache:
    def __init__(self, path: str | Path):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(self.path) as con:
            con.execute("CREATE TABLE IF NOT EXISTS embedding_cache (key VARCHAR PRIMARY KEY, vector FLOAT[])")

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        if not keys:
            return {}
        import pyarrow as pa

        with duckdb.connect(self.path) as con:
            # one Arrow table in and out, not a statement per key nor a Python list per vector
            con.register("wanted", pa.table({"key": sorted(set(keys))}))
            table = con.sql("SELECT c.key, c.vector FROM embedding_cache c JOIN wanted USING (key)").to_arrow_table()
        return dict(zip(table.column("key").to_pylist(), list_column_rows(table.column("vector"), np.float32)))

    def put(self, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        import pyarrow as pa

        keys = list(items)
        lengths = np.array([len(items[k]) for k in keys], dtype=np.int32)
        flat = (np.concatenate([np.asarray(items[k], dtype=np.float32).ravel() for k in keys])
                if keys else np.zeros(0, np.float32))
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
        # one INSERT of an Arrow table: executemany inserted row by row (6 s for a day's 1,400 vectors)
        new = pa.table({"key": keys, "vector": pa.ListArray.from_arrays(offsets, pa.array(flat, pa.float32()))})
        with duckdb.connect(self.path) as con:
            con.register("new_vectors", new)
            con.execute("INSERT OR IGNORE INTO embedding_cache SELECT key, vector::FLOAT[] FROM new_vectors")

    def __len__(self) -> int:
        with duckdb.connect(self.path) as con:
            return con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0]


def embed_with_cache(texts: list[str], model_name: str, fields: tuple[str, ...], cache: EmbeddingCache | None,
                     embed_fn, backend: str = DEFAULT_BACKEND) -> tuple[np.ndarray, int, int]:
    """Vectors for texts, calling embed_fn(list_of_texts) only for texts not in the cache.

    `backend` is lib.embedding.backend_id(...) of the embedder behind embed_fn (keys differ per backend).
    Returns (vectors, hits, misses); a text repeated within the batch is embedded once.
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), 0, 0
    keys = [cache_key(model_name, fields, t, backend) for t in texts]
    found = cache.get(keys) if cache is not None else {}
    missing = dict(sorted({k: t for k, t in zip(keys, texts) if k not in found}.items()))
    if missing:
        fresh = embed_fn(list(missing.values()))
        new = dict(zip(missing.keys(), fresh))
        if cache is not None:
            cache.put(new)
        found.update(new)
    misses = sum(1 for k in keys if k in missing)
    return np.stack([found[k] for k in keys]).astype(np.float32), len(keys) - misses, misses
