"""Pulls reviewers' answers from Label Studio when there are new ones."""

import os

import dagster as dg

from curation_dagster.defs.review.resources import LabelStudioResource

REVIEW_ASSETS = ["review_annotations", "cluster_annotations", "review_decisions", "cluster_decisions"]

review_sync_job = dg.define_asset_job(
    "review_sync_job",
    selection=dg.AssetSelection.assets(*REVIEW_ASSETS),
    description="Pull reviewers' answers (Label Studio projects and imported spreadsheets) and decide each "
                "reviewed example and cluster. The next pool refresh applies the decisions to the dataset.",
)


@dg.sensor(job=review_sync_job, name="label_studio_annotations",
           minimum_interval_seconds=int(os.environ.get("CURATION_REVIEW_POLL_SECONDS") or 60),
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="Polls the pipeline's Label Studio projects; requests review_sync_job only when an "
                       "annotation was added, changed or removed since the last tick (cursor: count and latest "
                       "update of every annotation).")
def label_studio_annotations(context: dg.SensorEvaluationContext, label_studio: LabelStudioResource):
    if not label_studio.configured:
        return dg.SkipReason("Label Studio is not configured (LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY)")
    mark = label_studio.annotation_watermark()
    if mark == context.cursor:
        return dg.SkipReason(f"no new annotations ({mark.split('|')[0]} in all)")
    context.update_cursor(mark)
    return dg.RunRequest(run_key=f"annotations-{mark}", tags={"curation/review_watermark": mark})
