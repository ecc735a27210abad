import json
import math

import pandas as pd
import pyarrow.parquet as pq

from curation_dagster.lib.chat_lines import chat_lines, messages_json
from curation_dagster.lib.dataset import build_dataset

ROWS = pd.DataFrame({
    "generation_id": ["a", "b", "c"],
    "instruction": ["Say hi", "Thank Ann", "Thank Ann"],
    "input_message": [None, "Ann sent flowers.", ""],
    "identity": [None, None, None],
    "template_id": ["general", "general", "general"],
    "output": ["Hello", "Thanks, Ann!", "Thanks, Ann!"],
})


def test_lines_are_the_chat_records_and_their_turns():
    got = chat_lines(ROWS)
    assert got.lines[0] == ('{"messages": [{"role": "user", "content": "Say hi"}, '
                            '{"role": "assistant", "content": "Hello"}]}')
    assert json.loads(got.lines[1])["messages"][0]["content"] == "Thank Ann\n\nMessage I am replying to:\nAnn sent flowers."
    assert got.users == ["Say hi", "Thank Ann\n\nMessage I am replying to:\nAnn sent flowers.", "Thank Ann"]
    assert got.replies == ["Hello", "Thanks, Ann!", "Thanks, Ann!"]
    assert messages_json(got.lines[0]) == json.dumps(json.loads(got.lines[0])["messages"], ensure_ascii=False)
    assert got.built == 3


def test_kept_lines_are_read_back_and_a_changed_row_is_built_again(tmp_path):
    cache = tmp_path / "lines.parquet"
    first = chat_lines(ROWS, cache)
    again = chat_lines(ROWS.iloc[::-1].reset_index(drop=True), cache)
    assert again.built == 0 and again.lines == first.lines[::-1]
    edited = ROWS.copy()
    edited.loc[1, "output"] = "Many thanks, Ann!"
    third = chat_lines(edited, cache)
    assert third.built == 1
    assert json.loads(third.lines[1])["messages"][-1]["content"] == "Many thanks, Ann!"
    assert third.lines[0] == first.lines[0]
    # the file keeps exactly the last call's rows
    assert pq.read_table(cache).num_rows == 3
    # None, "" and NaN are different inputs (the same line here, but never confused in the cache)
    odd = ROWS.iloc[[0, 0, 0]].reset_index(drop=True)
    odd["input_message"] = [None, "", math.nan]
    assert chat_lines(odd, cache).built == 2  # None was kept from the call before


def test_an_unreadable_cache_builds_every_line(tmp_path):
    cache = tmp_path / "lines.parquet"
    cache.write_bytes(b"not parquet")
    got = chat_lines(ROWS, cache)
    assert got.built == 3 and got.lines == chat_lines(ROWS).lines


def test_build_dataset_writes_the_same_bytes_with_kept_lines(tmp_path):
    rows = pd.DataFrame({
        "generation_id": [f"g{i:03d}" for i in range(40)],
        "instruction": [f"Write note {i} about topic {i % 7}" for i in range(40)],
        "input_message": [None if i % 3 else f"message {i}" for i in range(40)],
        "identity": [json.dumps({"name": "Ann", "tone": "warm"}) if i % 2 else None for i in range(40)],
        "template_id": ["general" if i % 2 else "thank_you" for i in range(40)],
        "output": [f"Here is note {i}, with words {i * 13} and {i * 7}." for i in range(40)],
        "cluster_id": [i % 4 for i in range(40)],
        "cluster_name": [f"topic {i % 4}" for i in range(40)],
        "quality_score": [0.5 + i / 100 for i in range(40)],
        "created_at": pd.Timestamp("2026-06-01"),
    })
    plain = build_dataset(rows, None, 0.2, 7)
    cache = tmp_path / "lines.parquet"
    cold = build_dataset(rows, None, 0.2, 7, lines_cache=cache)
    warm = build_dataset(rows, None, 0.2, 7, lines_cache=cache)
    assert cold.files == plain.files == warm.files
    assert warm.messages == plain.messages and warm.provenance == plain.provenance
    assert (cold.records_built, warm.records_built) == (40, 0)
    # a line per example, and the table's messages are the lines' messages
    lines = [json.loads(x) for x in plain.files["train.jsonl"].decode().splitlines()]
    assert json.dumps(lines[0]["messages"], ensure_ascii=False) == plain.messages[0]
