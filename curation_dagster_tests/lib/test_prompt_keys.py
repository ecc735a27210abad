"""The sampler's prompt keys, kept between refreshes by the raw texts' content hash (lib.sampling.prompt_keys)."""

import pandas as pd
import pyarrow.parquet as pq

from curation_dagster.lib import sampling
from curation_dagster.lib.memory import release_freed_memory
from curation_dagster.lib.sampling import prompt_keys
from curation_dagster.lib.text import normalize_for_dedup, sha256_hex


def _frame(pairs):
    return pd.DataFrame({"instruction": [p[0] for p in pairs], "input_message": [p[1] for p in pairs]})


def _expected(instruction, input_message):
    # the key's definition, written out here: normalised instruction, unit separator, normalised input
    return sha256_hex(normalize_for_dedup(instruction or "") + "\x1f" + normalize_for_dedup(input_message or ""))[:16]


def _counting(monkeypatch):
    calls = []
    real = sampling._prompt_key.__wrapped__

    def counted(instruction, input_message):
        calls.append((instruction, input_message))
        return real(instruction, input_message)

    monkeypatch.setattr(sampling, "_prompt_key", counted)
    return calls


def test_kept_keys_are_the_computed_ones_and_a_later_refresh_normalises_only_new_prompts(tmp_path, monkeypatch):
    cache = tmp_path / "state" / "sampled_examples.prompt_keys.parquet"
    cache.parent.mkdir()
    day1 = [("Write to  Ann!", None), ("write to ann", ""), ("Summarise this", "A long mail"), ("a\x1fb", "")]
    release_freed_memory()
    calls = _counting(monkeypatch)
    first = prompt_keys(_frame(day1), cache=cache)
    assert first == [_expected(i, m) for i, m in day1]
    assert first[0] == first[1] and len(calls) == 4
    assert pq.read_table(cache).num_rows == 4

    # the next run (its per-run memo emptied): the kept rows are read back, only the new prompt is normalised
    release_freed_memory()
    calls.clear()
    day2 = day1[1:] + [("Translate to French", "Good morning")]
    second = prompt_keys(_frame(day2), cache=cache)
    assert second == [_expected(i, m) for i, m in day2]
    assert calls == [("Translate to French", "Good morning")]
    # the file holds exactly this call's rows: the prompt that left the pool left it too
    assert pq.read_table(cache).num_rows == 4

    # a later call in the same run without the file finds the keys read back: nothing normalised again
    calls.clear()
    assert prompt_keys(_frame(day2[:3])) == second[:3] and calls == []


def test_texts_that_join_to_the_same_string_are_kept_apart(tmp_path):
    cache = tmp_path / "k.parquet"
    pairs = [("a\x1fb", ""), ("a", "b")]
    keys = prompt_keys(_frame(pairs), cache=cache)
    assert pq.read_table(cache).num_rows == 2
    release_freed_memory()
    assert prompt_keys(_frame(pairs), cache=cache) == keys == [_expected(i, m) for i, m in pairs]


def test_a_file_of_another_version_or_an_unreadable_one_is_computed_again(tmp_path, monkeypatch):
    cache = tmp_path / "k.parquet"
    pairs = [("Plan a trip to Rome", None), ("Fix my code", "def f(): pass")]
    keys = prompt_keys(_frame(pairs), cache=cache)
    monkeypatch.setattr(sampling, "PROMPT_KEY_VERSION", "prompt-key:test-other")
    release_freed_memory()
    calls = _counting(monkeypatch)
    assert prompt_keys(_frame(pairs), cache=cache) == keys and len(calls) == 2
    cache.write_bytes(b"not parquet")
    release_freed_memory()
    calls.clear()
    assert prompt_keys(_frame(pairs), cache=cache) == keys and len(calls) == 2
    assert pq.read_table(cache).num_rows == 2  # written again, readable
