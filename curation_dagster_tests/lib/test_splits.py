"""Grouped train / validation / test splits (lib/splits.py), and the readers of a dataset with a test split."""

import json

import numpy as np
import pandas as pd
import pytest

from curation_dagster.lib.dataset import build_dataset, dataset_manifest, manifest_bytes
from curation_dagster.lib.dataset_export import export_dataset, load_published
from curation_dagster.lib.export import publish_directory
from curation_dagster.lib.splits import (SPLITS, assign_splits, check_fractions, rows_text, split_groups,
                                         split_grouping, split_problems)


def frame(instructions, clusters, source_groups=None):
    df = pd.DataFrame({"generation_id": [f"g{i}" for i in range(len(instructions))], "cluster_id": clusters,
                       "instruction": instructions, "input_message": None})
    if source_groups is not None:
        df["source_group"] = source_groups
    return df


def partition(keys: pd.Series) -> set[frozenset]:
    return {frozenset(idx) for idx in keys.groupby(keys).groups.values()}


def test_groups_join_same_prompt_and_same_source_group_transitively():
    df = frame(["Where is my refund?", "where is my REFUND", "Where is my refund!!",  # one prompt, normalised
                "Where is my refund for order 7?",                                    # another prompt
                "Summarise section 2", "List the risks", "List the risks.",           # doc-1, and its prompt's twin
                "", ""],                                                              # no prompt: alone
               [0] * 9, [None, None, None, None, "doc-1", "doc-1", None, None, float("nan")])
    keys = split_groups(df)
    assert partition(keys) == {frozenset({0, 1, 2}), frozenset({3}), frozenset({4, 5, 6}), frozenset({7}),
                               frozenset({8})}
    assert keys[4] == keys[6] == "group:doc-1" and keys[0].startswith("prompt:")
    assert (keys[7], keys[8]) == ("row:g7", "row:g8")
    # an input message is part of the prompt
    with_input = df.iloc[:2].assign(input_message=["Order 7?", None])
    assert split_groups(with_input).nunique() == 2


def test_a_group_of_three_same_prompt_rows_is_never_split():
    df = frame(["Where is my refund?", "where is my REFUND", "Where is my refund!!"]
               + [f"Write note number {i}" for i in range(7)], [0] * 10)
    for seed in range(40):
        split = assign_splits(df, 0.3, seed, 0.2)
        assert split.iloc[:3].nunique() == 1, seed


def test_hand_computed_assignment_carries_the_shortfall_to_the_next_cluster():
    # cluster 0: one prompt three times; validation wants round(3 x 0.5) = 2 and takes the group (3 < 2 x 2);
    # cluster 1: rows so far 6, validation wants round(6 x 0.5) - 3 = 0: all three stay in train
    df = frame(["Where is my refund?"] * 3 + ["a b", "c d", "e f"], [0, 0, 0, 1, 1, 1])
    assert assign_splits(df, 0.5, seed=1).tolist() == ["validation"] * 3 + ["train"] * 3
    # ten rows, validation 0.3 and test 0.2:
    # cluster 0, group A of 3: validation wants round(0.9) = 1, test round(0.6) = 1: A is too big for either;
    # cluster 1, group B of 2 (one source_group): validation wants round(1.5) = 2 and takes it;
    # cluster 2, five single rows: validation wants round(3.0) - 2 = 1, test round(2.0) - 0 = 2
    df = frame(["Where is my refund?"] * 3 + ["Summarise section 2", "List the risks"]
               + [f"Write note number {i}" for i in range(5)],
               [0, 0, 0, 1, 1, 2, 2, 2, 2, 2], [None] * 3 + ["doc-1", "doc-1"] + [None] * 5)
    for seed in range(10):
        split = assign_splits(df, 0.3, seed, 0.2)
        assert split.iloc[:5].tolist() == ["train"] * 3 + ["validation"] * 2
        assert split.iloc[5:].value_counts().to_dict() == {"train": 2, "test": 2, "validation": 1}


def pool(n=1000, seed=0):
    """n rows in 12 clusters whose prompts repeat, some rows sharing a source_group: groups of 1 to about 10 rows."""
    rng = np.random.default_rng(seed)
    prompts = [f"Please draft reply {k}" for k in rng.integers(0, n * 6 // 10, n)]
    return frame(prompts, rng.integers(0, 12, n).tolist(),
                 [f"doc-{k}" if k < 40 else None for k in rng.integers(0, 2000, n)])


def test_fractions_on_1000_rows_within_one_percent_of_the_rows_and_no_group_straddles():
    df = pool()
    groups = split_groups(df)
    assert groups.value_counts().max() >= 4  # real groups, not only single rows
    for seed in range(5):
        split = assign_splits(df, 0.1, seed, 0.1, groups=groups)
        counts = split.value_counts()
        # tolerance: 10 rows (1% of 1,000); the shortfall or excess a cluster leaves goes to the next
        assert abs(counts["validation"] - 100) <= 10 and abs(counts["test"] - 100) <= 10, counts.to_dict()
        block = split_grouping(split, groups, SPLITS, 0.1, 0.1)
        assert block["straddling"] == 0 and block["groups"] == groups.nunique()
        assert block["rows"] == counts.reindex(list(SPLITS), fill_value=0).to_dict()
        # still stratified: every cluster of about 80 rows holds some of each held-out split
        per_cluster = split.groupby(df["cluster_id"]).value_counts().unstack(fill_value=0)
        assert (per_cluster[["validation", "test"]] >= 2).all().all()


def test_order_independent_and_validation_unchanged_by_a_test_split():
    df = pool(seed=1)
    split = assign_splits(df, 0.1, 7, 0.15)
    for shuffle in range(3):
        shuffled = df.sample(frac=1, random_state=shuffle)
        assert split_groups(shuffled).loc[df.index].equals(split_groups(df))
        assert assign_splits(shuffled, 0.1, 7, 0.15).loc[df.index].equals(split)
    without_test = assign_splits(df, 0.1, 7)
    assert set(without_test.unique()) == {"train", "validation"}
    assert ((without_test == "validation") == (split == "validation")).all()
    assert not assign_splits(df, 0.1, 8, 0.15).equals(split)  # the seed matters


def test_fractions_are_checked():
    check_fractions(0.1, 0.0)
    for vf, tf in ((-0.1, 0.0), (0.1, 1.0), (0.6, 0.4)):
        with pytest.raises(ValueError):
            check_fractions(vf, tf)
    assert rows_text({"train": 1200, "validation": 3, "total": 1203}) == "1,200 train / 3 validation"
    assert rows_text({"train": 8, "validation": 1, "test": 1}) == "8 train / 1 validation / 1 test"


def sample_rows(n=60):
    rng = np.random.default_rng(3)
    words = "invoice shipment refund meeting budget contract hiring launch survey visit".split()
    return pd.DataFrame([{
        "generation_id": f"g{i:03d}", "cluster_id": i % 4, "cluster_name": f"c{i % 4}", "template_id": "general",
        "quality_score": 0.5, "identity": None, "input_message": None, "created_at": "2026-11-02",
        "model_version": "v1", "cell_id": i % 4,
        # the first 20 rows ask 10 prompts twice each (answers differ): groups of two, across clusters
        "instruction": f"Write about the {words[(i // 2) % 10]} number {i // 2 if i < 20 else i}",
        "output": f"Reply {i}: " + " ".join(rng.choice(words, 12)),
    } for i in range(n)])


def test_a_dataset_with_a_test_split_is_written_checked_and_read_back(tmp_path):
    build = build_dataset(sample_rows(), shipped=None, validation_fraction=0.2, seed=3, test_fraction=0.2)
    assert set(build.files) == {"train.jsonl", "validation.jsonl", "test.jsonl", "provenance.jsonl"}
    assert all(p["split_group"] for p in build.provenance) and build.grouping["groups_of_several_rows"] == 10
    manifest = dataset_manifest(build, name="finetuning_dataset", created_at="t", run_id="r",
                                config={"validation_fraction": 0.2, "test_fraction": 0.2}, change={}, review={},
                                diversity=None, progress={})
    assert manifest["rows"] == {**build.counts, "total": 60} and build.counts["test"] > 0
    assert manifest["split_grouping"]["straddling"] == 0
    assert manifest["split_grouping"]["fractions"] == {"validation": 0.2, "test": 0.2}
    lines = {s: build.files[f"{s}.jsonl"].count(b"\n") for s in SPLITS}
    assert split_problems(build.provenance, lines, manifest) == []

    # what the check finds: a group moved across, a count that disagrees, an old manifest
    moved = [dict(p) for p in build.provenance]
    other = next(p for p in moved if p["split"] == "test")
    next(p for p in moved if p["split"] == "train")["split_group"] = other["split_group"]
    assert any("is on test and train" in p for p in split_problems(moved, lines, manifest))
    assert any("test.jsonl has" in p for p in split_problems(build.provenance, {**lines, "test": 0}, manifest))
    assert split_problems(build.provenance, lines, {k: v for k, v in manifest.items() if k != "split_grouping"}) == [
        "the manifest has no split_grouping block"]

    folder = tmp_path / "exports" / "finetuning_dataset"
    publish_directory({**build.files, "manifest.json": manifest_bytes(manifest)}, folder)
    _, _, examples = load_published(tmp_path / "exports")
    assert examples["split"].value_counts().to_dict() == {s: n for s, n in build.counts.items() if n}
    summary = export_dataset(tmp_path / "exports", tmp_path / "out", "jsonl")
    assert summary["rows"] == manifest["rows"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["test.jsonl", "train.jsonl", "validation.jsonl"]
    assert (tmp_path / "out" / "test.jsonl").read_bytes() == build.files["test.jsonl"]
    sharegpt = export_dataset(tmp_path / "exports", tmp_path / "ds.sharegpt.jsonl", "sharegpt")
    splits = [json.loads(x)["split"] for x in (tmp_path / "ds.sharegpt.jsonl").read_text().splitlines()]
    assert splits.count("test") == build.counts["test"] == sharegpt["rows"]["test"]


def test_without_a_test_fraction_the_dataset_keeps_two_split_files():
    build = build_dataset(sample_rows(), shipped=None, validation_fraction=0.1, seed=3)
    assert set(build.files) == {"train.jsonl", "validation.jsonl", "provenance.jsonl"}
    assert set(build.counts) == {"train", "validation"} and set(build.grouping["rows"]) == {"train", "validation"}
