import numpy as np

from curation_dagster.lib.embedding_cache import EmbeddingCache, cache_key, embed_with_cache


def fake_embed(calls):
    def embed(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
    return embed


def test_unchanged_text_is_never_embedded_twice(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.duckdb")
    calls: list[list[str]] = []
    v1, hits, misses = embed_with_cache(["aa", "bbb", "aa"], "m", ("output",), cache, fake_embed(calls))
    assert (hits, misses) == (0, 3) and len(calls) == 1 and sorted(calls[0]) == ["aa", "bbb"]
    assert v1[:, 0].tolist() == [2, 3, 2]
    v2, hits, misses = embed_with_cache(["bbb", "aa", "cccc"], "m", ("output",), cache, fake_embed(calls))
    assert (hits, misses) == (2, 1) and calls[-1] == ["cccc"]
    assert v2[:, 0].tolist() == [3, 2, 4]
    assert len(cache) == 3
    # a reopened cache (next run, next process) still knows them
    _, hits, misses = embed_with_cache(["aa", "bbb", "cccc"], "m", ("output",), EmbeddingCache(tmp_path / "cache.duckdb"),
                                       fake_embed(calls))
    assert (hits, misses) == (3, 0) and len(calls) == 2


def test_key_depends_on_model_and_fields():
    assert cache_key("m1", ("output",), "x") != cache_key("m2", ("output",), "x")
    assert cache_key("m1", ("output",), "x") != cache_key("m1", ("instruction", "output"), "x")


def test_progress_projection():
    import pandas as pd

    from curation_dagster.lib.progress import dataset_progress

    created = pd.Series(pd.to_datetime(["2026-11-01"] * 10 + ["2026-11-02"] * 10 + ["2026-11-03"] * 10))
    p = dataset_progress(created, target=100, window_days=7)
    assert p.count == 30 and p.daily_rate == 10.0 and p.days_to_target == 7.0
    assert str(p.projected_date) == "2026-11-10"
    assert dataset_progress(created, target=20).projected_date.isoformat() == "2026-11-03"
    assert dataset_progress(pd.Series([], dtype="datetime64[ns]"), target=100).projected_date is None
