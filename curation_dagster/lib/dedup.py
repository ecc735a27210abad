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
from pathlib import Path

import numpy as np

from curation_dagster.lib.files import write_atomic
from curation_dagster.lib.pool_pairs import EMPTY_INDEX, PairIndex, assemble, first_kept_neighbours, reuse, row_digests
from curation_dagster.lib.semantic_pairs import find_pairs
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
    inter = len(a & b)  # the union's size follows: no third set is built
    return inter / (len(a) + len(b) - inter)


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


def _band_candidates(sig: np.ndarray, new: np.ndarray, old: np.ndarray, bands: int,
                     chunk_pairs: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): pairs of rows sharing at least one band's hash, a new (not in `old`), b any other row
    that is old or comes before a; each pair once. Band hashes can collide: callers check the band."""
    n, num_perm = sig.shape
    r = num_perm // bands
    mult = np.random.default_rng(1).integers(1, 2**63, size=r, dtype=np.uint64) | np.uint64(1)
    codes: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        for band in range(bands):
            keys = (sig[:, band * r:(band + 1) * r] * mult).sum(axis=1, dtype=np.uint64)
            order = np.argsort(keys, kind="stable")
            ks = keys[order]
            lo = np.searchsorted(ks, keys[new], "left")
            counts = np.searchsorted(ks, keys[new], "right") - lo
            has = counts > 1  # a bucket of one is the row alone
            rows, lo, counts = new[has], lo[has], counts[has]
            # expand each row's bucket in slices, so a crowded bucket does not take the memory at once
            ends = np.cumsum(counts)
            start = 0
            while start < len(rows):
                stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + chunk_pairs, "right"))
                stop = max(stop, start + 1)
                c = counts[start:stop]
                xs = np.repeat(rows[start:stop], c)
                offs = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
                ys = order[np.repeat(lo[start:stop], c) + offs]
                ok = (ys != xs) & (old[ys] | (ys < xs))
                codes.append(xs[ok].astype(np.int64) * n + ys[ok])
                start = stop
    if not codes:
        return EMPTY_INDEX, EMPTY_INDEX
    both = np.unique(np.concatenate(codes))
    return both // n, both % n


def find_near_pairs(ids: list[str], signatures: np.ndarray, texts: list[str], near_threshold: float,
                    bands: int = 16, known: PairIndex | None = None, exact: list[str] | None = None,
                    shingle_sets: list[set[int]] | None = None) -> PairIndex:
    """Every pair of rows that are near duplicates: MinHash LSH proposes them (they share one of `bands`
    bands of their signatures), they agree on at least signature_floor components, and the exact word
    3-shingle Jaccard of their texts is at least `near_threshold`. `known`: the pairs of an earlier call
    at the same threshold; its rows still here with the same signature are not compared again. `exact`:
    each row's exact key; pairs with the same key are left out (the exact rule takes one of them first)."""
    ids_arr = np.asarray(ids, dtype=object)
    sig = np.ascontiguousarray(signatures, dtype=np.uint64)
    digests = row_digests(sig)
    old, parts = reuse(known, ids_arr, digests, near_threshold,
                       usable=known is not None and known.floor == near_threshold)
    new = np.flatnonzero(~old)
    if len(new) and len(ids_arr) > 1:
        a, b = _band_candidates(sig, new, old, bands)
        if exact is not None and len(a):
            key_code = np.unique(np.asarray(exact, dtype=str), return_inverse=True)[1]
            differ = key_code[a] != key_code[b]
            a, b = a[differ], b[differ]
        floor, r = signature_floor(near_threshold, sig.shape[1]), sig.shape[1] // bands
        keep = np.zeros(len(a), dtype=bool)
        for s in range(0, len(a), 200_000):
            eq = sig[a[s:s + 200_000]] == sig[b[s:s + 200_000]]
            same_band = eq.reshape(len(eq), bands, r).all(axis=2).any(axis=1)
            keep[s:s + 200_000] = same_band & (np.count_nonzero(eq, axis=1) >= floor)
        a, b = a[keep], b[keep]
        memo: dict[int, set[int]] = {}

        def shingle_set(i: int) -> set[int]:
            if shingle_sets is not None:
                return shingle_sets[i]
            if i not in memo:
                memo[i] = shingles(texts[i])
            return memo[i]

        sims = np.fromiter((jaccard(shingle_set(x), shingle_set(y)) for x, y in zip(a.tolist(), b.tolist())),
                           dtype=np.float64, count=len(a))
        ok = sims >= near_threshold
        parts.append((a[ok], b[ok], sims[ok]))
    return assemble(ids_arr, digests, parts, near_threshold)


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
    pairs_cache: Path | None = None,
) -> list[DuplicateHit]:
    """Return one hit per row that duplicates an earlier-ordered row of the batch.

    `known`: each row's exact key and MinHash signature, computed before (row_signatures, e.g. from
    a cache); the result is the same as without it, only the per-row hashing is skipped. The word
    shingles are then built only for rows whose signatures collide, to confirm the Jaccard.
    `pairs_cache`: a file keeping the near pairs (lib.pool_pairs) between calls with `known` and
    unique ids: only rows not seen before are compared; the result is the same."""
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
    cached = pairs_cache is not None and known is not None and len(set(ids)) == len(ids)
    if known is not None:
        rows = list(range(len(ids))) if cached else survivors  # all rows: the pairs outlive who survives
        pairs = find_near_pairs([str(ids[i]) if cached else str(k) for k, i in enumerate(rows)],
                                known.signatures[rows], [texts[i] for i in rows], near_threshold, bands,
                                known=PairIndex.load(pairs_cache) if cached else None,
                                exact=[exact[i] for i in rows])
        if cached:
            write_atomic(Path(pairs_cache), pairs.save)
    else:
        rows = survivors
        sets = [shingles(texts[i]) for i in rows]
        pairs = find_near_pairs([str(k) for k in range(len(rows))], _minhash(sets, num_perm, seed),
                                [texts[i] for i in rows], near_threshold, bands, shingle_sets=sets)
    key_of = {i: (str(ids[i]) if cached else str(k)) for k, i in enumerate(rows)}
    index_of = {v: i for i, v in key_of.items()}
    # walk in keep order: a row is a near duplicate of the earliest kept row it matches
    for row, of, sim in first_kept_neighbours([key_of[i] for i in survivors], pairs, near_threshold):
        i, j = index_of[row], index_of[of]
        hits[i] = DuplicateHit(ids[i], ids[j], "near_duplicate", round(sim, 4))
    return [hits[i] for i in order if i in hits]


def semantic_duplicates(ids: list[str], vectors: np.ndarray, threshold: float = 0.995,
                        block: int = 512, pairs: PairIndex | None = None) -> list[DuplicateHit]:
    """Rows whose embedding is at least `threshold` cosine-similar to a row before them in the given
    order (callers pass rows in keep order); each points at the first such row that is itself kept.

    Exact: every pair at the threshold is found by blocked matrix products and confirmed in float64
    (lib.semantic_pairs), so the result does not depend on the block size. `pairs`: those pairs found
    before, over these rows or more (e.g. the whole pool, kept between refreshes); then nothing is
    multiplied here.
    """
    if len(ids) < 2 or threshold > 1.0:
        return []
    if pairs is None:
        pairs = find_pairs(ids, vectors, threshold, block=block)
    return [DuplicateHit(row, of, "semantic_duplicate", round(sim, 4))
            for row, of, sim in first_kept_neighbours(list(ids), pairs, threshold)]


def keep_order(quality: list[float], created_at: list, ids: list[str]) -> list[int]:
    """The pool's keep rule: highest quality score first, then earliest, then smallest id."""
    q = [float(x) if x == x else float("-inf") for x in quality]  # NaN quality sorts last
    return sorted(range(len(ids)), key=lambda i: (-q[i], created_at[i], ids[i]))


def deduplicate_pool(ids: list[str], created_at: list, quality: list[float], instructions: list[str | None],
                     input_messages: list[str | None], outputs: list[str | None], vectors: np.ndarray | None,
                     near_threshold: float = 0.7, semantic_threshold: float = 0.995,
                     seed: int = 0, known: RowSignatures | None = None,
                     semantic_pairs: PairIndex | None = None, near_pairs_cache: Path | None = None
                     ) -> list[DuplicateHit]:
    """Exact, near and semantic duplicates across the whole pool (every day at once).

    Keep rule: in each group the row with the highest quality score is kept (ties: earliest, then
    smallest id); every other row records the kept row's id. Exact and near duplicates are found
    first; semantic duplicates only among the rows that survive them. `semantic_pairs`: the pool's
    pairs at or above `semantic_threshold` (lib.semantic_pairs.find_pairs, over these rows or more);
    `near_pairs_cache`: see find_duplicates' pairs_cache.
    """
    order = keep_order(quality, created_at, ids)
    rank = {i: r for r, i in enumerate(order)}
    hits = find_duplicates(ids, [(rank[i],) for i in range(len(ids))], instructions, input_messages, outputs,
                           near_threshold=near_threshold, seed=seed, known=known, pairs_cache=near_pairs_cache)
    gone = {h.generation_id for h in hits}
    if (vectors is not None or semantic_pairs is not None) and semantic_threshold <= 1.0:
        survivors = [i for i in order if ids[i] not in gone]
        hits += semantic_duplicates([ids[i] for i in survivors],
                                    np.asarray(vectors)[survivors] if semantic_pairs is None else None,
                                    semantic_threshold, pairs=semantic_pairs)
    # a row kept by one method can be removed by the next: point every duplicate at the row that stays
    target = {h.generation_id: h.duplicate_of for h in hits}

    def final(gid: str) -> str:
        seen = set()
        while gid in target and gid not in seen:
            seen.add(gid)
            gid = target[gid]
        return gid

    return [DuplicateHit(h.generation_id, final(h.duplicate_of), h.kind, h.similarity) for h in hits]
