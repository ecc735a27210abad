"""The production topology's processes run a partition and a scheduled run, with storage in PostgreSQL.

The stack (conftest.py) is PostgreSQL + `dagster api grpc` + `dagster-webserver` + `dagster-daemon`,
configured by deploy/dagster.yaml and a copy of deploy/workspace.yaml pointing at 127.0.0.1.
"""

import json
import re
import time

import duckdb
import pytest


from .conftest import PARTITION, SCHEDULE, LOCATION, REPOSITORY

pytestmark = pytest.mark.slow

SCHEDULE_TIMEOUT_S = 150


def _event_types(stack, run_id: str) -> list[str]:
    with stack.pg() as con, con.cursor() as cur:
        cur.execute("SELECT dagster_event_type FROM event_logs WHERE run_id = %s AND dagster_event_type IS NOT NULL "
                    "ORDER BY id", (run_id,))
        return [r[0] for r in cur.fetchall()]


def test_partition_run_is_queued_then_run_by_the_daemon(stack, partition_run):
    run_id = partition_run["run_id"]
    assert partition_run["status"] == "SUCCESS", f"{partition_run}\n{stack.logs_text()}"
    # The QueuedRunCoordinator put it in the queue; launching it was left to the daemon.
    assert partition_run["submitted_status"] == "QUEUED", partition_run
    types = _event_types(stack, run_id)
    lifecycle = ["PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START", "PIPELINE_SUCCESS"]
    assert all(t in types for t in lifecycle), types
    assert [types.index(t) for t in lifecycle] == sorted(types.index(t) for t in lifecycle), types
    # The webserver only enqueued it (launchRun answered QUEUED); the daemon's run queue launched it
    # (the only run in the queue then).
    daemon_log = next(p.log for p in stack.processes if p.name == "daemon").read_text(errors="replace")
    launched = sum(int(n) for n in re.findall(r"QueuedRunCoordinatorDaemon .*Launched (\d+) runs?", daemon_log))
    assert launched >= 1, daemon_log[-3000:]

    run = stack.run(run_id)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["jobName"] == "daily_curation_job" and tags["dagster/partition"] == PARTITION

    # Each daily asset was materialized for that partition, in the run's event log in PostgreSQL.
    with stack.pg() as con, con.cursor() as cur:
        cur.execute("SELECT asset_key, partition FROM event_logs WHERE run_id = %s "
                    "AND dagster_event_type = 'ASSET_MATERIALIZATION'", (run_id,))
        materialized = {(json.loads(k)[0], p) for k, p in cur.fetchall()}
        # The pool limit of deploy/dagster.yaml (default_limit 1) was applied to the shared pool.
        cur.execute('SELECT concurrency_key, "limit" FROM concurrency_limits')
        pools = dict(cur.fetchall())
    # the daily job's four partitioned assets, as the architecture names them (not read from the code)
    daily = ["raw_generations", "filtered_generations", "rejected_generations", "generation_embeddings"]
    assert materialized == {(a, PARTITION) for a in daily}, materialized
    assert pools.get("curation_warehouse") == 1, pools

    # And the partition's rows landed in the code location's storage, all of that day.
    with duckdb.connect(str(stack.data / "warehouse.duckdb"), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM generations WHERE strftime(created_at, '%Y-%m-%d') = ?",
                               [PARTITION]).fetchone()[0]
    with duckdb.connect(str(stack.data / "pipeline.duckdb"), read_only=True) as con:
        got = con.execute("SELECT count(*), min(strftime(created_at, '%Y-%m-%d')), max(strftime(created_at, "
                          "'%Y-%m-%d')) FROM curation.raw_generations").fetchone()
    assert expected > 0 and got == (expected, PARTITION, PARTITION), (expected, got)


def test_run_and_event_storage_are_postgres(stack, partition_run):
    with stack.pg() as con, con.cursor() as cur:
        cur.execute("SELECT run_id, pipeline_name, status FROM runs")
        runs = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        cur.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", (partition_run["run_id"],))
        n_events = cur.fetchone()[0]
        cur.execute("SELECT daemon_type FROM daemon_heartbeats")
        heartbeats = {r[0] for r in cur.fetchall()}
    assert runs.get(partition_run["run_id"]) == ("daily_curation_job", "SUCCESS"), runs
    assert n_events > 20
    assert {"SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= heartbeats, heartbeats
    # Nothing fell back to the SQLite storages under DAGSTER_HOME.
    assert not [p for p in stack.home.rglob("*") if p.suffix in (".db", ".sqlite")], list(stack.home.rglob("*"))


def test_schedule_tick_launches_a_run(stack, partition_run):
    """pool_refresh_job_schedule, moved to every minute by CURATION_POOL_REFRESH_CRON, started through
    GraphQL: the daemon's scheduler ticks at the next minute and its run is queued and launched."""
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "scheduleName": SCHEDULE}
    sched = stack.graphql("""query ($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) {
        __typename ... on Schedule { cronSchedule scheduleState { id status } } } }""", {"s": selector})
    sched = sched["scheduleOrError"]
    assert sched["cronSchedule"] == "* * * * *", sched  # the env override reached the code location
    assert sched["scheduleState"]["status"] == "STOPPED", sched  # schedules ship stopped

    started = stack.graphql("""mutation ($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) {
        __typename ... on ScheduleStateResult { scheduleState { id status } } ... on PythonError { message } } }""",
                            {"s": selector})["startSchedule"]
    assert started["__typename"] == "ScheduleStateResult" and started["scheduleState"]["status"] == "RUNNING", started
    t0 = time.monotonic()
    try:
        runs = stack.wait_for(f"a run of {SCHEDULE}", lambda: stack.runs_with_tag("dagster/schedule_name", SCHEDULE),
                              timeout=SCHEDULE_TIMEOUT_S, interval=2)
    finally:  # one tick is enough: stop it so no run per minute piles up
        stopped = stack.graphql("""mutation ($id: String) { stopRunningSchedule(id: $id) {
            __typename ... on ScheduleStateResult { scheduleState { status } } } }""",
                                {"id": started["scheduleState"]["id"]})["stopRunningSchedule"]
    print(f"\n[topology] {SCHEDULE} launched run {runs[0]['runId']} ({runs[0]['status']}) "
          f"{time.monotonic() - t0:.1f}s after it was started")
    assert stopped["scheduleState"]["status"] == "STOPPED", stopped
    run = runs[0]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["jobName"] == "pool_refresh_job" and tags["curation/stage"] == "pool", run
    assert run["runId"] != partition_run["run_id"]

    # The scheduler records the tick as a success naming that run, in PostgreSQL (the tick is
    # finalised just after the run is submitted, so give it a moment).
    def tick_succeeded():
        with stack.pg() as con, con.cursor() as cur:
            cur.execute("SELECT status, tick_body FROM job_ticks WHERE type = 'SCHEDULE'")
            return any(status == "SUCCESS" and run["runId"] in body for status, body in cur.fetchall())

    stack.wait_for(f"a successful {SCHEDULE} tick naming run {run['runId']}", tick_succeeded, timeout=60)

    # Let the run reach a terminal state so the teardown does not kill a run worker mid-step (it may
    # fail: no topic model has been fit in this small stack; the tick and the launch are the point).
    final = stack.wait_for("the scheduled run to finish",
                           lambda: stack.run(run["runId"])["status"] in ("SUCCESS", "FAILURE", "CANCELED")
                           and stack.run(run["runId"])["status"], timeout=180, interval=2)
    print(f"[topology] scheduled run {run['runId']} ended {final}")
