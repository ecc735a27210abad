"""Jobs and schedules. Schedules ship stopped: turn them on in the UI (Automation tab).

The pool stages' cron schedules can be moved per deployment with CURATION_POOL_REFRESH_CRON and
CURATION_TOPIC_MODEL_CRON (UTC), read when the definitions are built (`build_schedules`); the daily
schedule follows the daily partitions (02:00 UTC).
"""

import dagster as dg

from curation_dagster.defs.deployment import Deployment
from curation_dagster.defs.partitions import REFIT_REASON_TAG

#: Run tag of the jobs that read the whole pool; deploy/dagster.yaml runs one of them at a time.
POOL_STAGE_TAGS = {"curation/stage": "pool"}

DAILY_ASSETS = ["raw_generations", "filtered_generations", "rejected_generations", "generation_embeddings"]
#: Every step that writes the embedded DuckDB files is in one pool with one slot, so a run's steps
#: take turns anyway; in one process they pay the code location's imports (Dagster, pandas, Great
#: Expectations: about 9 s a process on 2 cores) once per run instead of once per step.
#: benchmarks/step_startup.py prints a run's wall time against its steps' work. The Definitions' default
#: executor, so every job and a materialization launched from the UI use it.
STEP_EXECUTOR = dg.in_process_executor

POOL_ASSETS = ["deduplicated_generations", "duplicate_generations", "generation_clusters", "cluster_summaries",
               "offline_judge", "sampled_examples", "judged_examples", "review_decisions", "cluster_decisions",
               "finetuning_dataset", "dataset_report",
               "document_chunks", "doc_qa_pairs",  # QA pairs from documents: empty without documents or endpoint
               "example_variants"]  # variants and negatives: empty at the default shares (0)

daily_curation_job = dg.define_asset_job(
    "daily_curation_job",
    selection=dg.AssetSelection.assets(*DAILY_ASSETS),  # partitioned like its assets: the deployment's days
    description="Load, filter and embed one day of generations (backfill it over any date range).",
)

topic_model_job = dg.define_asset_job(
    "topic_model_job",
    # the fit reads the de-duplicated pool, so it is refreshed first
    selection=dg.AssetSelection.assets("deduplicated_generations", "duplicate_generations", "topic_model"),
    tags=POOL_STAGE_TAGS,
    description="De-duplicate the pool and refit the topic model on it (capped sample). Run it weekly, on drift, "
                "or by hand.",
)

pool_refresh_job = dg.define_asset_job(
    "pool_refresh_job",
    selection=dg.AssetSelection.assets(*POOL_ASSETS),
    tags=POOL_STAGE_TAGS,
    description="Assign the pool to the topic model's clusters, re-sample, judge (LLM judge when an endpoint is "
                "configured; the offline judge always) and re-export the fine-tuning dataset.",
)


add_day_job = dg.define_asset_job(
    "add_day_job",
    # partitioned like the daily assets; the pool assets downstream read every day, this one included
    selection=dg.AssetSelection.assets(*DAILY_ASSETS, *POOL_ASSETS),
    tags=POOL_STAGE_TAGS,
    description="One day's growth in one run: load, filter and embed the day, then refresh the pool and re-export "
                "(daily_curation_job then pool_refresh_job, paying the run's start and imports once). For the "
                "latest day; backfill past days with daily_curation_job, which does not refresh the pool per day.",
)


def build_schedules(deployment: Deployment) -> list[dg.ScheduleDefinition]:
    """The daily schedules (02:00 UTC, the day before: the day alone, or the day and the pool refresh in one
    run) and the pool schedules on the deployment's crons."""
    daily = dg.build_schedule_from_partitioned_job(
        daily_curation_job, hour_of_day=2, minute_of_hour=0,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    # the same hour as the daily schedule: turn on this one instead of that one and the pool refresh's
    add_day = dg.build_schedule_from_partitioned_job(
        add_day_job, hour_of_day=2, minute_of_hour=0,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    refit = deployment.schedule("topic_model_cron", job=topic_model_job, name="topic_model_job_schedule",
                                tags={REFIT_REASON_TAG: "weekly schedule"},
                                default_status=dg.DefaultScheduleStatus.STOPPED)
    refresh = deployment.schedule("pool_refresh_cron", job=pool_refresh_job, name="pool_refresh_job_schedule",
                                  default_status=dg.DefaultScheduleStatus.STOPPED)
    return [daily, add_day, refit, refresh]


@dg.asset_sensor(asset_key=dg.AssetKey("generation_clusters"), job=topic_model_job, name="topic_model_drift",
                 minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
                 description="Requests a topic model refit when rows added since the last fit stop fitting its "
                             "clusters (new_rows_outlier_share above the threshold of the assignment run).")
def topic_model_drift(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    mat = asset_event.asset_materialization
    md = {k: getattr(v, "value", v) for k, v in (mat.metadata if mat else {}).items()}
    share, version = md.get("new_rows_outlier_share", 0.0), md.get("model_version", "?")
    threshold = md.get("refit_threshold", 0.2)
    if share > threshold:
        return dg.RunRequest(
            run_key=f"refit-after-{version}",  # one refit per model version, however many ticks see it
            tags={REFIT_REASON_TAG: f"drift: {share:.0%} of new rows are outliers (> {threshold:.0%}) for model {version}"},
        )
    return dg.SkipReason(f"new rows outlier share {share:.0%} <= {threshold:.0%} for model {version}")


jobs = [daily_curation_job, topic_model_job, pool_refresh_job, add_day_job]
sensors = [topic_model_drift]
