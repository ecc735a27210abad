"""Alerts about asset check results: state transitions, message text, and delivery (file, webhook)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

SEVERITY_RANK = {"WARN": 1, "ERROR": 2}


@dataclass
class Alert:
    status: str  # "failed" | "recovered"
    asset: str
    check: str
    partition: str | None
    severity: str
    run_id: str
    run_url: str
    metadata: dict[str, str] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def key(self) -> str:
        return alert_key(self.asset, self.check, self.partition)

    def text(self) -> str:
        where = f"{self.asset} [{self.partition}]" if self.partition else self.asset
        if self.status == "recovered":
            head = f":white_check_mark: Check `{self.check}` on {where} passes again"
        else:
            head = f":rotating_light: {self.severity} check `{self.check}` failed on {where}"
        details = "\n".join(f"• {k}: {v}" for k, v in self.metadata.items())
        return f"{head}\n{details}\nRun: {self.run_url}".replace("\n\n", "\n")

    def payload(self) -> dict:
        return {**asdict(self), "text": self.text()}


def alert_key(asset: str, check: str, partition: str | None) -> str:
    return f"{asset}/{check}/{partition or '-'}"


def transition(failing: dict[str, str], key: str, passed: bool, severity: str, min_severity: str,
               announce_recovery: bool) -> str | None:
    """Update `failing` (key -> run id of the first failure) and say what to announce, if anything.

    A check that keeps failing is announced once; it is announced again only after it passed in between.
    """
    if not passed:
        if SEVERITY_RANK.get(severity, 2) < SEVERITY_RANK.get(min_severity, 1) or key in failing:
            return None
        failing[key] = "failing"
        return "failed"
    if key in failing:
        del failing[key]
        return "recovered" if announce_recovery else None
    return None


def append_to_log(path: str | Path, alert: Alert, deliveries: dict[str, str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({**alert.payload(), "deliveries": deliveries}, ensure_ascii=False) + "\n")


def post_json(url: str, payload: dict, timeout: float = 10.0) -> int:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "curation-dagster-alerts"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - URL is operator config
        return resp.status
