"""Jobs and schedules. Schedules ship stopped: turn them on in the UI (Automation tab)."""

import dagster as dg

from curation_dagster.defs.partitions import daily_partitions

DAILY_ASSETS = ["raw_generations", "filtered_generations", "rejected_generations", "generation_embeddings"]
POOL_ASSETS = ["generation_clusters", "cluster_summaries", "sampled_examples", "finetuning_dataset"]

daily_curation_job = dg.define_asset_job(
    "daily_curation_job",
    selection=dg.AssetSelection.assets(*DAILY_ASSETS),
    partitions_def=daily_partitions,
    description="Load, filter and embed one day of generations (backfill it over any date range).",
)

pool_refresh_job = dg.define_asset_job(
    "pool_refresh_job",
    selection=dg.AssetSelection.assets(*POOL_ASSETS),
    description="Re-cluster the whole pool, re-sample and re-export the fine-tuning dataset.",
)

daily_curation_schedule = dg.build_schedule_from_partitioned_job(
    daily_curation_job, hour_of_day=2, minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

pool_refresh_schedule = dg.ScheduleDefinition(
    job=pool_refresh_job, cron_schedule="0 4 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

jobs = [daily_curation_job, pool_refresh_job]
schedules = [daily_curation_schedule, pool_refresh_schedule]
