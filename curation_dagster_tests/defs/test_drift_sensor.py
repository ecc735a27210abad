"""The drift sensor requests one refit, with its reason, when new rows stop fitting the topic model.

"Once per model version" is the run key: the daemon launches a run key once, so every later tick
that sees the same model drifting must ask with the same key, and a refit model with a new one."""

import dagster as dg

from curation_dagster.defs.automation import topic_model_drift
from curation_dagster.definitions import build_definitions


def materialize_assignment(instance, share: float, version: str):
    @dg.asset(name="generation_clusters")
    def stand_in():
        return dg.MaterializeResult(metadata={"new_rows_outlier_share": share, "refit_threshold": 0.2,
                                              "model_version": version})

    assert dg.materialize([stand_in], instance=instance).success


def evaluate(instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=build_definitions()) as ctx:
        result = topic_model_drift.evaluate_tick(ctx)
        return result, ctx.cursor


def test_refit_requested_with_one_run_key_per_model_version_and_a_reason():
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

    # A later day, the same model still drifting: the same key, so the daemon does not refit twice.
    materialize_assignment(instance, 0.5, "v1")
    result, cursor = evaluate(instance, cursor)
    assert [r.run_key for r in result.run_requests] == ["refit-after-v1"]

    # After the refit (model v2) drift is judged afresh: fitting rows skip, drifting rows get a new key.
    materialize_assignment(instance, 0.1, "v2")
    result, cursor = evaluate(instance, cursor)
    assert not result.run_requests and "v2" in result.skip_message
    materialize_assignment(instance, 0.3, "v2")
    result, cursor = evaluate(instance, cursor)
    assert [r.run_key for r in result.run_requests] == ["refit-after-v2"]
    assert "30% of new rows" in result.run_requests[0].tags["curation/refit_reason"]
