import json

import numpy as np
import pandas as pd

from curation_dagster.lib.export import (jsonl_bytes, publish_directory, read_jsonl_strict, to_chat_record,
                                         validate_chat_record)
from curation_dagster.lib.sampling import (GENERAL, SampleSettings, achieved_mix, allocate, allocate_general,
                                           sample_per_cluster)
from curation_dagster.lib.splits import assign_splits


def pool(sizes_general, sizes_specific):
    rows = []
    for c, (g, s) in enumerate(zip(sizes_general, sizes_specific)):
        rows += [{"generation_id": f"c{c}g{i}", "cluster_id": c, "template_id": "general"} for i in range(g)]
        rows += [{"generation_id": f"c{c}s{i}", "cluster_id": c, "template_id": "follow_up"} for i in range(s)]
    return pd.DataFrame(rows)


def test_at_most_n_per_cluster_and_mix_on_target_when_possible():
    df = pool([30, 5, 0, 40], [30, 40, 25, 2])
    out = sample_per_cluster(df, SampleSettings(n_per_cluster=20, general_share=0.5, seed=1))
    assert out.groupby("cluster_id").size().max() <= 20
    assert out.groupby("cluster_id").size().to_dict() == {0: 20, 1: 20, 2: 20, 3: 20}
    assert abs(achieved_mix(out)[GENERAL] - 0.5) <= 0.05
    assert out["generation_id"].is_unique


def test_fill_mix_is_as_close_as_full_clusters_allow():
    alloc = allocate_general({0: 2, 1: 0}, {0: 30, 1: 30}, 20, 0.5)
    assert alloc == {0: 2, 1: 0}


def test_pure_clusters_are_trimmed_to_hold_the_mix():
    # three all-general clusters, one all-specific: filling gives 75% general
    df = pool([40, 40, 40, 0], [0, 0, 0, 40])
    fill = sample_per_cluster(df, SampleSettings(n_per_cluster=20, mix_strategy="fill"))
    assert achieved_mix(fill)[GENERAL] == 0.75
    trim = sample_per_cluster(df, SampleSettings(n_per_cluster=20, mix_strategy="trim"))
    assert achieved_mix(trim)[GENERAL] == 0.5 and len(trim) == 40
    sizes = trim.groupby("cluster_id").size()
    assert sizes[3] == 20 and sizes[[0, 1, 2]].max() - sizes[[0, 1, 2]].min() <= 1  # trimmed evenly
    gen, spec = allocate({0: 5}, {0: 0}, 20, 0.5)  # no template-specific rows at all: keep what exists
    assert gen == {0: 5} and spec == {0: 0}


def test_sampling_ignores_row_order_and_is_seeded():
    df = pool([30, 12], [25, 50])
    s = SampleSettings(n_per_cluster=10, seed=3)
    a = sample_per_cluster(df, s)
    b = sample_per_cluster(df.sample(frac=1, random_state=0), s)
    assert a["generation_id"].tolist() == b["generation_id"].tolist()
    c = sample_per_cluster(df, SampleSettings(n_per_cluster=10, seed=4))
    assert set(a["generation_id"]) != set(c["generation_id"])


def test_adding_rows_keeps_most_earlier_picks():
    df = pool([100], [100])
    s = SampleSettings(n_per_cluster=20, seed=3)
    before = set(sample_per_cluster(df, s)["generation_id"])
    more = pd.concat([df, pool([10], [10]).assign(generation_id=lambda d: "new" + d.generation_id)])
    after = set(sample_per_cluster(more, s)["generation_id"])
    assert len(before & after) >= 15  # bottom-k: a new row only displaces picks it out-ranks


def test_chat_record_and_schema():
    rec = to_chat_record({"instruction": "Ask Bo for the report", "input_message": "Where is it?",
                          "output": "Hi Bo, could you send the report?", "template_id": "follow_up",
                          "identity": json.dumps({"name": "Ann", "role": "PM", "company": "Acme", "tone": "formal"})})
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant"]
    assert "Where is it?" in rec["messages"][1]["content"]
    assert validate_chat_record(rec) is None
    no_identity = to_chat_record({"instruction": "x y z", "output": "ok", "identity": "not json"})
    assert [m["role"] for m in no_identity["messages"]] == ["user", "assistant"]
    assert validate_chat_record({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]})
    assert validate_chat_record({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": " "}]})


def test_split_is_stratified_disjoint_and_deterministic():
    df = pd.DataFrame({"generation_id": [f"g{i}" for i in range(200)], "cluster_id": np.repeat(range(10), 20)})
    a = assign_splits(df, 0.1, seed=5)
    assert (a == "validation").groupby(df["cluster_id"]).sum().eq(2).all()
    assert a.equals(assign_splits(df.iloc[::-1], 0.1, seed=5).loc[df.index])


def test_publish_directory_swaps_atomically(tmp_path):
    target = tmp_path / "ds"
    publish_directory({"a.jsonl": jsonl_bytes([{"x": 1}])}, target)
    publish_directory({"a.jsonl": jsonl_bytes([{"x": 2}])}, target)
    assert (target / "a.jsonl").read_text() == '{"x": 2}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temp or old folders left


def test_churn_against_previous_publish(tmp_path):
    from curation_dagster.lib.export import churn, published_ids

    assert published_ids(tmp_path / "none") is None
    publish_directory({"provenance.jsonl": jsonl_bytes([{"generation_id": g} for g in "abcd"])}, tmp_path / "ds")
    prev = published_ids(tmp_path / "ds")
    assert prev == set("abcd")
    assert churn(prev, set("abcxy")) == {"previous_examples": 4, "kept": 3, "added": 2, "dropped": 1, "churn_rate": 0.25}
    assert churn(None, {"a"})["added"] == 1


def test_strict_jsonl_names_bare_constants_and_broken_lines():
    text = ('{"a": 1}\n'
            '{"a": NaN}\n'          # what json.dumps writes for float("nan")
            '{"a": \n'              # cut off
            '{"a": "NaN"}\n'        # a string is fine
            '{"a": -Infinity}\n')
    records, problems = read_jsonl_strict("p.jsonl", text)
    assert [p.split(":")[0] for p in problems] == ["p.jsonl line 2", "p.jsonl line 3", "p.jsonl line 5"]
    assert "NaN is not JSON" in problems[0] and "-Infinity is not JSON" in problems[2]
    # the constant lines are kept for the checks that read their fields; the broken one is not
    assert [r["a"] for r in records][0] == 1 and [r["a"] for r in records][2] == "NaN" and len(records) == 4
    assert read_jsonl_strict("p.jsonl", jsonl_bytes([{"a": 0.5}]).decode()) == ([{"a": 0.5}], [])
