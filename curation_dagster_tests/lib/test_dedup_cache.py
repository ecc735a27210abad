"""The pool dedup's hashes kept by content: the same duplicates with the cache, and only new rows hashed."""

from datetime import datetime, timedelta

import numpy as np

from curation_dagster.lib import dedup_cache
from curation_dagster.lib.dedup import deduplicate_pool, row_signatures
from curation_dagster.lib.dedup_cache import SignatureCache, cached_row_signatures

BASE = ("Hi Tom, I hope your week is going well. I wanted to follow up on the proposal we sent last Tuesday "
        "about the warehouse analytics project. Could we find twenty minutes on Thursday to walk through the "
        "pricing together? I am happy to adjust the scope if the timeline feels tight. Best, Anna")


def rows():
    outputs = [BASE,
               BASE.upper(),                                   # exact duplicate once normalised
               BASE.replace("Thursday", "Friday"),             # near duplicate (one word changed)
               "Dear Marco, thanks for the supplier workshop in Lyon; the drawings follow by Friday. Kind regards",
               "Dear Marco, thanks for the supplier workshop in Lyon; the drawings follow by Friday. Kind regards"]
    n = len(outputs)
    return dict(ids=[f"g{i}" for i in range(n)], created_at=[datetime(2026, 11, 1) + timedelta(days=i) for i in range(n)],
                quality=[0.5] * n, instructions=["Follow up"] * n, input_messages=[None, "", None, "ctx", "ctx"],
                outputs=outputs, vectors=None)


def test_the_same_duplicates_with_kept_hashes_and_only_new_rows_hashed(tmp_path, monkeypatch):
    r = rows()
    plain = deduplicate_pool(**r)
    # exact copies (the capitalised one, the repeated Lyon note) and the one-word change
    assert sorted((h.generation_id, h.kind) for h in plain) == [
        ("g1", "exact_duplicate"), ("g2", "near_duplicate"), ("g4", "exact_duplicate")]
    cache = SignatureCache(tmp_path / "dedup_cache.duckdb")
    known, hits, misses = cached_row_signatures(r["instructions"], r["input_messages"], r["outputs"], cache)
    assert (hits, misses) == (0, 5)
    fresh = row_signatures(r["instructions"], r["input_messages"], r["outputs"])
    assert known.exact_keys == fresh.exact_keys and np.array_equal(known.signatures, fresh.signatures)
    assert deduplicate_pool(**r, known=known) == plain
    # a later refresh with one new row: only that row is hashed, and the answer is the same as without the cache
    hashed = []
    real = dedup_cache.row_signatures
    monkeypatch.setattr(dedup_cache, "row_signatures", lambda i, m, o, *a: hashed.append(list(o)) or real(i, m, o, *a))
    r2 = {k: (v + [v[0]] if isinstance(v, list) else v) for k, v in r.items()}
    r2["ids"][-1], r2["created_at"][-1], r2["outputs"][-1] = "g5", datetime(2026, 11, 9), BASE + " P.S. see you soon."
    known2, hits2, misses2 = cached_row_signatures(r2["instructions"], r2["input_messages"], r2["outputs"], cache)
    assert (hits2, misses2) == (5, 1) and hashed == [[BASE + " P.S. see you soon."]]
    assert deduplicate_pool(**r2, known=known2) == deduplicate_pool(**r2)
    # another MinHash seed is another key: nothing found, everything hashed
    assert cached_row_signatures(r["instructions"], r["input_messages"], r["outputs"], cache, seed=7)[1:] == (0, 5)


def test_no_cache_and_an_empty_pool():
    r = rows()
    known, hits, misses = cached_row_signatures(r["instructions"], r["input_messages"], r["outputs"], None)
    assert (hits, misses) == (0, 5) and known.signatures.shape == (5, 64)
    empty, h, m = cached_row_signatures([], [], [], None)
    assert (h, m) == (0, 0) and empty.signatures.shape == (0, 64)
