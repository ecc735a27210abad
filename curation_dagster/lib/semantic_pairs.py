"""The pool's pairs of rows whose embeddings are nearly the same (lib.pool_pairs keeps them).

From scratch this is the pool times itself (73,000 rows x 384 dimensions: a trillion multiply-adds,
half of the pool dedup on 2 cores); with the pairs of the last refresh only the rows not seen before
are multiplied, against every row. Every pair is confirmed in float64 on the normalised vectors, so
the pairs do not depend on the block size or on what was kept.
"""

from __future__ import annotations

import numpy as np

from curation_dagster.lib.pool_pairs import PairIndex, assemble, reuse, row_digests

#: float32 products within this of the floor are confirmed in float64 (their error is ~1e-6)
MARGIN = 1e-3


def _unit64(v: np.ndarray, norms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows `rows` of v normalised in float64 (only the rows a pair needs: not a float64 copy of the pool)."""
    return np.asarray(v[rows], dtype=np.float64) / norms[rows, None]


def _pairs_of(rows: np.ndarray, against: np.ndarray | None, u32: np.ndarray, v: np.ndarray, norms: np.ndarray,
              floor: float, block: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Pairs (row of `rows`, column) at least `floor` similar: the columns are `against`, or when it is
    None the rows before each row in `rows` itself."""
    found = []
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        cols = rows[:s + len(r)] if against is None else against
        if not len(cols):
            continue
        sims = u32[r] @ u32[cols].T  # block x columns float32: 150 MB at 73,000 columns
        close = sims >= floor - MARGIN
        if against is None:
            close[:, s:s + len(r)] &= np.tri(len(r), k=-1, dtype=bool)
        i, j = np.nonzero(close)
        if not len(i):
            continue
        ri, cj = r[i], cols[j]
        exact = np.einsum("ij,ij->i", _unit64(v, norms, ri), _unit64(v, norms, cj))  # float64, whatever the blocking
        ok = exact >= floor
        found.append((ri[ok], cj[ok], exact[ok]))
    return found


def find_pairs(ids: list[str], vectors: np.ndarray, floor: float, known: PairIndex | None = None,
               block: int = 512) -> PairIndex:
    """Every pair of rows at least `floor` cosine-similar. `known`: the pairs of an earlier call; its rows
    still here with the same vector are not multiplied against each other again (used when its floor
    is at most `floor`)."""
    ids_arr = np.asarray(ids, dtype=object)
    vectors = np.asarray(vectors, dtype=np.float32)
    digests = row_digests(vectors)
    old, parts = reuse(known, ids_arr, digests, floor, usable=known is not None and known.floor <= floor)
    new_rows = np.flatnonzero(~old)
    if len(new_rows) and len(ids_arr) > 1:
        norms = np.maximum(np.linalg.norm(vectors.astype(np.float64), axis=1), 1e-12)
        u32 = np.empty_like(vectors)
        for s in range(0, len(vectors), 8192):  # normalised in float64 a slice at a time, kept in float32
            u32[s:s + 8192] = _unit64(vectors, norms, np.arange(s, min(s + 8192, len(vectors))))
        parts += _pairs_of(new_rows, np.flatnonzero(old), u32, vectors, norms, floor, block)
        parts += _pairs_of(new_rows, None, u32, vectors, norms, floor, block)
    return assemble(ids_arr, digests, parts, floor)
