"""The pool's semantic pairs: kept between refreshes, the same as from scratch."""

import numpy as np

from curation_dagster.lib import semantic_pairs as sp
from curation_dagster.lib.pool_pairs import PairIndex, first_kept_neighbours, row_digests
from curation_dagster.lib.semantic_pairs import find_pairs


def _pairs(p: PairIndex) -> dict[tuple[str, str], float]:
    return {tuple(sorted((p.ids[a], p.ids[b]))): s for a, b, s in zip(p.a, p.b, p.sim)}


def _pool(n=300, dim=24, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return [f"g{i:04d}" for i in range(n)], v


def test_planted_pairs_are_found_whatever_the_block_size():
    ids, v = _pool()
    v[150] = v[3] * 2 + 0.001  # same direction, another length: cosine ~1
    v[299] = v[150] + 0.002
    small, large = find_pairs(ids, v, 0.999, block=7), find_pairs(ids, v, 0.999, block=4096)
    assert set(_pairs(small)) == {("g0003", "g0150"), ("g0003", "g0299"), ("g0150", "g0299")}
    assert _pairs(small) == _pairs(large)  # confirmed in float64: not even the last bit moves


def test_a_refresh_multiplies_only_new_or_changed_rows_and_finds_the_same_pairs(monkeypatch):
    ids, v = _pool(400)
    v[10] = v[5] + 0.001          # old-old pair
    v[350] = v[20] + 0.001        # new row like an old one
    v[390] = v[360] + 0.001       # two new rows alike
    before = find_pairs(ids[:300], v[:300], 0.999)
    assert set(_pairs(before)) == {("g0005", "g0010")}
    v2 = v.copy()
    v2[10] = v[100] + 0.001       # an old row's vector changed: its old pair is gone, a new one appears
    keep = [i for i in range(400) if i != 7]  # a row left the pool
    multiplied: list[int] = []
    real = sp._pairs_of

    def spy(rows, *args, **kw):
        multiplied.extend(rows.tolist())
        return real(rows, *args, **kw)

    monkeypatch.setattr(sp, "_pairs_of", spy)
    again = find_pairs([ids[i] for i in keep], v2[keep], 0.999, known=before)
    monkeypatch.undo()
    scratch = find_pairs([ids[i] for i in keep], v2[keep], 0.999)
    assert _pairs(again) == _pairs(scratch)
    assert set(_pairs(again)) == {("g0010", "g0100"), ("g0020", "g0350"), ("g0360", "g0390")}
    # the 100 new rows and the changed one, nothing else (each once per kind of search)
    assert sorted({np.asarray(again.ids)[r] for r in multiplied}) == sorted(["g0010"] + ids[300:])


def test_a_stricter_threshold_reuses_pairs_and_a_looser_one_starts_again():
    ids, v = _pool()
    v[40] = v[30] + 0.05  # similar, below 0.999
    loose = find_pairs(ids, v, 0.99)
    assert ("g0030", "g0040") in _pairs(loose)
    strict = find_pairs(ids, v, 0.999, known=loose)
    assert _pairs(strict) == {}
    assert _pairs(find_pairs(ids, v, 0.99, known=strict)) == _pairs(loose)


def test_kept_pairs_round_trip_and_an_unreadable_file_means_none(tmp_path):
    ids, v = _pool(50)
    v[9] = v[1] + 0.001
    p = find_pairs(ids, v, 0.999)
    p.save(tmp_path / "pairs.npz")
    back = PairIndex.load(tmp_path / "pairs.npz")
    assert _pairs(back) == _pairs(p) and back.floor == 0.999
    assert list(back.ids) == ids and np.array_equal(back.digests, p.digests)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert PairIndex.load(tmp_path / "bad.npz") is None
    assert PairIndex.load(tmp_path / "missing.npz") is None


def test_digest_follows_the_vector_bits():
    v = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0000002]], dtype=np.float32)
    d = row_digests(v)
    assert d[0] == d[1] and d[0] != d[2]


def test_walk_points_each_removed_row_at_the_first_earlier_row_still_kept():
    # x ~ y and y ~ z but x is not like z: y leaves as a copy of x, z stays (its only match left)
    ids = ["x", "y", "z", "w"]
    v = np.array([[1, 0, 0], [1, 0.03, 0], [1, 0.06, 0], [0, 0, 1]], dtype=np.float32)
    pairs = find_pairs(ids, v, 0.999)
    assert set(_pairs(pairs)) == {("x", "y"), ("y", "z")}
    got = first_kept_neighbours(["x", "y", "z", "w"], pairs, 0.999)
    assert [(r, of) for r, of, _ in got] == [("y", "x")]
    # in another keep order y comes first and takes both
    assert [(r, of) for r, of, _ in first_kept_neighbours(["y", "x", "z", "w"], pairs, 0.999)] == [("x", "y"), ("z", "y")]
    # rows not in the walk (removed earlier as exact or near copies) are neither kept nor matched
    assert [(r, of) for r, of, _ in first_kept_neighbours(["x", "z", "w"], pairs, 0.999)] == []
