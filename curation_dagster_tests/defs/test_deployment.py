"""The deployment (start date, storage, crons, poll interval) is read when the definitions are built,
not when a module is imported, and every daily asset, job and sensor follows it."""

import os
import subprocess
import sys

import dagster as dg
import pytest

from curation_dagster.cli import deployment_for
from curation_dagster.defs.deployment import Deployment, DeploymentError
from curation_dagster.defs.resources import build_resources
from curation_dagster.definitions import build_definitions

DAILY = {"raw_generations", "filtered_generations", "rejected_generations", "generation_embeddings"}


def specs(defs: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}


def test_importing_the_code_location_reads_no_deployment_variable():
    """With every deployment variable unusable, the import still succeeds; building is what fails,
    naming the variable."""
    env = {**os.environ, "CURATION_START_DATE": "not-a-date", "DAGSTER_DEPLOYMENT": "staging",
           "CURATION_REVIEW_POLL_SECONDS": "often", "CURATION_CONFIG": "none"}
    probe = ("import curation_dagster.definitions as d, curation_dagster.cli\n"
             "print('imported')\n"
             "d.defs()\n")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "imported"
    assert out.returncode != 0
    assert "DeploymentError: CURATION_REVIEW_POLL_SECONDS='often': expected a whole number" in out.stderr


def test_every_daily_asset_and_the_daily_job_start_at_the_deployment_start_date():
    defs = build_definitions(deployment=Deployment(start_date="2025-01-15"))
    by_key = specs(defs)
    for key in DAILY:
        assert by_key[key].partitions_def.get_first_partition_key() == "2025-01-15", key
    assert {k for k, s in by_key.items() if s.partitions_def is not None} == DAILY
    job = defs.resolve_job_def("daily_curation_job")
    assert job.partitions_def.get_first_partition_key() == "2025-01-15"
    schedule = defs.resolve_schedule_def("daily_curation_job_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    # the default deployment is unchanged by having built another one
    assert build_definitions(deployment=Deployment()).resolve_job_def(
        "daily_curation_job").partitions_def.get_first_partition_key() == "2026-11-01"


def test_crons_poll_interval_and_storage_kind_come_from_the_environment(tmp_path):
    env = {"DAGSTER_DEPLOYMENT": "prod", "CURATION_POOL_REFRESH_CRON": "*/5 * * * *",
           "CURATION_TOPIC_MODEL_CRON": " ", "CURATION_REVIEW_POLL_SECONDS": "15"}
    deployment = Deployment.from_env(env)
    assert deployment == Deployment(name="prod", pool_refresh_cron="*/5 * * * *", review_poll_seconds=15)
    defs = build_definitions(resources=build_resources("local", data_dir=tmp_path), deployment=deployment)
    assert defs.resolve_schedule_def("pool_refresh_job_schedule").cron_schedule == "*/5 * * * *"
    assert defs.resolve_schedule_def("topic_model_job_schedule").cron_schedule == "0 3 * * 1"  # blank: default
    assert defs.resolve_sensor_def("label_studio_annotations").minimum_interval_seconds == 15
    by_key = specs(defs)
    assert by_key["filtered_generations"].kinds == {"snowflake", "pandas"}
    assert by_key["generation_embeddings"].kinds == {"snowflake", "pytorch"}
    assert by_key["finetuning_dataset"].kinds == {"json", "openai"}  # files, not tables: unchanged
    assert not any("duckdb" in s.kinds for s in by_key.values())
    assert specs(build_definitions(resources=build_resources("local", data_dir=tmp_path), deployment=Deployment()))["filtered_generations"].kinds == {
        "duckdb", "pandas"}


@pytest.mark.parametrize("env, message", [
    ({"DAGSTER_DEPLOYMENT": "staging"}, "DAGSTER_DEPLOYMENT='staging': expected one of ['local', 'prod']"),
    ({"CURATION_START_DATE": "2026-13-01"}, "CURATION_START_DATE='2026-13-01': expected a date, YYYY-MM-DD"),
    ({"CURATION_REVIEW_POLL_SECONDS": "0"}, "CURATION_REVIEW_POLL_SECONDS=0: expected seconds >= 1"),
    ({"CURATION_REVIEW_POLL_SECONDS": "1m"}, "CURATION_REVIEW_POLL_SECONDS='1m': expected a whole number"),
])
def test_a_bad_deployment_variable_is_named(env, message):
    with pytest.raises(DeploymentError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Deployment.from_env(env)


def test_a_bad_cron_is_named_when_the_schedules_are_built(tmp_path):
    with pytest.raises(DeploymentError, match="CURATION_POOL_REFRESH_CRON='every day': not a cron schedule"):
        build_definitions(resources=build_resources("local", data_dir=tmp_path), deployment=Deployment(pool_refresh_cron="every day"))


def test_the_refilter_sensor_asks_only_for_days_of_its_own_deployment(tmp_path):
    """review_decisions names rejected days; the sensor requests those inside the code location's
    partitions: a deployment starting 2025-01-01 has 2025-01-02, the default (2026-11-01) does not."""
    instance = dg.DagsterInstance.ephemeral()

    @dg.asset(name="review_decisions")
    def stand_in():
        return dg.MaterializeResult(metadata={"rejected_days": "2024-12-31,2025-01-02",
                                              "rejected_fingerprint": "f1"})

    assert dg.materialize([stand_in], instance=instance).success

    def requested(deployment):
        defs = build_definitions(resources=build_resources("local", data_dir=tmp_path), deployment=deployment)
        sensor = defs.resolve_sensor_def("human_review_refilter")
        with dg.build_sensor_context(instance=instance, definitions=defs) as ctx:
            return [r.partition_key for r in sensor.evaluate_tick(ctx).run_requests]

    assert requested(Deployment(start_date="2025-01-01")) == ["2025-01-02"]
    assert requested(Deployment()) == []


def test_curation_run_moves_the_start_date_back_for_older_days(monkeypatch):
    monkeypatch.setenv("CURATION_START_DATE", "2026-11-01")
    assert deployment_for(["2025-06-01", "2025-06-02"]).start_date == "2025-06-01"
    assert deployment_for(["2026-11-05"]).start_date == "2026-11-01"
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "nowhere")
    with pytest.raises(Exception, match="DAGSTER_DEPLOYMENT='nowhere'"):
        deployment_for(["2026-11-05"])
