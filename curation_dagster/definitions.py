import dagster as dg

from curation_dagster.defs.alerts import check_failure_alerts
from curation_dagster.defs.automation import STEP_EXECUTOR, jobs, schedules, sensors
from curation_dagster.defs.clustering.assets import cluster_generations, topic_model
from curation_dagster.defs.dedup.assets import deduplicate_generations
from curation_dagster.defs.embedding.assets import generation_embeddings
from curation_dagster.defs.experiments.assets import clustering_experiments
from curation_dagster.defs.export.assets import finetuning_dataset
from curation_dagster.defs.export.checks import finetuning_dataset_valid
from curation_dagster.defs.filtering.assets import filter_generations
from curation_dagster.defs.ingest.assets import generations_source, raw_generations
from curation_dagster.defs.report.assets import dataset_report
from curation_dagster.defs.ingest.checks import source_table_matches_contract
from curation_dagster.defs.resources import build_resources
from curation_dagster.defs.review.assets import (cluster_review_queue, decide_reviews, pull_review_annotations,
                                                  review_imports, review_queue)
from curation_dagster.defs.review.sensors import human_review_refilter, label_studio_annotations, review_sync_job
from curation_dagster.defs.sampling.assets import sampled_examples


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """The code location; tests pass resources pointing at a temp folder."""
    return dg.Definitions(
        assets=[generations_source, raw_generations, filter_generations, generation_embeddings,
                deduplicate_generations, topic_model, cluster_generations, sampled_examples, finetuning_dataset, dataset_report,
                clustering_experiments,
                review_queue, cluster_review_queue, review_imports, pull_review_annotations, decide_reviews],
        asset_checks=[source_table_matches_contract, finetuning_dataset_valid],
        jobs=[*jobs, review_sync_job],
        schedules=schedules,
        sensors=[check_failure_alerts, *sensors, label_studio_annotations, human_review_refilter],
        resources=resources if resources is not None else build_resources(),
        executor=STEP_EXECUTOR,
    )


defs = build_definitions()
