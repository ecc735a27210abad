"""Exact, near-duplicate and semantic duplicate detection (one day's batch, or the whole pool).

Keep rule (documented, deterministic): `find_duplicates` keeps the first row of the order it is given
(the daily filter passes created_at, then generation_id: the earliest); `deduplicate_pool` keeps the
highest quality score, then the earliest. Every other row records the kept row's id in `duplicate_of`.
Near duplicates use MinHash LSH over word 3-shingles of the normalised instruction, input message and
output together, confirmed by the exact Jaccard similarity, so the cost grows with the batch, not with its square.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from curation_dagster.lib.text import normalize_for_dedup, sha256_hex

_PRIME = (1 << 61) - 1


@dataclass(frozen=True)
class DuplicateHit:
    generation_id: str
    duplicate_of: str
    kind: str  # "exact_duplicate" | "near_duplicate" | "semantic_duplicate"
    similarity: float


def exact_key(instruction: str | None, input_message: str | None, output: str | None) -> str:
    return sha256_hex("\x1f".join(normalize_for_dedup(t or "") for t in (instruction, input_message, output)))


def shingles(text: str, k: int = 3) -> set[int]:
    toks = normalize_for_dedup(text).split()
    if len(toks) < k:
        return {zlib.crc32(" ".join(toks).encode())} if toks else set()
    return {zlib.crc32(" ".join(toks[i : i + k]).encode()) for i in range(len(toks) - k + 1)}


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _minhash(sets: list[set[int]], num_perm: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, _PRIME, size=num_perm, dtype=np.uint64)
    sig = np.full((len(sets), num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, s in enumerate(sets):
        if s:
            x = np.fromiter(s, dtype=np.uint64, count=len(s))[:, None]
            # uint64 wrap-around multiplication is a fine universal-ish hash for banding purposes
            sig[i] = ((x * a + b) % _PRIME).min(axis=0)
    return sig


@dataclass(frozen=True)
class RowSignatures:
    """Per row: the exact-duplicate key and the MinHash signature of its word 3-shingles (num_perm x uint64)."""

    exact_keys: list[str]
    signatures: np.ndarray


def row_signatures(instructions: list[str | None], input_messages: list[str | None], outputs: list[str | None],
                   num_perm: int = 64, seed: int = 0) -> RowSignatures:
    """What find_duplicates hashes per row, computed apart so it can be kept between runs."""
    texts = [" ".join(t or "" for t in row) for row in zip(instructions, input_messages, outputs)]
    return RowSignatures([exact_key(*row) for row in zip(instructions, input_messages, outputs)],
                         _minhash([shingles(t) for t in texts], num_perm, seed))


#: how far below the near-duplicate threshold a pair's MinHash estimate may fall and still be confirmed
SIGNATURE_MARGIN = 0.3


def signature_floor(near_threshold: float, num_perm: int) -> int:
    """Fewest agreeing signature components a candidate pair needs before its Jaccard is computed.

    A pair exactly at the threshold t agrees on Binomial(num_perm, t) components; at t = 0.7 and 64
    components it falls below this floor (26) with probability 3e-7, so the result is that of confirming
    every candidate except for odds that small, and pairs far below the threshold are never shingled."""
    return max(0, math.ceil((near_threshold - SIGNATURE_MARGIN) * num_perm))


def find_duplicates(
    ids: list[str],
    order_keys: list[tuple],
    instructions: list[str | None],
    input_messages: list[str | None],
    outputs: list[str | None],
    near_threshold: float = 0.7,
    num_perm: int = 64,
    bands: int = 16,
    seed: int = 0,
    known: "RowSignatures | None" = None,
) -> list[DuplicateHit]:
    """Return one hit per row that duplicates an earlier-ordered row of the batch.

    `known`: each row's exact key and MinHash signature, computed before (row_signatures, e.g. from
    a cache); the result is the same as without it, only the per-row hashing is skipped. The word
    shingles are then built only for rows whose signatures collide, to confirm the Jaccard."""
    order = sorted(range(len(ids)), key=lambda i: order_keys[i])
    hits: dict[int, DuplicateHit] = {}
    texts = [" ".join(t or "" for t in (instructions[i], input_messages[i], outputs[i])) for i in range(len(ids))]
    exact = known.exact_keys if known is not None else [
        exact_key(instructions[i], input_messages[i], outputs[i]) for i in range(len(ids))]

    first_by_key: dict[str, int] = {}
    for i in order:
        key = exact[i]
        if key in first_by_key:
            hits[i] = DuplicateHit(ids[i], ids[first_by_key[key]], "exact_duplicate", 1.0)
        else:
            first_by_key[key] = i

    survivors = [i for i in order if i not in hits]
    if near_threshold >= 1.0 or len(survivors) < 2:
        return [hits[i] for i in order if i in hits]
    if known is not None:
        sig = known.signatures[survivors]
        memo: dict[int, set[int]] = {}

        def shingle_set(pos: int) -> set[int]:
            if pos not in memo:
                memo[pos] = shingles(texts[survivors[pos]])
            return memo[pos]
    else:
        sets = [shingles(texts[i]) for i in survivors]
        sig = _minhash(sets, num_perm, seed)
        shingle_set = sets.__getitem__
    rows = num_perm // bands
    candidates: dict[int, set[int]] = {}
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for pos in range(len(survivors)):
            buckets.setdefault(sig[pos, band * rows : (band + 1) * rows].tobytes(), []).append(pos)
        for members in buckets.values():
            for j in range(1, len(members)):
                candidates.setdefault(members[j], set()).update(members[:j])
    # A pair is confirmed by its exact Jaccard only when its signatures could be at the threshold: on
    # templated pools most LSH candidates share a template and sit far below it, and confirming them all
    # was most of the pool step (1.8 million Jaccards on 73,000 generated rows).
    floor = signature_floor(near_threshold, sig.shape[1])
    # walk in time order: a row is a near duplicate of the earliest kept row it matches
    for pos in range(len(survivors)):
        if pos not in candidates:
            continue
        others = np.fromiter(sorted(candidates[pos]), dtype=np.int64, count=len(candidates[pos]))
        others = others[np.count_nonzero(sig[others] == sig[pos], axis=1) >= floor]
        best = None
        for other in others.tolist():
            if survivors[other] in hits:
                continue
            sim = jaccard(shingle_set(pos), shingle_set(other))
            if sim >= near_threshold:
                best = (other, sim)
                break
        if best is not None:
            i = survivors[pos]
            hits[i] = DuplicateHit(ids[i], ids[survivors[best[0]]], "near_duplicate", round(best[1], 4))
    return [hits[i] for i in order if i in hits]


def semantic_duplicates(ids: list[str], vectors: np.ndarray, threshold: float = 0.995,
                        block: int = 512) -> list[DuplicateHit]:
    """Rows whose embedding is at least `threshold` cosine-similar to a row before them in the given
    order (callers pass rows in keep order); each points at the first such row that is itself kept.

    Exact blocked search (one matrix product per block of rows against the rows before it), so the
    result is deterministic; at 50,000 rows x 384 dimensions it costs seconds, not an index.
    """
    n = len(ids)
    if n < 2 or threshold > 1.0:
        return []
    v = np.asarray(vectors, dtype=np.float32)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    removed = np.zeros(n, dtype=bool)
    hits: list[DuplicateHit] = []
    for start in range(0, n, block):
        end = min(start + block, n)
        sims = v[start:end] @ v[:end].T  # block x end float32: 150 MB at 73,000 rows, not 600 as at 2,048
        close = sims >= threshold
        close[:, start:end] &= np.tri(end - start, k=-1, dtype=bool)  # only rows before each row count
        # rows with nothing close (nearly all) are skipped without a Python step each
        for r in np.flatnonzero(close.any(axis=1)).tolist():
            i = start + r
            cand = np.flatnonzero(close[r, :i])
            cand = cand[~removed[cand]]
            if len(cand):
                j = int(cand[0])
                removed[i] = True
                hits.append(DuplicateHit(ids[i], ids[j], "semantic_duplicate", round(float(sims[r, j]), 4)))
    return hits


def keep_order(quality: list[float], created_at: list, ids: list[str]) -> list[int]:
    """The pool's keep rule: highest quality score first, then earliest, then smallest id."""
    q = [float(x) if x == x else float("-inf") for x in quality]  # NaN quality sorts last
    return sorted(range(len(ids)), key=lambda i: (-q[i], created_at[i], ids[i]))


def deduplicate_pool(ids: list[str], created_at: list, quality: list[float], instructions: list[str | None],
                     input_messages: list[str | None], outputs: list[str | None], vectors: np.ndarray | None,
                     near_threshold: float = 0.7, semantic_threshold: float = 0.995,
                     seed: int = 0, known: RowSignatures | None = None) -> list[DuplicateHit]:
    """Exact, near and semantic duplicates across the whole pool (every day at once).

    Keep rule: in each group the row with the highest quality score is kept (ties: earliest, then
    smallest id); every other row records the kept row's id. Exact and near duplicates are found
    first; semantic duplicates only among the rows that survive them.
    """
    order = keep_order(quality, created_at, ids)
    rank = {i: r for r, i in enumerate(order)}
    hits = find_duplicates(ids, [(rank[i],) for i in range(len(ids))], instructions, input_messages, outputs,
                           near_threshold=near_threshold, seed=seed, known=known)
    gone = {h.generation_id for h in hits}
    if vectors is not None and semantic_threshold <= 1.0:
        survivors = [i for i in order if ids[i] not in gone]
        hits += semantic_duplicates([ids[i] for i in survivors], np.asarray(vectors)[survivors], semantic_threshold)
    # a row kept by one method can be removed by the next: point every duplicate at the row that stays
    target = {h.generation_id: h.duplicate_of for h in hits}

    def final(gid: str) -> str:
        seen = set()
        while gid in target and gid not in seen:
            seen.add(gid)
            gid = target[gid]
        return gid

    return [DuplicateHit(h.generation_id, final(h.duplicate_of), h.kind, h.similarity) for h in hits]
