"""The alert sensor against a real instance, real check evaluations and a real HTTP receiver on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pandas as pd
import pytest
from dagster_slack import SlackResource

from curation_dagster.defs.alerts import AlertChannels, check_failure_alerts
from curation_dagster.defs.ingest.assets import raw_generations
from curation_dagster.defs.resources import DuckDBWarehouse
from curation_dagster.lib.alerts import transition
from curation_dagster.lib.warehouse import write_generations

DAY = "2026-11-02"


@pytest.fixture
def receiver():
    """An HTTP server on 127.0.0.1 that records every POST (webhook and Slack API calls)."""
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((self.path, self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            body = b'{"ok": true, "channel": "C1", "ts": "1.0"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def seed(path, duplicate_ids: bool):
    rows = pd.DataFrame({
        "generation_id": ["a", "a" if duplicate_ids else "b"],
        "created_at": pd.to_datetime([f"{DAY} 09:00", f"{DAY} 10:00"]),
        "template_id": "general", "generator_version": "1.5.0", "instruction": "Ask Bo about lunch plans",
        "identity": '{"name": "Ann"}', "input_message": None, "output": "Hi Bo, lunch on Friday?",
        "copied": True, "sent": True, "edit_ratio": 0.1, "rating": 5,
    })
    write_generations(path, rows)


def tick(instance, alerts, cursor):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alerts": alerts}) as ctx:
        result = check_failure_alerts(ctx)
        return ctx.cursor, result


def test_failed_check_gives_one_webhook_post_and_recovery(tmp_path, receiver):
    url, received = receiver
    instance = dg.DagsterInstance.ephemeral()
    wh = tmp_path / "warehouse.duckdb"
    from dagster_duckdb_pandas import DuckDBPandasIOManager

    resources = {"warehouse": DuckDBWarehouse(database=str(wh)),
                 "io_manager": DuckDBPandasIOManager(database=str(tmp_path / "p.duckdb"), schema="curation")}
    alerts = AlertChannels(log_path=str(tmp_path / "alerts.jsonl"), webhook_url=f"{url}/hook",
                           ui_base_url="http://dagster.example:3000")

    seed(wh, duplicate_ids=True)
    res = dg.materialize([raw_generations], partition_key=DAY, resources=resources, instance=instance,
                         raise_on_error=False)
    assert not res.success  # the blocking ERROR check failed

    cursor, _ = tick(instance, alerts, None)
    hooks = [json.loads(b) for p, b in received if p == "/hook"]
    assert len(hooks) == 1
    alert = hooks[0]
    assert alert["status"] == "failed" and alert["asset"] == "raw_generations"
    assert alert["check"] == "raw_matches_data_contract" and alert["partition"] == DAY
    assert alert["severity"] == "ERROR"
    assert "unique(generation_id)" in alert["metadata"]["failed_expectations"]
    assert alert["run_url"] == f"http://dagster.example:3000/runs/{res.run_id}"
    assert "raw_matches_data_contract" in alert["text"]

    cursor, _ = tick(instance, alerts, cursor)  # nothing new: no repeat
    assert len([p for p, _ in received if p == "/hook"]) == 1

    # the same failure again in a new run is still the same open incident: no new alert
    dg.materialize([raw_generations], partition_key=DAY, resources=resources, instance=instance, raise_on_error=False)
    cursor, _ = tick(instance, alerts, cursor)
    assert len([p for p, _ in received if p == "/hook"]) == 1

    seed(wh, duplicate_ids=False)
    assert dg.materialize([raw_generations], partition_key=DAY, resources=resources, instance=instance).success
    cursor, _ = tick(instance, alerts, cursor)
    hooks = [json.loads(b) for p, b in received if p == "/hook"]
    assert [h["status"] for h in hooks] == ["failed", "recovered"]
    log = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [x["status"] for x in log] == ["failed", "recovered"]
    assert log[0]["deliveries"]["webhook"] == "HTTP 200"


def test_slack_channel_posts_through_dagster_slack(tmp_path, receiver):
    url, received = receiver
    slack = SlackResource(token="xoxb-test-token")
    alerts = AlertChannels(log_path=str(tmp_path / "alerts.jsonl"), slack=slack, slack_channel="#data-quality")
    client = slack.get_client()
    client.base_url = f"{url}/api/"  # the real slack_sdk client, pointed at the local receiver
    from curation_dagster.lib.alerts import Alert

    alert = Alert(status="failed", asset="sampled_examples", check="category_mix_on_target", partition=None,
                  severity="WARN", run_id="r1", run_url="http://127.0.0.1:3000/runs/r1",
                  metadata={"general_share": "0.71"})
    original = SlackResource.get_client
    try:
        SlackResource.get_client = lambda self: client
        deliveries = alerts.send(alert)
    finally:
        SlackResource.get_client = original
    assert deliveries == {"slack": "sent"}
    (path, body), = received
    assert path == "/api/chat.postMessage"
    assert b"data-quality" in body and b"category_mix_on_target" in body


def test_transition_rules():
    failing: dict[str, str] = {}
    assert transition(failing, "k", False, "WARN", "WARN", True) == "failed"
    assert transition(failing, "k", False, "WARN", "WARN", True) is None  # still failing: no repeat
    assert transition(failing, "k", True, "WARN", "WARN", True) == "recovered"
    assert transition(failing, "k", True, "WARN", "WARN", True) is None
    assert transition(failing, "w", False, "WARN", "ERROR", True) is None  # below the minimum severity


def test_sensor_reads_a_persistent_instance_built_from_the_project_dagster_yaml(tmp_path, receiver, monkeypatch):
    """The default SQLite event log is sharded per run and cannot be read with a cursor; the project's
    dagster.yaml configures the consolidated one. Prove the sensor works on that on-disk instance."""
    from pathlib import Path

    from dagster_duckdb_pandas import DuckDBPandasIOManager

    url, received = receiver
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((Path(__file__).resolve().parents[2] / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    wh = tmp_path / "warehouse.duckdb"
    seed(wh, duplicate_ids=True)
    resources = {"warehouse": DuckDBWarehouse(database=str(wh)),
                 "io_manager": DuckDBPandasIOManager(database=str(tmp_path / "p.duckdb"), schema="curation")}
    alerts = AlertChannels(log_path=str(tmp_path / "alerts.jsonl"), webhook_url=f"{url}/hook")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage).__name__ == "ConsolidatedSqliteEventLogStorage"
        dg.materialize([raw_generations], partition_key=DAY, resources=resources, instance=instance,
                       raise_on_error=False)
        cursor, _ = tick(instance, alerts, None)
        cursor, _ = tick(instance, alerts, cursor)
    hooks = [json.loads(b) for p, b in received if p == "/hook"]
    assert [(h["status"], h["check"]) for h in hooks] == [("failed", "raw_matches_data_contract")]
