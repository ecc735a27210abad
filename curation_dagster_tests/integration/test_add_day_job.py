"""add_day_job: a day's partition and the pool refresh in one run give what the two jobs give."""

import dagster as dg
import duckdb
import pytest

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.automation import DAILY_ASSETS, POOL_ASSETS
from curation_dagster.defs.resources import build_resources
from curation_dagster_tests.graph import DAYS, copy_graph

pytestmark = pytest.mark.slow

EXPORT_FILES = ("train.jsonl", "validation.jsonl", "provenance.jsonl")


def test_one_run_adds_the_day_and_publishes_what_the_two_jobs_publish(small_topic_modelled, small_pipeline,
                                                                         tmp_path):
    # small_pipeline is small_topic_modelled + pool_refresh_job; here the last day is materialized again
    # and the pool refreshed in the same run, so the export must come out byte for byte the same
    two_jobs_dir, _ = small_pipeline
    data_dir = copy_graph(small_topic_modelled, tmp_path / "one_run")
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    instance = dg.DagsterInstance.ephemeral()
    day = DAYS[-1]
    res = defs.resolve_job_def("add_day_job").execute_in_process(partition_key=day, instance=instance)
    assert res.success

    mats = res.get_asset_materialization_events()
    day_keys = {e.asset_key.to_user_string() for e in mats if e.partition == day}
    pool_keys = {e.asset_key.to_user_string() for e in mats if e.partition is None}
    assert {"raw_generations", "filtered_generations", "rejected_generations", "generation_embeddings"} <= day_keys
    assert {"deduplicated_generations", "generation_clusters", "sampled_examples", "finetuning_dataset",
            "dataset_report"} <= pool_keys
    assert day_keys | pool_keys == set(DAILY_ASSETS) | set(POOL_ASSETS)
    assert len(instance.get_runs()) == 1

    # the pool read every day, not only the run's partition
    with duckdb.connect(str(data_dir / "pipeline.duckdb"), read_only=True) as con:
        pool_days = {r[0] for r in con.execute(
            "SELECT DISTINCT strftime(created_at, '%Y-%m-%d') FROM curation.deduplicated_generations").fetchall()}
    assert pool_days == set(DAYS)
    published = data_dir / "exports" / "finetuning_dataset"
    for name in EXPORT_FILES:
        assert (published / name).read_bytes() == (two_jobs_dir / "exports" / "finetuning_dataset" / name).read_bytes()


def test_the_add_day_schedule_ships_stopped_at_the_daily_hour():
    defs = build_definitions(resources=build_resources("local", data_dir="/nonexistent"))
    schedule = defs.resolve_schedule_def("add_day_job_schedule")
    assert schedule.job_name == "add_day_job"
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert defs.resolve_job_def("add_day_job").tags.get("curation/stage") == "pool"  # one pool-stage run at a time
