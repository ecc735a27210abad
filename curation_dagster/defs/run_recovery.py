"""Runs whose process died (kill -9, OOM kill, reboot) never keep a concurrency slot.

A run executed in process (`curation run`, `curation demo`) has no daemon watching it: if its process
is killed mid-step, the run stays STARTED in the instance and keeps its slot in the
`curation_warehouse` pool (limit 1), so every later run waits on it forever. `recover_dead_runs` is
called before the CLI starts its runs; it marks dead runs FAILURE (an engine event says why) and frees
their slots and queued steps.

How a run is judged dead:
- The CLI tags each run with its process: `curation/pid`, `curation/host` and, on Linux,
  `curation/process` (boot id + the process's start time in clock ticks, so a pid reused by another
  process, or reused after a reboot, is not mistaken for the run's). A run tagged on this host is
  dead when that pid is gone or now belongs to another process; this is exact, with no timeout.
- A run without those tags (launched from the UI, a schedule or an older CLI) or tagged on another
  host cannot be checked from here: it is presumed dead only when it started longer ago than the
  instance's `run_monitoring.max_runtime_seconds` (the same limit after which the daemon cancels a
  run; 6 hours if unset). Under `dagster dev` or the production daemon, run monitoring handles those.
- Runs that already ended but still hold a slot or a queued step (the daemon frees them after
  `free_slots_after_run_end_seconds`; without a daemon nobody would) are freed as well.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.events import JobFailureData, RunFailureReason  # not re-exported by `dagster`

PID_TAG = "curation/pid"
HOST_TAG = "curation/host"
PROCESS_TAG = "curation/process"
#: Presumed-dead age of a run whose process cannot be checked, when the instance sets no
#: run_monitoring.max_runtime_seconds.
DEFAULT_UNCHECKABLE_TIMEOUT_S = 6 * 3600
ACTIVE_STATUSES = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                   dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class Recovery:
    run_id: str
    job_name: str
    reason: str  # why it was judged dead, or that it had ended but still held slots
    marked_failed: bool
    freed: tuple[str, ...]  # "pool:step" of each slot or queued step released

    def describe(self) -> str:
        what = "marked FAILURE" if self.marked_failed else "already ended"
        slots = f"freed {', '.join(self.freed)}" if self.freed else "held no slot"
        return f"run {self.run_id} ({self.job_name}): {self.reason}; {what}, {slots}"


def _process_identity(pid: int | str = "self") -> str | None:
    """boot id + start time (clock ticks since boot) of a process: unique per process on Linux."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, starttime
    except (OSError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def launch_tags() -> dict[str, str]:
    """Tags that let a later `recover_dead_runs` tell whether this process is still alive."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    identity = _process_identity()
    if identity:
        tags[PROCESS_TAG] = identity
    return tags


def death_reason(record: dg.RunRecord, timeout_s: float, now: float | None = None,
                 host: str | None = None) -> str | None:
    """Why the run of an unfinished record is dead, or None while it may still be running."""
    tags = record.dagster_run.tags
    host = host or socket.gethostname()
    if tags.get(PID_TAG, "").isdigit() and tags.get(HOST_TAG) == host:
        pid = int(tags[PID_TAG])
        if not _pid_alive(pid):
            return f"run died: process {pid} is gone"
        recorded, current = tags.get(PROCESS_TAG), _process_identity(pid)
        if recorded and current and recorded != current:
            return f"run died: process {pid} is gone (that pid now belongs to another process)"
        return None
    started = record.start_time or record.create_timestamp.timestamp()
    age = (now or time.time()) - started
    if age <= timeout_s:
        return None
    where = (f"process {tags[PID_TAG]} on host {tags.get(HOST_TAG)} cannot be checked from {host}"
             if PID_TAG in tags else "no process recorded (no curation/pid tag)")
    return f"run died: {where} and it started {age / 3600:.1f} h ago, over the {int(timeout_s)} s limit"


def _free(instance: dg.DagsterInstance, run_id: str, holders: dict[str, list[str]]) -> tuple[str, ...]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return ()
    storage.free_concurrency_slots_for_run(run_id)  # claimed slots and queued (pending) steps
    return tuple(holders.get(run_id, ()))


def _slot_holders(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """run id -> "pool:step (slot|queued)" for every claimed slot and pending step."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    holders: dict[str, list[str]] = {}
    for key, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        claimed = {(s.run_id, s.step_key) for s in info.claimed_slots}
        for run_id, step in sorted(claimed):
            holders.setdefault(run_id, []).append(f"{key}:{step} (slot)")
        for p in info.pending_steps:
            if (p.run_id, p.step_key) not in claimed:
                holders.setdefault(p.run_id, []).append(f"{key}:{p.step_key} (queued)")
    for run_id in storage.get_concurrency_run_ids() - set(holders):  # queued in a pool with no limit row
        holders[run_id] = ["queued step(s)"]
    return holders


def recover_dead_runs(instance: dg.DagsterInstance, log: Callable[[str], object] | None = None,
                      timeout_s: float | None = None) -> list[Recovery]:
    """Mark unfinished runs whose process is gone FAILURE and free every slot a dead or ended run holds.

    `timeout_s`: age after which a run whose process cannot be checked is presumed dead (default: the
    instance's run_monitoring.max_runtime_seconds, else 6 hours). Returns what was cleaned up and
    passes each line to `log`.
    """
    timeout_s = timeout_s or instance.run_monitoring_max_runtime_seconds or DEFAULT_UNCHECKABLE_TIMEOUT_S
    holders = _slot_holders(instance)
    done: list[Recovery] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=ACTIVE_STATUSES)):
        run = record.dagster_run
        reason = death_reason(record, timeout_s)
        if reason is None:
            continue
        instance.report_engine_event(reason, run)
        instance.report_run_failed(run, reason, JobFailureData(
            error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION))
        done.append(Recovery(run.run_id, run.job_name, reason, True, _free(instance, run.run_id, holders)))
    recovered = {r.run_id for r in done}
    for run_id in sorted(set(holders) - recovered):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            status = run.status.value if run else "deleted"
            freed = _free(instance, run_id, holders)
            done.append(Recovery(run_id, run.job_name if run else "?", f"run ended ({status}) but still held slots",
                                 False, freed))
    for r in done:
        if log:
            log(f"  recovered {r.describe()}")
    return done
