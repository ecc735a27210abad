"""Every asset check passes on a good frame and fails on a bad one."""

import hashlib
import json
from datetime import datetime

import numpy as np
import pandas as pd

from curation_dagster.defs.clustering.checks import cluster_checks
from curation_dagster.defs.embedding.checks import embedding_checks
from curation_dagster.defs.export.validation import validate_dataset
from curation_dagster.defs.filtering.checks import filter_checks
from curation_dagster.defs.ingest.checks import raw_checks
from curation_dagster.defs.sampling.checks import sampling_checks
from curation_dagster.lib.contract import conform
from curation_dagster.lib.export import jsonl_bytes, to_chat_record

DAY = (datetime(2026, 11, 2), datetime(2026, 11, 3))


def by_name(results):
    return {r.check_name: r for r in results}


def raw_frame(n=5):
    return conform(pd.DataFrame({
        "generation_id": [f"g{i}" for i in range(n)],
        "created_at": pd.date_range("2026-11-02 08:00", periods=n, freq="h"),
        "template_id": "general", "generator_version": "1.5.0", "instruction": "Write to Bo about lunch",
        "identity": "{}", "input_message": None, "output": "Hi Bo", "copied": True, "sent": False,
        "edit_ratio": 0.2, "rating": 4,
    }))


def test_raw_checks():
    good = by_name(raw_checks(raw_frame(), *DAY))
    assert good["raw_matches_data_contract"].passed and good["raw_values_plausible"].passed
    dup_and_late = raw_frame()
    dup_and_late.loc[1, "generation_id"] = "g0"
    dup_and_late.loc[2, "created_at"] = pd.Timestamp("2026-11-03 00:00")
    bad = by_name(raw_checks(dup_and_late, *DAY))["raw_matches_data_contract"]
    assert not bad.passed and bad.severity.value == "ERROR"
    assert "unique(generation_id)" in bad.metadata["failed_expectations"].value
    assert "between(created_at)" in bad.metadata["failed_expectations"].value
    wrong_type = raw_frame().assign(rating=["5"] * 5)
    assert not by_name(raw_checks(wrong_type, *DAY))["raw_matches_data_contract"].passed
    implausible = raw_frame().assign(edit_ratio=[0.1, 1.7, 0.2, 0.3, 0.1])
    assert not by_name(raw_checks(implausible, *DAY))["raw_values_plausible"].passed


def test_filter_checks():
    raw = raw_frame(6)
    kept, rejected = raw.iloc[:4], raw.iloc[4:].assign(rule="pii", reason="output contains an email address")
    good = by_name(filter_checks(raw, kept, rejected, {"pii": 2}, 0.5, 0.5))
    assert good["filtered_rows_reconcile"].passed and good["rejection_rates_within_bounds"].passed
    lost = by_name(filter_checks(raw, kept, rejected.iloc[:1], {"pii": 1}, 0.5, 0.5))
    assert not lost["filtered_rows_reconcile"].passed  # one row vanished
    no_reason = by_name(filter_checks(raw, kept, rejected.assign(reason=[None, "x"]), {"pii": 2}, 0.5, 0.5))
    assert not no_reason["filtered_rows_reconcile"].passed
    spike = by_name(filter_checks(raw, kept, rejected, {"pii": 2}, 0.2, 0.5))["rejection_rates_within_bounds"]
    assert not spike.passed and spike.severity.value == "WARN" and "pii" in spike.metadata["rules_over_bound"].value


def test_embedding_checks():
    kept = pd.DataFrame({"generation_id": ["a", "b"]})
    unit = lambda v: (np.asarray(v) / np.linalg.norm(v)).tolist()  # noqa: E731
    good = pd.DataFrame({"generation_id": ["a", "b"], "embedding": [unit([1, 2, 3]), unit([3, 2, 1])]})
    assert embedding_checks(good, kept, 3)[0].passed
    for bad in (
        good.iloc[:1],  # a kept row without a vector
        good.assign(embedding=[[1.0, 2.0, 3.0], unit([3, 2, 1])]),  # not normalised
        good.assign(embedding=[unit([1, 2, 3]), [float("nan"), 0.0, 0.0]]),  # not finite
    ):
        assert not embedding_checks(bad, kept, 3)[0].passed
    assert not embedding_checks(good, kept, 384)[0].passed  # wrong dimension


def test_cluster_checks():
    clusters = pd.DataFrame({"generation_id": list("abcdef"), "cluster_id": [0, 0, 0, 1, 1, 2],
                             "cluster_name": ["x", "x", "x", "y", "y", "z"], "is_outlier": [False] * 5 + [True]})
    summaries = pd.DataFrame({"cluster_id": [0, 1, 2], "cluster_name": ["x", "y", "z"], "share": [0.5, 0.33, 0.17]})
    ids = clusters["generation_id"]
    good = by_name(cluster_checks(clusters, summaries, ids, 0.35, 0.6))
    assert all(r.passed for r in good.values())
    dup = pd.concat([clusters, clusters.iloc[:1]])
    assert not by_name(cluster_checks(dup, summaries, ids, 0.35, 0.6))["clusters_cover_pool"].passed
    unnamed = clusters.assign(cluster_name=["x", "x", "x", "", "", "z"])
    assert not by_name(cluster_checks(unnamed, summaries, ids, 0.35, 0.6))["clusters_cover_pool"].passed
    bad = by_name(cluster_checks(clusters, summaries, ids, 0.1, 0.4))
    assert not bad["outlier_share_below_threshold"].passed and not bad["no_dominant_cluster"].passed
    assert by_name(cluster_checks(clusters, summaries, ids, 0.35, 0.6, 0.1, 40, 0.2))["topic_model_fits_new_rows"].passed
    drift = by_name(cluster_checks(clusters, summaries, ids, 0.35, 0.6, 0.3, 40, 0.2))["topic_model_fits_new_rows"]
    assert not drift.passed and drift.severity.value == "WARN" and drift.metadata["rows_since_fit"].value == 40


def test_sampling_checks():
    from curation_dagster.lib.sampling import SampleInfo, SampleSettings

    def per_cluster(n, share=0.5):
        return SampleSettings(mode="per_cluster", n_per_cluster=n, general_share=share), SampleInfo("per_cluster", 4, 4)

    s = pd.DataFrame({"generation_id": list("abcd"), "cluster_id": [0, 0, 1, 1], "cell_id": [0, 0, 1, 1],
                      "category": ["general", "template_specific"] * 2})
    good = by_name(sampling_checks(s, *per_cluster(2), 0.05))
    assert good["sample_within_quota"].passed and good["category_mix_on_target"].passed
    assert not by_name(sampling_checks(s, *per_cluster(1), 0.05))["sample_within_quota"].passed
    assert not by_name(sampling_checks(pd.concat([s, s.iloc[:1]]), *per_cluster(5), 0.5))["sample_within_quota"].passed
    assert not by_name(sampling_checks(s, *per_cluster(2, 0.8), 0.05))["category_mix_on_target"].passed
    # target mode: each (cell, category) may give at most its bound (its level q + 1, or what it shipped)
    target = SampleSettings(target_examples=4)
    one_each = {(c, cat): 1 for c in (0, 1) for cat in ("general", "template_specific")}
    assert by_name(sampling_checks(s, target, SampleInfo("target", 4, 4, cell_bound=one_each),
                                   0.05))["sample_within_quota"].passed
    two_in_a_cell = s.assign(cell_id=[0, 0, 0, 0])  # 2 general rows in cell 0, which may give 1
    assert not by_name(sampling_checks(two_in_a_cell, target, SampleInfo(
        "target", 4, 4, cell_bound=one_each), 0.05))["sample_within_quota"].passed
    # a cell with no bound at all may give nothing
    assert not by_name(sampling_checks(s, target, SampleInfo("target", 4, 4, cell_bound={}),
                                       0.05))["sample_within_quota"].passed
    over_target = by_name(sampling_checks(s, SampleSettings(target_examples=3), SampleInfo(
        "target", 4, 3, cell_bound={k: 5 for k in one_each}), 0.05))["sample_within_quota"]
    assert not over_target.passed


def export_files(rows, tamper=None):
    import hashlib

    recs = [to_chat_record(r) for r in rows]
    files = {"train.jsonl": jsonl_bytes(recs[:-1]), "validation.jsonl": jsonl_bytes(recs[-1:])}
    files["provenance.jsonl"] = jsonl_bytes(
        [{"split": "train", "line": i + 1, "generation_id": r["generation_id"],
          "split_group": f"row:{r['generation_id']}"} for i, r in enumerate(rows[:-1])]
        + [{"split": "validation", "line": 1, "generation_id": rows[-1]["generation_id"],
            "split_group": f"row:{rows[-1]['generation_id']}"}])
    counts = {"train": len(rows) - 1, "validation": 1}
    manifest = {"rows": {**counts, "total": len(rows)}, "files": {
        n: {"sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()},
        "split_grouping": {"groups": len(rows), "straddling": 0, "rows": counts}}
    if tamper:
        tamper(files, manifest)
    return files, manifest


def test_export_validation():
    rows = [{"generation_id": f"g{i}", "instruction": f"Ask Bo about item {i}", "output": f"Hi Bo, item {i}?",
             "identity": json.dumps({"name": "Ann"}), "template_id": "general"} for i in range(3)]
    assert validate_dataset(*export_files(rows), max_tokens=100).passed
    pii = [dict(r) for r in rows]
    pii[0]["output"] = "Call me on +1 415-555-0132"
    assert not validate_dataset(*export_files(pii), max_tokens=100).passed
    assert not validate_dataset(*export_files(rows), max_tokens=5).passed  # too long

    def corrupt(files, manifest):
        files["train.jsonl"] += b'{"messages": [{"role": "assistant", "content": ""}]}\n'
    assert not validate_dataset(*export_files(rows, corrupt), max_tokens=100).passed

    def leak(files, manifest):  # the validation example also sits in train
        files["provenance.jsonl"] = files["provenance.jsonl"].replace(b'"g2"', b'"g0"')
    assert not validate_dataset(*export_files(rows, leak), max_tokens=100).passed

    def stale(files, manifest):
        manifest["files"]["train.jsonl"]["sha256"] = "0" * 64
    assert not validate_dataset(*export_files(rows, stale), max_tokens=100).passed

    def straddle(files, manifest):  # the validation example shares a split group with a train example
        files["provenance.jsonl"] = files["provenance.jsonl"].replace(b'"row:g2"', b'"row:g0"')
        manifest["split_grouping"]["groups"] = 2
        manifest["files"]["provenance.jsonl"]["sha256"] = hashlib.sha256(files["provenance.jsonl"]).hexdigest()

    def miscount(files, manifest):  # as many rows in all, but not per split
        manifest["rows"].update(train=1, validation=2)
    def nan_in_provenance(files, manifest):  # what Python's json writes for a NaN field: not JSON elsewhere
        files["provenance.jsonl"] = files["provenance.jsonl"].replace(b'"line": 1,', b'"line": 1, "score": NaN,', 1)
        manifest["files"]["provenance.jsonl"]["sha256"] = hashlib.sha256(files["provenance.jsonl"]).hexdigest()
    result = validate_dataset(*export_files(rows, nan_in_provenance), max_tokens=100)
    assert result.metadata["failed_expectations"].value == "expect_column_values_to_be_null(provenance_problem)"

    for tamper in (straddle, miscount):
        result = validate_dataset(*export_files(rows, tamper), max_tokens=100)
        assert result.metadata["failed_expectations"].value == "expect_column_values_to_be_null(split_problem)", \
            tamper.__name__

    # the same reply under another id, once re-cased (exact) and once with a changed greeting (near)
    reply = ("Hi Bo,\n\nThanks for the quick call today. I will send the revised quote for the loading dock "
             "by Friday and book the site visit for the week after.\n\nBest,\nAnn")
    base = [dict(r, output=reply if r["generation_id"] == "g1" else r["output"]) for r in rows]
    for twin in (reply.upper(), reply.replace("Hi Bo,", "Hello Bo,")):
        dup = base + [dict(base[1], generation_id="g9", output=twin)]
        result = validate_dataset(*export_files(dup), max_tokens=100)
        assert not result.passed and "to_be_null(duplicate)" in result.metadata["failed_expectations"].value
    assert validate_dataset(*export_files(base), max_tokens=100).passed


def test_source_table_check(tmp_path):
    import dagster as dg

    from curation_dagster.defs.ingest.checks import source_table_matches_contract
    from curation_dagster.defs.resources import DuckDBWarehouse
    from curation_dagster.lib.warehouse import write_generations

    write_generations(tmp_path / "w.duckdb", raw_frame())
    good = source_table_matches_contract(DuckDBWarehouse(database=str(tmp_path / "w.duckdb")))
    assert good.passed and good.metadata["rows"].value == 5
    mapped_wrong = source_table_matches_contract(DuckDBWarehouse(
        database=str(tmp_path / "w.duckdb"), column_mapping={"output": "completion"}))
    assert not mapped_wrong.passed and mapped_wrong.metadata["missing_columns"].value == "completion"
    missing = source_table_matches_contract(DuckDBWarehouse(database=str(tmp_path / "w.duckdb"), table="nope"))
    assert not missing.passed and "nope" in missing.metadata["error"].value
    assert isinstance(good, dg.AssetCheckResult)


def test_topic_model_check():
    from curation_dagster.defs.clustering.checks import topic_model_checks
    from curation_dagster.lib.clustering import ClusterSettings
    from curation_dagster.lib.topic_model import fit_topic_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    frame = fit_topic_model([f"g{i}" for i in range(60)], x, ["invoice payment"] * 60,
                            ClusterSettings(algorithm="kmeans", kmeans_k=3)).to_frame()
    assert topic_model_checks(frame)[0].passed
    unnormalised = frame.assign(centroid=[[2.0] * 8] + list(frame["centroid"][1:]))
    assert not topic_model_checks(unnormalised)[0].passed
    assert not topic_model_checks(frame.assign(cluster_name=["", "a", "b"]))[0].passed
    assert not topic_model_checks(pd.concat([frame, frame.iloc[:1]]))[0].passed


def test_export_validation_reads_lines_holding_unicode_line_separators():
    # JSON keeps U+2028 / U+2029 / U+0085 raw (ensure_ascii=False) and real replies contain them:
    # str.splitlines() would cut such a record in two and fail every expectation of the export
    rows = [{"generation_id": f"g{i}", "instruction": f"Ask Bo about item {i}",
             "output": f"Hi Bo,\u2028item {i}\u2029is ready\x85today.", "identity": json.dumps({"name": "Ann"}),
             "template_id": "general"} for i in range(3)]
    result = validate_dataset(*export_files(rows), max_tokens=100)
    assert result.passed, result.metadata


def test_dedup_check_names_a_removed_row_whose_duplicate_of_did_not_stay():
    from curation_dagster.defs.dedup.checks import dedup_checks

    pool = pd.DataFrame({"generation_id": ["a", "b", "c"], "instruction": ["x", "y", "x"],
                         "input_message": [None] * 3, "output": ["1", "2", "1"]})
    kept = pool.iloc[[0, 1]].reset_index(drop=True)
    good = pd.DataFrame({"generation_id": ["c"], "duplicate_of": ["a"]})
    (ok,) = dedup_checks(pool, kept, good)
    assert ok.passed and ok.metadata["failed_expectations"].value == "none"
    # the same answer with the exact keys handed in (the asset passes the signature cache's)
    (ok2,) = dedup_checks(pool, kept, good, ["k-a", "k-b"])
    assert ok2.passed
    orphan = pd.DataFrame({"generation_id": ["c"], "duplicate_of": ["z"]})  # z is in no kept row
    (bad,) = dedup_checks(pool, kept, orphan)
    assert not bad.passed
    assert bad.metadata["failed_expectations"].value == "expect_column_values_to_be_null(duplicate_of_not_kept)"
    (same_key,) = dedup_checks(pool, kept, good, ["k", "k"])  # two kept rows with one exact key
    assert not same_key.passed and "unique(exact_key)" in same_key.metadata["failed_expectations"].value
