"""Similar pairs of rows, kept between refreshes, and the keep-order walk that turns them into duplicates.

Both duplicate searches over the whole pool (near: word-shingle Jaccard; semantic: embedding cosine)
and the export's search over its chat records compare every row with every other. A refresh that adds
a day has new pairs only among the new rows and between them and the rest, so the pairs found are kept
(`PairIndex`, with a digest of what each row was compared on) and a refresh compares only the rows it
has not seen, or whose digest changed. A pair is a property of its two rows alone, so the pairs, and
the duplicates the walk takes from them, are the same from scratch or incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

_DIGEST_SEED = 20261207
EMPTY_INDEX = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class PairIndex:
    """Rows `ids` (with a digest of what each was compared on) and every pair among them at least
    `floor` similar: rows ids[a[k]] and ids[b[k]] (a[k] < b[k]) have similarity sim[k]."""

    ids: np.ndarray
    digests: np.ndarray
    a: np.ndarray
    b: np.ndarray
    sim: np.ndarray
    floor: float

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a temp file's name
            np.savez(f, ids=self.ids.astype(str), digests=self.digests, a=self.a, b=self.b, sim=self.sim,
                     floor=np.float64(self.floor))

    @classmethod
    def load(cls, path: str | Path | None) -> "PairIndex | None":
        """The kept pairs, or None when there are none (or the file is unreadable: then all are found again)."""
        if path is None:
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z["ids"].astype(object), z["digests"], z["a"], z["b"], z["sim"], float(z["floor"]))
        except (OSError, KeyError, ValueError):
            return None


def row_digests(values: np.ndarray, block: int = 8192) -> np.ndarray:
    """A 64-bit digest of each row's bits (float32 vectors, uint64 signatures): equal rows, equal
    digests; another row, almost surely another digest (a random linear hash of its 32-bit words)."""
    v = np.ascontiguousarray(values)
    words = v.view(np.uint32).reshape(len(v), -1) if len(v) else np.zeros((0, 1), dtype=np.uint32)
    mult = np.random.default_rng(_DIGEST_SEED).integers(1, 2**63, size=words.shape[1], dtype=np.uint64)
    mult |= np.uint64(1)
    out = np.empty(len(v), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for s in range(0, len(v), block):
            out[s:s + block] = (words[s:s + block].astype(np.uint64) * mult).sum(axis=1, dtype=np.uint64)
    return out


def reuse(known: PairIndex | None, ids: np.ndarray, digests: np.ndarray, floor: float, usable: bool
          ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(which rows `known` already compared, unchanged; its pairs among them at or above `floor`, as row
    indices of `ids`). Nothing when `known` is None or not `usable` (compared under other settings)."""
    old = np.zeros(len(ids), dtype=bool)
    if known is None or not usable or not len(known.ids) or len(set(ids.tolist())) < len(ids):
        return old, []
    where = {g: k for k, g in enumerate(known.ids.tolist())}
    at = np.array([where.get(g, -1) for g in ids.tolist()], dtype=np.int64)
    hit = at >= 0
    old[hit] = known.digests[at[hit]] == digests[hit]
    here = np.full(len(known.ids), -1, dtype=np.int64)
    here[at[old]] = np.flatnonzero(old)
    ka, kb = here[known.a], here[known.b]
    keep = (ka >= 0) & (kb >= 0) & (known.sim >= floor)
    return old, [(ka[keep], kb[keep], known.sim[keep])]


def assemble(ids: np.ndarray, digests: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
             floor: float) -> PairIndex:
    """One PairIndex from pairs found in parts (row indices either way round, each pair once)."""
    a = np.concatenate([p[0] for p in parts]).astype(np.int64) if parts else EMPTY_INDEX
    b = np.concatenate([p[1] for p in parts]).astype(np.int64) if parts else EMPTY_INDEX
    sim = np.concatenate([p[2] for p in parts]).astype(np.float64) if parts else np.zeros(0)
    a, b = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((a, b))
    return PairIndex(ids, digests, a[order], b[order], sim[order], floor)


def first_kept_neighbours(order_ids: list[str], pairs: PairIndex, threshold: float
                          ) -> list[tuple[str, str, float]]:
    """Walk `order_ids` (the keep order) and return (row, the first earlier row still kept that it is
    at least `threshold` similar to, similarity) for every row removed. Rows of `pairs` not in
    `order_ids` (removed before, by another rule) neither stay nor match."""
    pos = {g: k for k, g in enumerate(order_ids)}
    at = np.array([pos.get(g, -1) for g in pairs.ids.tolist()], dtype=np.int64)
    pa, pb = (at[pairs.a], at[pairs.b]) if len(at) else (EMPTY_INDEX, EMPTY_INDEX)
    use = (pa >= 0) & (pb >= 0) & (pairs.sim >= threshold)
    pa, pb, sim = pa[use], pb[use], pairs.sim[use]
    first, later = np.minimum(pa, pb), np.maximum(pa, pb)
    order = np.lexsort((first, later))
    first, later, sim = first[order], later[order], sim[order]
    removed = np.zeros(len(order_ids), dtype=bool)
    out: list[tuple[str, str, float]] = []
    start = 0
    for end in [*(np.flatnonzero(np.diff(later)) + 1).tolist(), len(later)]:
        if end == start:
            continue
        row = int(later[start])
        free = np.flatnonzero(~removed[first[start:end]])
        if len(free):
            k = start + int(free[0])
            removed[row] = True
            out.append((order_ids[row], order_ids[int(first[k])], float(sim[k])))
        start = end
    return out
