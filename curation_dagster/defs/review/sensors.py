"""Pulls reviewers' answers from Label Studio when there are new ones."""

import dagster as dg

from curation_dagster.defs.review.resources import LabelStudioResource

REVIEW_ASSETS = ["review_annotations", "cluster_annotations", "review_decisions", "cluster_decisions"]

review_sync_job = dg.define_asset_job(
    "review_sync_job",
    selection=dg.AssetSelection.assets(*REVIEW_ASSETS),
    description="Pull reviewers' answers (Label Studio projects and imported spreadsheets) and decide each "
                "reviewed example and cluster. The next pool refresh applies the decisions to the dataset.",
)


def label_studio_annotations_poll(context: dg.SensorEvaluationContext, label_studio: LabelStudioResource):
    if not label_studio.configured:
        return dg.SkipReason("Label Studio is not configured (LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY)")
    mark = label_studio.annotation_watermark()
    if mark == context.cursor:
        return dg.SkipReason(f"no new annotations ({mark.split('|')[0]} in all)")
    context.update_cursor(mark)
    return dg.RunRequest(run_key=f"annotations-{mark}", tags={"curation/review_watermark": mark})


def build_label_studio_sensor(poll_seconds: int) -> dg.SensorDefinition:
    """The annotation sensor, polling every `poll_seconds` (CURATION_REVIEW_POLL_SECONDS, read when the
    definitions are built)."""
    return dg.sensor(
        job=review_sync_job, name="label_studio_annotations", minimum_interval_seconds=int(poll_seconds),
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Polls the pipeline's Label Studio projects; requests review_sync_job only when an "
                    "annotation was added, changed or removed since the last tick (cursor: count and latest "
                    "update of every annotation).")(label_studio_annotations_poll)


def refilter_requests(metadata: dict, partition_keys: set[str]) -> list[dg.RunRequest]:
    """One daily_curation_job run per day holding examples reviewers rejected, so they move to
    rejected_generations (rule human_review); keyed by the set of rejections, so a day is re-filtered
    once per change, however many ticks see it. Days outside the partitions are ignored."""
    days = [d for d in str(metadata.get("rejected_days") or "").split(",") if d in partition_keys]
    mark = metadata.get("rejected_fingerprint") or "none"
    return [dg.RunRequest(run_key=f"human-review-{day}-{mark}", partition_key=day,
                          tags={"curation/reason": "human_review rejections"}) for day in days]


@dg.asset_sensor(asset_key=dg.AssetKey("review_decisions"), job_name="daily_curation_job",
                 name="human_review_refilter", minimum_interval_seconds=60,
                 default_status=dg.DefaultSensorStatus.STOPPED,
                 description="When review_decisions has new rejections, re-materializes the days they came from "
                             "(daily_curation_job), so the rows leave the pool as human_review rejections; the next "
                             "pool refresh ships the dataset without them.")
def human_review_refilter(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    mat = asset_event.asset_materialization
    md = {k: getattr(v, "value", v) for k, v in (mat.metadata if mat else {}).items()}
    # the code location's own days (its deployment's start date), as the daily job partitions them
    days = context.repository_def.get_job("daily_curation_job").partitions_def.get_partition_keys()
    requests = refilter_requests(md, set(days))
    return requests or dg.SkipReason("no rejected examples with a known source day")
