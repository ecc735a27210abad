"""Near duplicates from kept pairs (lib.pool_pairs) give the hits of the plain LSH walk they replaced."""

import numpy as np
import pytest

from curation_dagster.lib import dedup
from curation_dagster.lib.dedup import (DuplicateHit, RowSignatures, _minhash, exact_key, find_duplicates, jaccard,
                                        row_signatures, shingles, signature_floor)
from curation_dagster.sample_data import generate_sample_data


# The search as it was before pairs were kept (lib/dedup.py at bf1def1): candidates from LSH buckets
# among the rows that survive the exact rule, walked in order, first earlier kept match wins.
def reference_find_duplicates(
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



@pytest.fixture(scope="module")
def rows():
    gens, _ = generate_sample_data(n_rows=900, days=3, start_date="2026-11-01", seed=5, cross_day_duplicates=0.05)
    gens = gens.sort_values("generation_id").reset_index(drop=True)
    q = np.random.default_rng(3).random(len(gens))
    return {"ids": gens["generation_id"].tolist(), "order_keys": [(float(-x), g) for x, g in zip(q, gens["generation_id"])],
            "instructions": gens["instruction"].tolist(), "input_messages": gens["input_message"].tolist(),
            "outputs": gens["output"].tolist()}


def _take(r, idx):
    return {k: [v[i] for i in idx] for k, v in r.items()}


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_same_hits_as_the_plain_walk(rows, threshold):
    want = reference_find_duplicates(**rows, near_threshold=threshold)
    assert sum(h.kind == "near_duplicate" for h in want) >= 20  # the sample's copies: enough to compare
    assert find_duplicates(**rows, near_threshold=threshold) == want
    known = row_signatures(rows["instructions"], rows["input_messages"], rows["outputs"])
    assert find_duplicates(**rows, near_threshold=threshold, known=known) == want


def test_kept_pairs_compare_only_new_rows_and_give_the_same_hits(rows, tmp_path, monkeypatch):
    cache = tmp_path / "near_pairs.npz"
    first = list(range(0, 900, 3)) + list(range(1, 900, 3))  # two thirds, then every row
    sub = _take(rows, first)
    known_sub = row_signatures(sub["instructions"], sub["input_messages"], sub["outputs"])
    assert find_duplicates(**sub, known=known_sub, pairs_cache=cache) == reference_find_duplicates(**sub)
    assert cache.exists()
    compared: list[int] = []
    real = dedup._band_candidates

    def spy(sig, new, old, bands, **kw):
        compared.extend(new.tolist())
        return real(sig, new, old, bands, **kw)

    monkeypatch.setattr(dedup, "_band_candidates", spy)
    known = row_signatures(rows["instructions"], rows["input_messages"], rows["outputs"])
    got = find_duplicates(**rows, known=known, pairs_cache=cache)
    monkeypatch.undo()
    assert got == reference_find_duplicates(**rows)
    assert sorted(compared) == list(range(2, 900, 3))  # only the third not seen before
    # a threshold other than the kept one starts again, and still agrees
    assert find_duplicates(**rows, known=known, pairs_cache=cache, near_threshold=0.8) == \
        reference_find_duplicates(**rows, near_threshold=0.8)


def test_changed_text_is_compared_again(rows, tmp_path):
    cache = tmp_path / "near_pairs.npz"
    known = row_signatures(rows["instructions"], rows["input_messages"], rows["outputs"])
    find_duplicates(**rows, known=known, pairs_cache=cache)
    edited = dict(rows, outputs=list(rows["outputs"]))
    edited["outputs"][10] = rows["outputs"][20]  # row 10 now says what row 20 says
    edited["instructions"] = list(rows["instructions"])
    edited["instructions"][10] = rows["instructions"][20] + " please"
    known2 = row_signatures(edited["instructions"], edited["input_messages"], edited["outputs"])
    got = find_duplicates(**edited, known=known2, pairs_cache=cache)
    assert got == reference_find_duplicates(**edited)
    assert any({h.generation_id, h.duplicate_of} == {rows["ids"][10], rows["ids"][20]} for h in got)


def test_crowded_buckets_are_expanded_in_slices(rows):
    # every row in one bucket of every band: the slices must give the same pairs as one expansion
    sig = np.zeros((40, 64), dtype=np.uint64)
    new, old = np.arange(40), np.zeros(40, dtype=bool)
    a1, b1 = dedup._band_candidates(sig, new, old, 16)
    a2, b2 = dedup._band_candidates(sig, new, old, 16, chunk_pairs=7)
    assert len(a1) == 40 * 39 // 2 and np.array_equal(a1, a2) and np.array_equal(b1, b2)
