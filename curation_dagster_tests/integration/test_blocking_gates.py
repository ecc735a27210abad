"""A broken batch never reaches the export, and a failed export leaves the last good one untouched."""

import json

import dagster as dg
import pandas as pd
import pytest

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import build_resources
from curation_dagster.lib.warehouse import write_generations

pytestmark = pytest.mark.slow
DAYS = ["2026-11-01", "2026-11-02"]


def snapshot(data_dir):
    out = data_dir / "exports" / "finetuning_dataset"
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, model):
    from curation_dagster.sample_data import generate_sample_data

    gens, labels = generate_sample_data(n_rows=260, days=2, seed=5)
    data_dir = tmp_path_factory.mktemp("gates")
    write_generations(data_dir / "warehouse.duckdb", gens, labels)
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    instance = dg.DagsterInstance.ephemeral()
    for day in DAYS:
        assert defs.resolve_job_def("daily_curation_job").execute_in_process(partition_key=day, instance=instance).success
    assert defs.resolve_job_def("topic_model_job").execute_in_process(instance=instance).success
    assert defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance).success
    return data_dir, defs, instance, gens


def test_progress_check_warns_when_the_target_date_is_out_of_reach(good_run):
    data_dir, defs, instance, _ = good_run
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey("finetuning_dataset")],
        run_config={"ops": {"finetuning_dataset": {"config": {"target_examples": 50_000, "target_date": "2026-12-01"}}}})
    assert res.success  # WARN: the run goes on, the check reports
    check = {e.check_name: e for e in res.get_asset_check_evaluations()}["dataset_progress_to_target"]
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["daily_rate"].value > 0 and check.metadata["projected_date"].value > "2026-12-01"
    meta = res.asset_materializations_for_node("finetuning_dataset")[0].metadata
    assert "/ 50,000 examples" in meta["progress_to_target"].value
    assert meta["examples_dropped"].value == 0 and meta["churn_rate"].value == 0.0  # same data, same selection


def test_a_test_split_is_written_grouped_and_passes_the_export_check(good_run):
    data_dir, defs, instance, _ = good_run
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey("finetuning_dataset")],
        run_config={"ops": {"finetuning_dataset": {"config": {"test_fraction": 0.2}}}})
    assert res.success
    out = data_dir / "exports" / "finetuning_dataset"
    manifest = json.loads((out / "manifest.json").read_text())
    lines = {s: len((out / f"{s}.jsonl").read_text().splitlines()) for s in ("train", "validation", "test")}
    assert lines["test"] > 0 and {**lines, "total": sum(lines.values())} == manifest["rows"]
    assert manifest["split_grouping"]["straddling"] == 0 and manifest["split_grouping"]["rows"] == lines
    assert manifest["config"]["test_fraction"] == 0.2
    check = {e.check_name: e for e in res.get_asset_check_evaluations()}["finetuning_dataset_valid"]
    assert check.passed, check.metadata["failed_expectations"].value


def test_broken_partition_is_blocked_before_export(good_run):
    data_dir, defs, instance, gens = good_run
    before = snapshot(data_dir)
    # The upstream export replays day one's generations under a later date: same ids on two days.
    replay = gens[gens["created_at"].dt.strftime("%Y-%m-%d") == DAYS[0]].copy()
    replay["created_at"] = replay["created_at"] + pd.Timedelta(days=3)
    write_generations(data_dir / "warehouse.duckdb", pd.concat([gens, replay]))
    assert defs.resolve_job_def("daily_curation_job").execute_in_process(
        partition_key="2026-11-04", instance=instance).success  # the day alone looks fine

    pool = defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not pool.success
    evals = {e.check_name: e for e in pool.get_asset_check_evaluations()}
    # the first pool step's blocking check stops it; nothing downstream runs
    gate = evals["pool_has_no_exact_duplicates"]
    assert gate.passed is False and gate.severity.value == "ERROR"
    assert "unique(generation_id)" in gate.metadata["failed_expectations"].value
    assert "clusters_cover_pool" not in evals
    materialized = {m.asset_key.to_user_string() for m in pool.get_asset_materialization_events()
                    for m in [m.event_specific_data.materialization]}
    assert not materialized & {"generation_clusters", "sampled_examples", "finetuning_dataset"}
    assert snapshot(data_dir) == before  # previous JSONL and manifest byte-identical


def test_failed_export_validation_keeps_last_good_dataset(good_run):
    data_dir, defs, instance, _ = good_run
    before = snapshot(data_dir)
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(
        instance=instance, raise_on_error=False,
        run_config={"ops": {"finetuning_dataset": {"config": {"max_tokens_per_example": 5}}}},
        asset_selection=[dg.AssetKey("finetuning_dataset")],
    )
    assert not res.success
    failure = [e for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure and "export validation failed" in str(failure[0].event_specific_data.error.message)
    assert snapshot(data_dir) == before
    assert not [p for p in (data_dir / "exports").iterdir() if p.name.startswith(".")]  # no temp dirs left
