"""Exact and near-duplicate detection within a batch of generations.

Keep rule (documented, deterministic): in each duplicate group the earliest row (created_at, then
generation_id) is kept; every other row records the kept row's id in `duplicate_of`.
Near duplicates use MinHash LSH over word 3-shingles of the normalised instruction, input message and
output together, confirmed by the exact Jaccard similarity, so the cost grows with the batch, not with its square.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from curation_dagster.lib.text import normalize_for_dedup, sha256_hex

_PRIME = (1 << 61) - 1


@dataclass(frozen=True)
class DuplicateHit:
    generation_id: str
    duplicate_of: str
    kind: str  # "exact_duplicate" | "near_duplicate"
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
) -> list[DuplicateHit]:
    """Return one hit per row that duplicates an earlier-ordered row of the batch."""
    order = sorted(range(len(ids)), key=lambda i: order_keys[i])
    hits: dict[int, DuplicateHit] = {}

    first_by_key: dict[str, int] = {}
    for i in order:
        key = exact_key(instructions[i], input_messages[i], outputs[i])
        if key in first_by_key:
            hits[i] = DuplicateHit(ids[i], ids[first_by_key[key]], "exact_duplicate", 1.0)
        else:
            first_by_key[key] = i

    survivors = [i for i in order if i not in hits]
    if near_threshold >= 1.0 or len(survivors) < 2:
        return [hits[i] for i in order if i in hits]
    sets = [shingles(" ".join(t or "" for t in (instructions[i], input_messages[i], outputs[i]))) for i in survivors]
    sig = _minhash(sets, num_perm, seed)
    rows = num_perm // bands
    candidates: dict[int, set[int]] = {}
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for pos in range(len(survivors)):
            buckets.setdefault(sig[pos, band * rows : (band + 1) * rows].tobytes(), []).append(pos)
        for members in buckets.values():
            for j in range(1, len(members)):
                candidates.setdefault(members[j], set()).update(members[:j])
    # walk in time order: a row is a near duplicate of the earliest kept row it matches
    for pos in range(len(survivors)):
        best = None
        for other in sorted(candidates.get(pos, ())):
            if survivors[other] in hits:
                continue
            sim = jaccard(sets[pos], sets[other])
            if sim >= near_threshold:
                best = (other, sim)
                break
        if best is not None:
            i = survivors[pos]
            hits[i] = DuplicateHit(ids[i], ids[survivors[best[0]]], "near_duplicate", round(best[1], 4))
    return [hits[i] for i in order if i in hits]
