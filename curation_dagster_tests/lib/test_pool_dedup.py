"""Pool-wide dedup: exact, near and semantic duplicates across days, with the quality-first keep rule."""

from datetime import datetime

import numpy as np

from curation_dagster.lib.dedup import deduplicate_pool, keep_order, semantic_duplicates
from curation_dagster.lib.embedding import embed_texts

EMAIL = ("Hi Tom,\n\nI hope your week is going well. I wanted to follow up on the proposal we sent last Tuesday "
         "about the warehouse analytics project. Could we find twenty minutes on Thursday to walk through the "
         "pricing together? I am happy to adjust the scope if the timeline feels tight.\n\nBest,\nAnna")
# the same message with its sentences in another order and a few words changed: little shingle overlap
PARAPHRASE = ("Hi Tom,\n\nCould we find twenty minutes on Thursday to go through the pricing together? I am "
              "following up on the proposal for the warehouse analytics project that we sent you last Tuesday. "
              "If the timeline feels tight, I am glad to adjust the scope. I hope your week is going well.\n\n"
              "Best,\nAnna")
OTHER = ("Dear Ms. Patel,\n\nThank you for hosting the supplier workshop in Lyon. Our team left with a clear "
         "picture of the new packaging requirements, and we will send the revised drawings by Friday.\n\n"
         "Kind regards,\nMarco")


def pool(outputs, quality, days, model):
    ids = [f"g{i}" for i in range(len(outputs))]
    vecs = embed_texts(model, outputs)
    return dict(ids=ids, created_at=[datetime(2026, 11, d, 9) for d in days], quality=quality,
                instructions=["Follow up on the proposal"] * len(outputs), input_messages=[None] * len(outputs),
                outputs=outputs, vectors=vecs)


def test_paraphrase_is_only_caught_by_meaning(model):
    from curation_dagster.lib.dedup import find_duplicates

    lexical = find_duplicates(["a", "b"], [(0,), (1,)], ["x", "x"], [None, None], [EMAIL, PARAPHRASE])
    assert lexical == []  # reordered + reworded: below the shingle threshold
    rows = pool([EMAIL, PARAPHRASE, OTHER], [0.9, 0.5, 0.8], [1, 2, 3], model)
    hits = deduplicate_pool(**rows, semantic_threshold=0.97)
    assert [(h.generation_id, h.duplicate_of, h.kind) for h in hits] == [("g1", "g0", "semantic_duplicate")]
    assert 0.97 <= hits[0].similarity < 0.99
    assert deduplicate_pool(**rows) == []  # the shipped 0.995 only takes what is plainly the same text


def test_keep_rule_is_highest_quality_then_earliest_across_days(model):
    # day 3 holds the better-rated copy: it stays, the day-1 and day-2 copies point at it
    hits = deduplicate_pool(**pool([EMAIL, EMAIL.upper(), EMAIL, OTHER], [0.4, 0.4, 0.9, 0.7], [1, 2, 3, 3], model))
    assert {(h.generation_id, h.duplicate_of, h.kind) for h in hits} == {
        ("g0", "g2", "exact_duplicate"), ("g1", "g2", "exact_duplicate")}
    # equal quality: the earliest stays
    hits = deduplicate_pool(**pool([EMAIL, EMAIL.replace("Hi Tom,", "Hello Tom,")], [0.5, 0.5], [2, 1], model))
    assert [(h.generation_id, h.duplicate_of, h.kind) for h in hits] == [("g0", "g1", "near_duplicate")]
    assert keep_order([0.5, float("nan"), 0.9], [1, 0, 2], ["a", "b", "c"]) == [2, 0, 1]


def test_duplicate_of_always_names_a_row_that_stays():
    # b is a near copy of a (kept by shingles), then a turns out to mean the same as c, which ranks higher
    v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.001]], dtype=np.float32)
    hits = deduplicate_pool(ids=["a", "b", "c"], created_at=[1, 2, 3], quality=[0.5, 0.4, 0.9],
                            instructions=["x"] * 3, input_messages=[None] * 3,
                            outputs=[EMAIL, EMAIL.replace("Hi Tom,", "Hello Tom,"), OTHER], vectors=v)
    got = {h.generation_id: (h.duplicate_of, h.kind) for h in hits}
    assert got == {"b": ("c", "near_duplicate"), "a": ("c", "semantic_duplicate")}


def test_semantic_search_is_blocked_and_exact():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((300, 16)).astype(np.float32)
    v[150] = v[3] + 0.001  # one planted pair across block boundaries
    ids = [str(i) for i in range(300)]
    small_blocks = semantic_duplicates(ids, v, 0.999, block=7)
    assert [(h.generation_id, h.duplicate_of) for h in small_blocks] == [("150", "3")]
    assert small_blocks == semantic_duplicates(ids, v, 0.999, block=4096)
    assert semantic_duplicates(ids, v, 1.01) == []


def test_signature_floor_skips_only_pairs_far_below_the_threshold():
    from curation_dagster.lib.dedup import signature_floor

    # 64 components, threshold 0.7, margin 0.3: at least 26 agreeing components (0.4 x 64 = 25.6)
    assert signature_floor(0.7, 64) == 26
    assert signature_floor(0.2, 64) == 0  # a threshold below the margin confirms every candidate
    assert signature_floor(1.0, 128) == 90


def test_near_duplicates_found_with_and_without_the_signature_floor_agree():
    import random

    import curation_dagster.lib.dedup as dedup

    rnd = random.Random(3)
    words = [f"w{i}" for i in range(60)]
    base = [" ".join(rnd.choice(words) for _ in range(40)) for _ in range(30)]
    texts = []
    for t in base:  # each base text, a light edit of it (Jaccard well above 0.7) and a heavy one (below)
        toks = t.split()
        light = toks[:]
        light[5] = "changed"
        heavy = toks[:12] + [rnd.choice(words) for _ in range(28)]
        texts += [t, " ".join(light), " ".join(heavy)]
    ids = [f"r{i:03d}" for i in range(len(texts))]
    args = (ids, [(i,) for i in range(len(ids))], texts, [None] * len(ids), [None] * len(ids))
    floored = dedup.find_duplicates(*args, near_threshold=0.7)
    old, dedup.SIGNATURE_MARGIN = dedup.SIGNATURE_MARGIN, 1.0  # floor 0: every candidate confirmed
    try:
        unfloored = dedup.find_duplicates(*args, near_threshold=0.7)
    finally:
        dedup.SIGNATURE_MARGIN = old
    assert floored == unfloored
    light_ids = {ids[3 * k + 1] for k in range(30)}
    assert light_ids <= {h.generation_id for h in floored}  # every light edit found
