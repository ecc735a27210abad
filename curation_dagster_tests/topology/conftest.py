"""The docker-compose topology's processes, started for real without containers.

One package-scoped stack serves every test here: a fresh PostgreSQL database (the instance storage
of deploy/dagster.yaml), `dagster api grpc` serving the code location (compose service `user_code`),
`dagster-webserver` and `dagster-daemon run`, both loading the code location from that gRPC server
through a workspace file that mirrors deploy/workspace.yaml. Every process runs in its own session
and is stopped by process group (Dagster processes, and the run workers they spawn, outlive a
plain SIGTERM to the parent).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("CURATION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

START_DATE = "2026-11-01"
DAYS = 3
ROWS = 240
PARTITION = "2026-11-02"
LOCATION = "curation_dagster"
REPOSITORY = "__repository__"
SCHEDULE = "pool_refresh_job_schedule"

LOG_ARTIFACTS = ROOT / "test-artifacts" / "topology"

STARTUP_TIMEOUT_S = 180
RUN_TIMEOUT_S = 300

# The webserver reports these daemons; the run queue and the scheduler are what the tests rely on.
REQUIRED_DAEMONS = {"SCHEDULER", "SENSOR", "BACKFILL", "QUEUED_RUN_COORDINATOR"}


#: Runs after the package's other tests: its run (pool_refresh_job, with no topic model fit in this
#: small stack) fails, and the browser test should photograph the catalog as the partition run left it.
LAST_TEST = "test_schedule_tick_launches_a_run"


def pytest_collection_modifyitems(session, config, items):
    here = Path(__file__).parent
    ours = [i for i, item in enumerate(items) if Path(str(item.path)).parent == here]
    last = [items[i] for i in ours if items[i].name == LAST_TEST]
    if not last or ours[-1] == items.index(last[0]):
        return
    items.remove(last[0])
    items.insert(ours[-1], last[0])  # the package's tests stay contiguous (one stack)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except FileNotFoundError:
        return "(no log)"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class Stack:
    home: Path
    data: Path
    logs: Path
    db_url: str
    db_name: str
    grpc_port: int
    web_port: int
    env: dict
    processes: list[Process] = field(default_factory=list)
    partition_run: dict | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def logs_text(self) -> str:
        return "\n".join(f"----- {p.name} (pid {p.popen.pid}, exit {p.popen.poll()}) -----\n{tail(p.log)}"
                         for p in self.processes)

    def check_alive(self) -> None:
        dead = [p.name for p in self.processes if p.popen.poll() is not None]
        if dead:
            pytest.fail(f"{', '.join(dead)} exited early\n{self.logs_text()}")

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.base_url}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def wait_for(self, what: str, probe, timeout: float = STARTUP_TIMEOUT_S, interval: float = 1.0):
        """Call `probe` until it returns something truthy; fail with every process log otherwise."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                result = probe()
                if result:
                    return result
                last = result
            except Exception as exc:  # noqa: BLE001 - the process may not be listening yet
                last = repr(exc)
            time.sleep(interval)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last})\n{self.logs_text()}")

    def run(self, run_id: str) -> dict:
        data = self.graphql("""
            query ($runId: ID!) { runOrError(runId: $runId) {
              __typename ... on Run { runId status jobName tags { key value } } } }""", {"runId": run_id})
        return data["runOrError"]

    def runs_with_tag(self, key: str, value: str) -> list[dict]:
        data = self.graphql("""
            query ($key: String!, $value: String!) {
              runsOrError(filter: {tags: [{key: $key, value: $value}]}) {
                __typename ... on Runs { results { runId status jobName tags { key value } } } } }""",
                            {"key": key, "value": value})
        return data["runsOrError"]["results"]

    def pg(self):
        import psycopg2

        return psycopg2.connect(self.db_url)


def _db_urls() -> tuple[str, str, dict]:
    """(admin URL, name of a fresh database, its URL and DAGSTER_POSTGRES_* values)."""
    parts = urlsplit(PG_URL)
    name = f"curation_topology_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    db_url = urlunsplit(parts._replace(path=f"/{name}"))
    env = {
        "DAGSTER_POSTGRES_USER": unquote(parts.username or "postgres"),
        "DAGSTER_POSTGRES_PASSWORD": unquote(parts.password or ""),
        "DAGSTER_POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(parts.port or 5432),
        "DAGSTER_POSTGRES_DB": name,
    }
    return name, db_url, env


def _admin(sql: str) -> None:
    import psycopg2

    try:
        con = psycopg2.connect(PG_URL, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} ({exc}); run scripts/install-system-deps.sh "
                    "or set CURATION_TEST_POSTGRES_URL")
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


def _start(stack: Stack, name: str, args: list[str], cwd: Path) -> Process:
    log = stack.logs / f"{name}.log"
    fh = open(log, "wb")  # noqa: SIM115 - closed with the process
    popen = subprocess.Popen(args, cwd=cwd, env=stack.env, stdout=fh, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    fh.close()
    proc = Process(name, popen, log)
    stack.processes.append(proc)
    return proc


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: Process, grace_s: float = 20) -> None:
    """SIGTERM to the whole process group (the server and the run workers it spawned), then SIGKILL
    to whatever is left after a bounded wait."""
    pgid = proc.popen.pid  # start_new_session: the leader's pid is the group id
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10)):
        proc.popen.poll()  # reap the leader so a zombie does not count as alive
        if not _group_alive(pgid):
            break
        os.killpg(pgid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            proc.popen.poll()
            if not _group_alive(pgid):
                break
            time.sleep(0.2)
    proc.popen.poll()


def _seed(data: Path) -> int:
    from curation_dagster.lib.warehouse import write_generations
    from curation_dagster.sample_data import generate_sample_data

    gens, labels = generate_sample_data(n_rows=ROWS, days=DAYS, start_date=START_DATE, seed=11)
    return write_generations(data / "warehouse.duckdb", gens, labels)


def _workspace(path: Path, grpc_port: int) -> Path:
    """deploy/workspace.yaml with the gRPC server at 127.0.0.1:grpc_port instead of user_code:4000."""
    ws = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    entries = ws["load_from"]
    assert len(entries) == 1 and set(entries[0]) == {"grpc_server"}, entries
    server = entries[0]["grpc_server"]
    assert (server["host"], server["port"], server["location_name"]) == ("user_code", 4000, LOCATION), server
    server.update(host="127.0.0.1", port=grpc_port)
    path.write_text(yaml.safe_dump(ws))
    return path


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    base = tmp_path_factory.mktemp("topology")
    home, data, logs, work = (base / d for d in ("dagster_home", "data", "logs", "work"))
    for d in (home, data, logs, work):
        d.mkdir()
    # The production instance config, as the images copy it into $DAGSTER_HOME.
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())
    rows = _seed(data)
    assert rows == ROWS

    db_name, db_url, pg_env = _db_urls()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CURATION_", "SNOWFLAKE_", "DAGSTER_")) and k != "SLACK_BOT_TOKEN"}
    grpc_port, web_port = free_port(), free_port()
    env.update(pg_env, DAGSTER_HOME=str(home), DAGSTER_DEPLOYMENT="local", CURATION_DATA_DIR=str(data),
               CURATION_START_DATE=START_DATE, CURATION_UI_BASE_URL=f"http://127.0.0.1:{web_port}",
               # The scheduler test turns this schedule on; every minute so a tick comes soon.
               CURATION_POOL_REFRESH_CRON="* * * * *",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONUNBUFFERED="1")
    stack = Stack(home=home, data=data, logs=logs, db_url=db_url, db_name=db_name, grpc_port=grpc_port,
                  web_port=web_port, env=env)

    _admin(f'CREATE DATABASE "{db_name}"')
    try:
        workspace = _workspace(base / "workspace.yaml", grpc_port)
        t0 = time.monotonic()
        # Compose: user_code runs `dagster api grpc -h 0.0.0.0 -p 4000 -m curation_dagster.definitions`.
        _start(stack, "user_code", [str(BIN / "dagster"), "api", "grpc", "-h", "127.0.0.1", "-p", str(grpc_port),
                                    "-m", "curation_dagster.definitions"], cwd=work)
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(port=grpc_port, host="127.0.0.1")
        stack.wait_for("the gRPC code server", lambda: client.ping("ready") is not None)
        grpc_ready = time.monotonic() - t0
        _start(stack, "webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port),
                                    "-w", str(workspace)], cwd=work)
        _start(stack, "daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], cwd=work)

        def location_loaded():
            entries = stack.graphql("""{ workspaceOrError { __typename ... on Workspace { locationEntries {
                name locationOrLoadError { __typename ... on PythonError { message } } } } } }""")
            loc = {e["name"]: e["locationOrLoadError"] for e in entries["workspaceOrError"]["locationEntries"]}
            if loc.get(LOCATION, {}).get("__typename") == "PythonError":
                pytest.fail(f"code location failed to load: {loc[LOCATION]['message']}\n{stack.logs_text()}")
            return loc.get(LOCATION, {}).get("__typename") == "RepositoryLocation"

        stack.wait_for("the webserver to load the code location over gRPC", location_loaded)

        def daemons_healthy():
            statuses = stack.graphql("""{ instance { daemonHealth { allDaemonStatuses {
                daemonType healthy required } } } }""")["instance"]["daemonHealth"]["allDaemonStatuses"]
            healthy = {s["daemonType"] for s in statuses if s["healthy"]}
            return REQUIRED_DAEMONS <= healthy

        stack.wait_for("the daemon's heartbeats", daemons_healthy)
        print(f"\n[topology] gRPC server ready in {grpc_ready:.1f}s, whole stack in {time.monotonic() - t0:.1f}s "
              f"(webserver {stack.base_url}, db {db_name}, logs {logs})")
        yield stack
    finally:
        for proc in reversed(stack.processes):
            _stop(proc)
        _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        # Keep the process logs where CI and people look (pytest's tmp dirs are rotated).
        LOG_ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for proc in stack.processes:
            shutil.copyfile(proc.log, LOG_ARTIFACTS / proc.log.name)


def launch_partition_run(stack: Stack, job: str, partition: str) -> tuple[str, str]:
    """launchRun through the webserver, tagged with the partition as the UI's launchpad does."""
    data = stack.graphql("""
        mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) {
          __typename
          ... on LaunchRunSuccess { run { runId status } }
          ... on PythonError { message stack }
          ... on RunConfigValidationInvalid { errors { message } }
          ... on InvalidSubsetError { message }
          ... on PipelineNotFoundError { message }
        } }""", {"params": {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }})["launchRun"]
    assert data["__typename"] == "LaunchRunSuccess", data
    return data["run"]["runId"], data["run"]["status"]


@pytest.fixture(scope="package")
def partition_run(stack):
    """One partition of daily_curation_job, submitted through GraphQL and run by the daemon.

    Returns the run id, the status launchRun answered, every status seen while polling, and the
    final status (the tests assert on them; a failing run is reported with the logs, not raised here).
    """
    t0 = time.monotonic()
    run_id, submitted_status = launch_partition_run(stack, "daily_curation_job", PARTITION)
    seen = [submitted_status]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = submitted_status
    while time.monotonic() < deadline:
        stack.check_alive()
        status = stack.run(run_id)["status"]
        if status != seen[-1]:
            seen.append(status)
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    info = {"run_id": run_id, "partition": PARTITION, "submitted_status": submitted_status, "seen": seen,
            "status": status, "seconds": time.monotonic() - t0}
    print(f"\n[topology] run {run_id} for {PARTITION}: {' -> '.join(seen)} in {info['seconds']:.1f}s")
    stack.partition_run = info
    return info
