import dagster as dg

from curation_dagster.defs.alerts import check_failure_alerts
from curation_dagster.defs.automation import STEP_EXECUTOR, build_schedules, jobs, sensors
from curation_dagster.defs.clustering.assets import cluster_generations, topic_model
from curation_dagster.defs.dedup.assets import deduplicate_generations
from curation_dagster.defs.deployment import Deployment
from curation_dagster.defs.documents.assets import doc_qa_pairs, document_chunks
from curation_dagster.defs.variants.assets import example_variants
from curation_dagster.defs.embedding.assets import generation_embeddings
from curation_dagster.defs.experiments.assets import clustering_experiments
from curation_dagster.defs.export.assets import finetuning_dataset
from curation_dagster.defs.export.checks import finetuning_dataset_valid
from curation_dagster.defs.filtering.assets import filter_generations
from curation_dagster.defs.ingest.assets import generations_source, raw_generations
from curation_dagster.defs.report.assets import dataset_report
from curation_dagster.defs.ingest.checks import source_table_matches_contract
from curation_dagster.defs.judge.assets import judged_examples, offline_judge
from curation_dagster.defs.llm import with_llm_key
from curation_dagster.defs.resources import build_resources
from curation_dagster.defs.review.assets import (cluster_review_queue, decide_reviews, pull_review_annotations,
                                                  review_imports, review_queue)
from curation_dagster.defs.review.sensors import build_label_studio_sensor, human_review_refilter, review_sync_job
from curation_dagster.defs.sampling.assets import sampled_examples


def build_definitions(resources: dict | None = None, deployment: Deployment | None = None) -> dg.Definitions:
    """The code location for `deployment` (default: the one the environment describes, read now, not
    at import); tests pass resources pointing at a temp folder, the CLI the start date of its days."""
    deployment = deployment or Deployment.from_env()
    assets = [generations_source, raw_generations, filter_generations, generation_embeddings,
              deduplicate_generations, topic_model, cluster_generations, offline_judge, sampled_examples,
              judged_examples, finetuning_dataset,
              dataset_report, clustering_experiments,
              review_queue, cluster_review_queue, review_imports, pull_review_annotations, decide_reviews,
              document_chunks, doc_qa_pairs, example_variants]
    return dg.Definitions(
        assets=dg.map_asset_specs(deployment.place, assets),
        asset_checks=[source_table_matches_contract, finetuning_dataset_valid],
        jobs=[*jobs, review_sync_job],
        schedules=build_schedules(deployment),
        sensors=[check_failure_alerts, *sensors, build_label_studio_sensor(deployment.review_poll_seconds),
                 human_review_refilter],
        resources=with_llm_key(resources) if resources is not None else build_resources(deployment.name),
        executor=STEP_EXECUTOR,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` / the webserver and daemon load (workspace.yaml): built when they load it."""
    return build_definitions()
