"""Materialize the whole graph on a few hundred sample rows with the real embedding model."""

import json
import shutil

import dagster as dg
import duckdb
import pytest

from curation_dagster.defs.resources import build_resources
from curation_dagster.definitions import build_definitions
from curation_dagster.lib.export import validate_chat_record
from curation_dagster_tests.graph import DAYS, run_pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(small_pipeline):
    return small_pipeline


@pytest.fixture
def own_pipeline(pipeline, tmp_path):
    """A copy of the finished pipeline for a test that materializes or reviews: every test starts from
    the same state, whatever ran before it."""
    data_dir, res = pipeline
    copy = tmp_path / "pipeline_copy"
    shutil.copytree(data_dir, copy)
    return copy, res


def table(data_dir, name):
    with duckdb.connect(str(data_dir / "pipeline.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT * FROM curation.{name}").df()


def test_counts_reconcile_per_partition(pipeline, sample_small):
    data_dir, _ = pipeline
    raw, kept, rej = (table(data_dir, n) for n in ("raw_generations", "filtered_generations", "rejected_generations"))
    assert len(raw) == len(sample_small[0])
    for day in DAYS:
        d = lambda df: int((df["created_at"].dt.strftime("%Y-%m-%d") == day).sum())  # noqa: E731
        assert d(raw) == d(kept) + d(rej) > 0
    assert set(raw.generation_id) == set(kept.generation_id) | set(rej.generation_id)
    assert rej["reason"].notna().all() and (rej["reason"].str.len() > 0).all()


def test_embeddings_are_unit_vectors_one_per_kept_row(pipeline):
    data_dir, _ = pipeline
    emb, kept = table(data_dir, "generation_embeddings"), table(data_dir, "filtered_generations")
    assert sorted(emb.generation_id) == sorted(kept.generation_id)
    import numpy as np

    vecs = np.stack(emb["embedding"].to_numpy())
    assert vecs.shape[1] == 384
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_clusters_named_and_sample_bounded(pipeline):
    data_dir, _ = pipeline
    clusters, summaries = table(data_dir, "generation_clusters"), table(data_dir, "cluster_summaries")
    sampled = table(data_dir, "sampled_examples")
    assert summaries["cluster_name"].str.len().min() > 0
    assert summaries["cluster_name"].is_unique
    assert len(summaries) >= 2
    # cells inside topics: about 25 pool rows each, so more cells than topics
    assert clusters["cell_id"].nunique() > len(summaries) and clusters["cell_id"].min() >= 0
    assert abs(len(clusters) / clusters["cell_id"].nunique() - 25) <= 15
    # target mode, 50,000 out of reach: 0.2 of the pool ships (the mix may trim one)
    assert len(sampled) in (int(0.2 * len(clusters)), int(0.2 * len(clusters)) - 1)
    biggest = clusters["cluster_id"].value_counts().idxmax()  # topics balanced: the largest gives less than its share
    assert (sampled["cluster_id"] == biggest).mean() < (clusters["cluster_id"] == biggest).mean()
    assert abs((sampled["category"] == "general").mean() - 0.5) <= 0.05
    assert sampled["generation_id"].is_unique
    assert set(sampled.generation_id) <= set(clusters.generation_id)


def test_export_is_valid_chat_jsonl_with_manifest(pipeline):
    data_dir, res = pipeline
    out = data_dir / "exports" / "finetuning_dataset"
    manifest = json.loads((out / "manifest.json").read_text())
    ids = {}
    for split in ("train", "validation"):
        lines = (out / f"{split}.jsonl").read_text().splitlines()
        assert len(lines) == manifest["rows"][split] > 0
        for line in lines:
            assert validate_chat_record(json.loads(line)) is None
    prov = [json.loads(x) for x in (out / "provenance.jsonl").read_text().splitlines()]
    for split in ("train", "validation"):
        ids[split] = {p["generation_id"] for p in prov if p["split"] == split}
    assert not ids["train"] & ids["validation"]
    import hashlib

    for name, meta in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == meta["sha256"]
    checks = {c.check_name: c for c in res.get_asset_check_evaluations()}
    assert {"clusters_cover_pool", "sample_within_quota", "finetuning_dataset_valid",
            "dataset_progress_to_target"} <= set(checks)
    assert checks["dataset_progress_to_target"].passed  # no target date: on course while rows keep coming
    # the export says whether it beat random, on both instruments, in the manifest and the check
    div = manifest["diversity"]
    assert div["export_rows"] == manifest["rows"]["total"] and div["random_samples"] == 10
    assert div["pool_rows"] == len(table(data_dir, "deduplicated_generations"))
    for inst in ("lexical", "semantic"):
        assert {"vendi", "coverage", "mean_distance"} <= set(div["instruments"][inst])
    assert checks["export_more_diverse_than_random"].passed == div["beats_random"]
    assert checks["dataset_churn_within_bound"].passed  # the first version drops nothing
    assert manifest["changes_since_previous"]["dropped_by_selection"] == 0
    # WARN checks may fire on a 400-row sample (few, large clusters); ERROR checks may not
    failed = {n: c.metadata for n, c in checks.items() if not c.passed and c.severity.value == "ERROR"}
    assert not failed, failed


def test_without_an_llm_endpoint_the_judge_is_skipped_and_the_offline_judge_fitted(pipeline):
    data_dir, res = pipeline
    (judged,) = [m for m in res.asset_materializations_for_node("judged_examples")]
    meta = {k: v.value for k, v in judged.metadata.items()}
    assert meta["judged"] == 0 and meta["llm_calls"] == 0 and "CURATION_LLM_BASE_URL" in meta["skipped_reason"]
    assert table(data_dir, "judged_examples").empty
    # the generator's rows all carry usage signals: the model is fitted (its AUC recorded) and has nothing to score
    (offline,) = res.asset_materializations_for_node("offline_judge")
    om = {k: v.value for k, v in offline.metadata.items()}
    assert om["rows_without_signals"] == 0 and "held_out_auc" in om and om["labelled_bad"] >= 50
    assert set(table(data_dir, "sampled_examples")["quality_source"]) == {"usage"}
    out = data_dir / "exports" / "finetuning_dataset"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["judge"]["judged"] == 0 and manifest["judge"]["skipped"].startswith("judged_examples holds no")
    prov = [json.loads(x) for x in (out / "provenance.jsonl").read_text().splitlines()]
    assert not any("judge" in p or "quality_source" in p for p in prov)  # provenance as before the judge


def test_second_run_in_another_order_gives_byte_identical_jsonl(pipeline, tmp_path, sample_small):
    data_dir, _ = pipeline
    gens, labels = sample_small
    run_pipeline(tmp_path, gens, labels, day_order=list(reversed(DAYS)))
    for name in ("train.jsonl", "validation.jsonl", "provenance.jsonl"):
        a = (data_dir / "exports" / "finetuning_dataset" / name).read_bytes()
        b = (tmp_path / "exports" / "finetuning_dataset" / name).read_bytes()
        assert a == b, name


def test_rematerializing_a_partition_replaces_it_and_hits_the_embedding_cache(own_pipeline, sample_small):
    data_dir, _ = own_pipeline
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    before = len(table(data_dir, "raw_generations"))
    emb_before = table(data_dir, "generation_embeddings").sort_values("generation_id")
    res = defs.resolve_job_def("daily_curation_job").execute_in_process(
        partition_key=DAYS[0], instance=dg.DagsterInstance.ephemeral())
    assert res.success
    assert len(table(data_dir, "raw_generations")) == before
    meta = res.asset_materializations_for_node("generation_embeddings")[0].metadata
    assert meta["cache_misses"].value == 0 and meta["cache_hits"].value > 0
    assert meta["cache_hit_rate"].value == 1.0
    emb_after = table(data_dir, "generation_embeddings").sort_values("generation_id")
    assert emb_after["generation_id"].tolist() == emb_before["generation_id"].tolist()
    import numpy as np

    assert np.array_equal(np.stack(emb_after["embedding"].to_numpy()), np.stack(emb_before["embedding"].to_numpy()))


def test_capped_topic_model_fit_still_covers_the_pool(own_pipeline):
    data_dir, _ = own_pipeline
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    instance = dg.DagsterInstance.ephemeral()
    fit = defs.resolve_job_def("topic_model_job").execute_in_process(
        instance=instance, run_config={"ops": {"topic_model": {"config": {"fit_sample_cap": 120}}}},
        tags={"curation/refit_reason": "test"})
    meta = fit.asset_materializations_for_node("topic_model")[0].metadata
    assert meta["fit_rows"].value == 120 and meta["pool_rows"].value > 120
    assert meta["refit_reason"].value == "test"
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance)
    assert res.success
    clusters, kept = table(data_dir, "generation_clusters"), table(data_dir, "filtered_generations")
    assert sorted(clusters.generation_id) == sorted(kept.generation_id) and clusters.cluster_name.str.len().min() > 0
    checks = {c.check_name: c for c in res.get_asset_check_evaluations()}
    assert checks["clusters_cover_pool"].passed and checks["finetuning_dataset_valid"].passed
    # a new topic model: the diversity instruments are fitted again on this pool
    manifest = json.loads((data_dir / "exports" / "finetuning_dataset" / "manifest.json").read_text())
    assert manifest["diversity"]["instruments_fit"]["fitted_now"] is True


def test_a_pool_refresh_compares_diversity_on_the_kept_instruments(own_pipeline):
    data_dir, _ = own_pipeline
    path = data_dir / "exports" / "finetuning_dataset" / "manifest.json"
    first = json.loads(path.read_text())["diversity"]
    assert first["instruments_fit"] == {"fitted_now": True, "pool_rows": first["pool_rows"], "lexical_rows_reused": 0}
    assert (data_dir / "exports" / "state" / "finetuning_dataset.diversity.npz").is_file()
    assert (data_dir / "exports" / "state" / "finetuning_dataset.diversity_rows.npz").is_file()
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    assert defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
    again = json.loads(path.read_text())["diversity"]
    # same topic model, same pool: nothing fitted, every row's lexical vector read back, the same figures
    assert again["instruments_fit"] == {"fitted_now": False, "pool_rows": first["pool_rows"],
                                        "lexical_rows_reused": first["pool_rows"]}
    assert again["instruments"] == first["instruments"] and again["verdict"] == first["verdict"]


def test_dataset_table_matches_the_jsonl_line_for_line(pipeline):
    data_dir, _ = pipeline
    shipped = table(data_dir, "finetuning_dataset")
    out = data_dir / "exports" / "finetuning_dataset"
    for split in ("train", "validation"):
        lines = (out / f"{split}.jsonl").read_text().splitlines()
        rows = shipped[shipped["split"] == split].sort_values("line")
        assert rows["line"].tolist() == list(range(1, len(lines) + 1))
        assert [json.loads(m) for m in rows["messages"]] == [json.loads(x)["messages"] for x in lines]
    sampled = table(data_dir, "sampled_examples")
    assert set(shipped["generation_id"]) == set(sampled["generation_id"])


def test_cli_export_delivers_the_published_rows_as_sqlite(pipeline, tmp_path, monkeypatch):
    import sqlite3

    from click.testing import CliRunner

    from curation_dagster.cli import main

    data_dir, _ = pipeline
    monkeypatch.setenv("CURATION_STORAGE_PATH", str(data_dir / "pipeline.duckdb"))
    out = tmp_path / "dataset.sqlite"
    res = CliRunner().invoke(main, ["export", str(out), "--format", "sqlite",
                                    "--export-dir", str(data_dir / "exports")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    manifest = json.loads((data_dir / "exports" / "finetuning_dataset" / "manifest.json").read_text())
    with sqlite3.connect(out) as con:
        rows = con.execute("SELECT split, line, messages, created_at FROM examples ORDER BY split, line").fetchall()
    assert len(rows) == manifest["rows"]["total"] and f"Exported {len(rows):,} examples" in res.output
    train = (data_dir / "exports" / "finetuning_dataset" / "train.jsonl").read_text().splitlines()
    first_train = next(r for r in rows if r[0] == "train" and r[1] == 1)
    assert json.loads(first_train[2]) == json.loads(train[0])["messages"] and first_train[3]
    res = CliRunner().invoke(main, ["export", str(out), "--export-dir", str(tmp_path / "nothing")])
    assert res.exit_code != 0 and "materialize finetuning_dataset first" in res.output


def test_review_queue_ranks_the_sample_and_exports_for_a_spreadsheet(own_pipeline, tmp_path, monkeypatch):
    import pandas as pd
    from click.testing import CliRunner

    from curation_dagster.cli import main

    data_dir, _ = own_pipeline
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    res = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[dg.AssetKey("review_queue")], instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"review_queue": {"config": {"max_items": 25}}}})
    assert res.success
    queue, sampled = table(data_dir, "review_queue"), table(data_dir, "sampled_examples")
    assert len(queue) == min(25, len(sampled)) and queue["rank"].tolist() == list(range(1, len(queue) + 1))
    assert queue["uncertainty"].is_monotonic_decreasing and set(queue["generation_id"]) <= set(sampled["generation_id"])
    # the queue is exactly the most uncertain examples of the sample, by the documented formula written
    # out here (not the library's function): 0.4 x cluster doubt (1 for an outlier, else 1 - topic
    # probability) + 0.4 x closeness of quality to min_quality 0.4 within the 0.2 band + 0.2 x rule
    # near-miss (none in this queue's inputs)
    def expected(p, outlier, q):
        doubt = 1.0 if outlier or pd.isna(p) else 1.0 - p
        near = 1.0 if pd.isna(q) else max(0.0, 1.0 - abs(q - 0.4) / 0.2)
        return 0.4 * doubt + 0.4 * near

    scores = sorted((expected(p, bool(o), q) for p, o, q in
                     zip(sampled["probability"], sampled["is_outlier"], sampled["quality_score"])), reverse=True)
    assert queue["uncertainty"].tolist() == pytest.approx(scores[:len(queue)], abs=1e-6)

    monkeypatch.setenv("CURATION_STORAGE_PATH", str(data_dir / "pipeline.duckdb"))
    out = tmp_path / "review.csv"
    res = CliRunner().invoke(main, ["review", "export", str(out)], catch_exceptions=False)
    assert res.exit_code == 0 and f"Wrote {len(queue):,} items" in res.output
    sheet = pd.read_csv(out)
    assert sheet["generation_id"].tolist() == queue["generation_id"].tolist()
    assert {"reviewer", "verdict", "reasons", "edited_output"} <= set(sheet.columns)


def test_spreadsheet_reviews_become_decisions(own_pipeline, tmp_path, monkeypatch):
    import pandas as pd
    from click.testing import CliRunner

    from curation_dagster.cli import main

    data_dir, _ = own_pipeline
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(asset_selection=[dg.AssetKey("review_queue")], instance=instance).success
    monkeypatch.setenv("CURATION_STORAGE_PATH", str(data_dir / "pipeline.duckdb"))
    runner = CliRunner()
    assert runner.invoke(main, ["review", "export", str(tmp_path / "q.csv")], catch_exceptions=False).exit_code == 0
    queue = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False).head(5)
    ids = queue["generation_id"].tolist()
    answers = {  # item -> (ann, bo): verdict, reasons, edit
        0: (("accept", "", ""), ("accept", "", "")),
        1: (("accept", "", ""), ("reject", "wrong_tone", "")),
        2: (("reject", "pii", ""), ("reject", "pii,hallucination", "")),
        3: (("accept", "", "A better reply."), ("accept", "", "")),
        4: (("accept", "", ""), ("", "", "")),
    }
    for who, k in (("ann", 0), ("bo", 1)):
        sheet = queue.copy()
        sheet["reviewer"] = ""
        for i, pair in answers.items():
            sheet.loc[i, ["verdict", "reasons", "edited_output"]] = pair[k]
        if who == "bo":
            sheet.loc[len(sheet)] = {**sheet.iloc[0].to_dict(), "verdict": "reject", "reasons": "boring"}
        sheet.to_csv(tmp_path / f"{who}.csv", index=False)
        res = runner.invoke(main, ["review", "import", str(tmp_path / f"{who}.csv"), "--reviewer", who,
                                   "--warehouse", str(data_dir / "warehouse.duckdb")], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    assert "1 rejected" in res.output and "line 7: unknown reasons ['boring']" in res.output
    again = runner.invoke(main, ["review", "import", str(tmp_path / "ann.csv"), "--reviewer", "ann",
                                 "--warehouse", str(data_dir / "warehouse.duckdb")], catch_exceptions=False)
    assert "5 reviews imported" in again.output
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM review_imports").fetchall()[0][0] == 9  # 5 + 4, no doubles

    sync = defs.resolve_job_def("review_sync_job")
    res = sync.execute_in_process(instance=instance)
    assert res.success
    annotations = table(data_dir, "review_annotations")
    assert len(annotations) == 9 and set(annotations["reviewer"]) == {"ann", "bo"}
    decisions = table(data_dir, "review_decisions").set_index("generation_id")
    assert decisions.loc[ids[0], "state"] == "accepted" and decisions.loc[ids[1], "state"] == "adjudication"
    assert decisions.loc[ids[2], "state"] == "rejected" and decisions.loc[ids[2], "reasons"] == "hallucination, pii"
    # the sheet's created_at came back with the answers: the re-filter sensor knows the day
    rejected_day = str(table(data_dir, "sampled_examples").set_index("generation_id").loc[ids[2], "created_at"])[:10]
    assert decisions.loc[ids[2], "created_day"] == rejected_day
    assert decisions.loc[ids[3], "state"] == "edited" and decisions.loc[ids[3], "edited_output"] == "A better reply."
    assert decisions.loc[ids[4], "state"] == "pending"  # one review, two needed
    meta = next(m for m in res.asset_materializations_for_node("decide_reviews")
                if m.asset_key == dg.AssetKey("review_decisions")).metadata
    # shared items 0-3: observed agreement 3/4, chance (3*2 + 1*2)/16 = 1/2, kappa (0.75 - 0.5)/0.5
    assert meta["cohen_kappa"].value == pytest.approx(0.5)
    check = {e.check_name: e for e in res.get_asset_check_evaluations()}["reviewers_agree"]
    assert check.passed  # default bound 0.4
    assert {e.check_name: e for e in res.get_asset_check_evaluations()}["decisions_have_min_reviews"].passed
    strict = sync.execute_in_process(instance=instance,
                                     run_config={"ops": {"decide_reviews": {"config": {"min_kappa": 0.6}}}})
    check = {e.check_name: e for e in strict.get_asset_check_evaluations()}["reviewers_agree"]
    assert strict.success and not check.passed and check.severity.value == "WARN"

    # the next export acts on the decisions: the rejection is gone, the edit ships, the rest as sampled
    out = data_dir / "exports" / "finetuning_dataset"
    before = {json.loads(x)["generation_id"] for x in (out / "provenance.jsonl").read_text().splitlines()}
    assert job.execute_in_process(asset_selection=[dg.AssetKey("finetuning_dataset")], instance=instance).success
    prov = {p["generation_id"]: p for p in map(json.loads, (out / "provenance.jsonl").read_text().splitlines())}
    assert ids[2] not in prov and set(prov) == before - {ids[2]}
    edited = prov[ids[3]]
    assert edited["review_state"] == "edited" and edited["original_output"] != "A better reply."
    line = (out / f"{edited['split']}.jsonl").read_text().splitlines()[edited["line"] - 1]
    assert json.loads(line)["messages"][-1] == {"role": "assistant", "content": "A better reply."}
    assert prov[ids[1]]["review_state"] == "adjudication" and prov[ids[0]]["review_state"] == "accepted"
    assert not any("review_state" in p for g, p in prov.items() if g not in ids)  # unreviewed: unchanged
    manifest = json.loads((out / "manifest.json").read_text())
    review = manifest["review"]
    assert review["decisions"] == {"accepted": 1, "rejected": 1, "edited": 1, "adjudication": 1, "pending": 1}
    assert review["shipped"] == {"accepted": 1, "edited": 1, "adjudication": 1, "pending": 1}
    assert review["rejected_removed_at_export"] == 1  # its day was not re-filtered yet
    assert review["reviewed"] == 4 and review["reviewed_share"] == round(4 / (len(before) - 1), 4)
    assert review["cohen_kappa"] == pytest.approx(0.5) and review["reviewers"] == ["ann", "bo"]
    assert manifest["rows"]["total"] == len(before) - 1


def test_review_queue_can_add_unsampled_rows_just_above_the_quality_threshold(own_pipeline):
    data_dir, _ = own_pipeline
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    job = defs.resolve_implicit_global_asset_job_def()
    cfg = {"ops": {"review_queue": {"config": {"max_items": 10_000, "near_threshold_band": 0.15}}}}
    assert job.execute_in_process(asset_selection=[dg.AssetKey("review_queue")], run_config=cfg,
                                  instance=dg.DagsterInstance.ephemeral()).success
    queue, sampled = table(data_dir, "review_queue"), table(data_dir, "sampled_examples")
    pool = table(data_dir, "deduplicated_generations")
    near = queue[queue["candidate"] == "near_threshold"]
    expected = pool[(pool["quality_score"] >= 0.4) & (pool["quality_score"] <= 0.55)
                    & ~pool["generation_id"].isin(sampled["generation_id"])]
    assert len(near) == len(expected) > 0 and set(near["generation_id"]) == set(expected["generation_id"])
    # nobody has reviewed this copy: every sampled example is queued
    assert set(queue.loc[queue["candidate"] == "sampled", "generation_id"]) == set(sampled["generation_id"])
    assert near["instruction"].notna().all() and near["cluster_name"].notna().all()
