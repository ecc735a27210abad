"""The drift sensor requests one refit, with its reason, when new rows stop fitting the topic model."""

import dagster as dg

from curation_dagster.defs.automation import topic_model_drift
from curation_dagster.definitions import defs


def materialize_assignment(instance, share: float, version: str):
    @dg.asset(name="generation_clusters")
    def stand_in():
        return dg.MaterializeResult(metadata={"new_rows_outlier_share": share, "refit_threshold": 0.2,
                                              "model_version": version})

    assert dg.materialize([stand_in], instance=instance).success


def evaluate(instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs) as ctx:
        result = topic_model_drift.evaluate_tick(ctx)
        return result, ctx.cursor


def test_refit_requested_once_per_model_version_with_reason():
    instance = dg.DagsterInstance.ephemeral()
    materialize_assignment(instance, 0.05, "v1")
    result, cursor = evaluate(instance)
    assert not result.run_requests and "5%" in result.skip_message

    materialize_assignment(instance, 0.45, "v1")
    result, cursor = evaluate(instance, cursor)
    (request,) = result.run_requests
    assert request.run_key == "refit-after-v1"
    assert request.tags["curation/refit_reason"].startswith("drift: 45% of new rows are outliers")
    assert result.run_requests[0].job_name in (None, "topic_model_job")
