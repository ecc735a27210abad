"""The dataset as data, without Dagster: review applied, files and provenance, changes and manifest."""

import hashlib
import json

import pandas as pd

from curation_dagster.lib.dataset import (apply_reviews, build_dataset, dataset_changes, dataset_manifest,
                                          nothing_to_export)

ANSWER = "Thanks for writing. The refund of your order is on its way and should reach you in five days."


def rows():
    base = {"template_id": "general", "identity": None, "input_message": None, "created_at": "2026-11-02",
            "cluster_name": "n", "model_version": "v1", "cell_id": 0}
    return pd.DataFrame([
        {**base, "generation_id": "g2", "cluster_id": 2, "quality_score": 0.5,
         "instruction": "Write a haiku about rain.", "output": "Soft rain on the roof"},
        {**base, "generation_id": "g1", "cluster_id": 1, "quality_score": 0.9,
         "instruction": "Where is my refund for order 1?", "output": ANSWER, "created_at": "2026-11-01"},
        {**base, "generation_id": "g0", "cluster_id": 1, "quality_score": 0.3,
         "instruction": "Where is my refund for order 1?", "output": ANSWER},   # same chat as g1
        {**base, "generation_id": "g3", "cluster_id": 2, "quality_score": 0.6,
         "instruction": "Say hello.", "output": "Hello!"},
    ])


def test_review_removes_rejections_and_ships_edits_with_the_original_kept():
    decisions = pd.DataFrame({"generation_id": ["g3", "g2"], "state": ["rejected", "edited"],
                              "edited_output": [None, "Rain taps on the roof"]})
    df, review = apply_reviews(rows(), decisions)
    assert df["generation_id"].tolist() == ["g2", "g1", "g0"]
    assert df.loc[0, ["output", "original_output", "review_state"]].tolist() == [
        "Rain taps on the roof", "Soft rain on the roof", "edited"]
    assert review["rejected_removed_at_export"] == 1 and review["shipped"]["edited"] == 1
    assert review["decisions"]["rejected"] == 1 and review["reviewed"] == 1
    assert nothing_to_export(0).startswith("sampled_examples is empty")
    assert nothing_to_export(4) == "reviewers rejected all 4 sampled examples"


def test_files_lines_and_provenance_agree_and_a_chat_duplicate_ships_once():
    build = build_dataset(rows(), shipped=None, validation_fraction=0.0, seed=0)
    # g0 repeats g1's chat and scores lower: left out; lines ordered by cluster, then id
    assert [h.generation_id for h in build.duplicates] == ["g0"]
    assert [p["generation_id"] for p in build.provenance] == ["g1", "g2", "g3"]
    assert [p["line"] for p in build.provenance] == [1, 2, 3] and build.counts == {"train": 3, "validation": 0}
    lines = build.files["train.jsonl"].decode().splitlines()
    assert json.loads(lines[1]) == {"messages": [{"role": "user", "content": "Write a haiku about rain."},
                                                 {"role": "assistant", "content": "Soft rain on the roof"}]}
    table = build.shipped_table()
    assert table["messages"].tolist() == [json.dumps(json.loads(line)["messages"]) for line in lines]
    assert table["created_at"].tolist() == ["2026-11-01", "2026-11-02", "2026-11-02"]
    assert build.days == ["2026-11-01", "2026-11-02"]
    # already shipped, g0 stays and g1 is the one left out
    again = build_dataset(rows(), shipped={"g0"}, validation_fraction=0.0, seed=0)
    assert [h.generation_id for h in again.duplicates] == ["g1"]


def test_provenance_is_strict_json_when_review_columns_are_missing_on_a_row():
    # after apply_reviews' merge, rows nobody reviewed hold NaN (or None) in review_state and original_output
    df = rows()
    nan = float("nan")
    df["review_state"] = df["generation_id"].map({"g2": "edited", "g1": nan, "g0": nan, "g3": None})
    df["original_output"] = df["generation_id"].map({"g2": "Rain once", "g1": nan, "g0": nan, "g3": None})
    build = build_dataset(df, shipped=None, validation_fraction=0.0, seed=0)

    def no_bare_constants(token):
        raise AssertionError(f"{token} is not JSON")

    records = [json.loads(line, parse_constant=no_bare_constants)
               for line in build.files["provenance.jsonl"].decode().splitlines()]
    by_id = {r["generation_id"]: r for r in records}
    assert sorted(by_id) == ["g1", "g2", "g3"]
    assert by_id["g1"].keys().isdisjoint({"review_state", "original_output"})
    assert by_id["g3"].keys().isdisjoint({"review_state", "original_output"})
    assert [by_id["g2"]["review_state"], by_id["g2"]["original_output"]] == ["edited", "Rain once"]


def test_changes_split_by_cause_and_the_manifest_describes_the_files(tmp_path):
    build = build_dataset(rows(), shipped=None, validation_fraction=0.5, seed=0)
    previous = {"g0", "g1", "old", "gone"}
    decisions = pd.DataFrame({"generation_id": ["old"], "state": ["rejected"]})
    change = dataset_changes(build, previous, pool_ids={"g0", "g1", "g2", "g3", "old"},
                             review_decisions=decisions, dataset_dir=tmp_path, cluster_decisions=pd.DataFrame())
    assert (change["added"], change["dropped"]) == (2, 3)
    assert (change["dropped_left_pool"], change["dropped_in_review"], change["dropped_as_duplicate"],
            change["dropped_by_selection"]) == (1, 1, 1, 0)
    manifest = dataset_manifest(build, name="ds", created_at="t", run_id="r", config={}, change=change,
                                review={}, diversity=None, progress={})
    assert manifest["rows"]["total"] == 3 and sum(build.counts.values()) == 3
    assert manifest["files"]["train.jsonl"]["sha256"] == hashlib.sha256(build.files["train.jsonl"]).hexdigest()
    assert set(manifest["files"]) == {"train.jsonl", "validation.jsonl", "provenance.jsonl"}
    assert (manifest["clusters"], manifest["sampling_cells"], manifest["topic_model_version"]) == (2, 1, "v1")
    assert manifest["duplicates_removed_at_export"] == 1 and manifest["templates"] == {"general": 3}
