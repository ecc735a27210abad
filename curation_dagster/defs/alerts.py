"""Alert the data team when an asset check fails.

A failed WARN check does not fail its run, so run-failure sensors never see it. This sensor reads
asset check evaluation events from the instance's event log with a cursor, and announces each new
failure once (and, optionally, its recovery) through every configured channel: the append-only
alerts log (always), a JSON webhook, and Slack.
"""

import json
from typing import Optional

import dagster as dg
from dagster_slack import SlackResource
from pydantic import Field

from curation_dagster.lib.alerts import Alert, alert_key, append_to_log, post_json, transition

#: metadata keys worth putting in an alert, in this order, when a check reports them
KEY_METADATA = ("failed_expectations", "rows", "rows_in", "rows_kept", "rows_rejected", "rules_over_bound",
                "rejection_share", "outlier_share", "largest_cluster", "largest_share", "general_share",
                "target", "threshold", "kept_rows_without_vector", "examples", "target_examples", "daily_rate",
                "projected_date", "target_date", "missing_columns", "error")


class AlertChannels(dg.ConfigurableResource):
    """Where check alerts go. Set CURATION_ALERT_WEBHOOK_URL, or SLACK_BOT_TOKEN and
    CURATION_ALERT_SLACK_CHANNEL, to add those channels to the always-on log file."""

    log_path: str = Field(description="Append-only JSONL file of every alert sent.")
    webhook_url: Optional[str] = Field(default=None, description="POST each alert as JSON here.")
    slack: Optional[SlackResource] = None
    slack_channel: Optional[str] = None
    ui_base_url: str = Field(default="http://127.0.0.1:3000", description="Dagster UI address for run links.")
    min_severity: str = Field(default="WARN", description="WARN: alert on every failure; ERROR: blocking ones only.")
    announce_recovery: bool = True

    def send(self, alert: Alert, log: dg.DagsterLogManager | None = None) -> dict[str, str]:
        deliveries: dict[str, str] = {}
        if self.webhook_url:
            try:
                deliveries["webhook"] = f"HTTP {post_json(self.webhook_url, alert.payload())}"
            except Exception as exc:  # noqa: BLE001 - a dead channel must not stop the others
                deliveries["webhook"] = f"error: {exc}"
        if self.slack and self.slack_channel:
            try:
                self.slack.get_client().chat_postMessage(channel=self.slack_channel, text=alert.text())
                deliveries["slack"] = "sent"
            except Exception as exc:  # noqa: BLE001
                deliveries["slack"] = f"error: {type(exc).__name__}"  # never echo tokens from the client error
        append_to_log(self.log_path, alert, deliveries)
        if log:
            log.info(f"alert {alert.status}: {alert.key} -> {deliveries or {'log': 'written'}}")
        return deliveries


def _partition(context: dg.SensorEvaluationContext, evaluation, run_id: str) -> Optional[str]:
    if getattr(evaluation, "partition", None):
        return evaluation.partition
    run = context.instance.get_run_by_id(run_id)
    return run.tags.get("dagster/partition") if run else None


def _key_metadata(evaluation) -> dict[str, str]:
    md = evaluation.metadata or {}
    return {k: str(getattr(md[k], "value", md[k]))[:200] for k in KEY_METADATA if k in md}


@dg.sensor(
    name="check_failure_alerts",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Announces failed (and recovered) asset checks to the data team: log file, webhook, Slack.",
)
def check_failure_alerts(context: dg.SensorEvaluationContext, alerts: AlertChannels):
    state = json.loads(context.cursor) if context.cursor else {"after": None, "failing": {}}
    try:
        records = context.instance.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=state["after"]),
            limit=500, ascending=True,
        )
    except Exception as exc:
        if "run-sharded" in str(exc):
            raise dg.DagsterInvariantViolationError(
                "check_failure_alerts needs an event log that can be read across runs: use the project's "
                "dagster.yaml (ConsolidatedSqliteEventLogStorage) locally, or Postgres in production."
            ) from exc
        raise
    sent = 0
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        run_id = record.event_log_entry.run_id
        partition = _partition(context, evaluation, run_id)
        asset = evaluation.asset_key.to_user_string()
        severity = evaluation.severity.value
        status = transition(state["failing"], alert_key(asset, evaluation.check_name, partition), evaluation.passed,
                            severity, alerts.min_severity, alerts.announce_recovery)
        if status:
            alerts.send(Alert(status=status, asset=asset, check=evaluation.check_name, partition=partition,
                              severity=severity, run_id=run_id, run_url=f"{alerts.ui_base_url.rstrip('/')}/runs/{run_id}",
                              metadata=_key_metadata(evaluation)), context.log)
            sent += 1
        state["after"] = record.storage_id
    context.update_cursor(json.dumps(state, sort_keys=True))
    return dg.SkipReason(f"{len(records)} check evaluations read, {sent} alerts sent (log: {alerts.log_path})")
