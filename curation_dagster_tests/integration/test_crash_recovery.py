"""A run killed mid-step (kill -9: an OOM kill or a reboot) never blocks the runs after it.

The slow case runs the real CLI (`curation run`) in a subprocess on a temp DAGSTER_HOME configured
by the project's dagster.yaml (pool curation_warehouse, limit 1), kills it with SIGKILL while it
holds the pool's slot in the embedding step, and runs it again: the second run marks the dead one
FAILURE, frees its slot, completes, and exports the same bytes as an uninterrupted run in a fresh
home. The fast cases check the liveness rules of curation_dagster/defs/run_recovery.py directly.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from curation_dagster.defs.partitions import WAREHOUSE_POOL
from curation_dagster.defs.run_recovery import HOST_TAG, PID_TAG, PROCESS_TAG, launch_tags, recover_dead_runs
from curation_dagster.lib.warehouse import write_generations

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = "2026-11-01", "2026-11-02"
KILL_IN_STEP = "generation_embeddings"  # a pool step that takes seconds (model load + embedding)


def make_home(tmp_path: Path, name: str, gens=None, labels=None) -> dict:
    home, data = tmp_path / name / "home", tmp_path / name / "data"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    if gens is not None:
        write_generations(data / "warehouse.duckdb", gens, labels)
    return {**os.environ, "DAGSTER_HOME": str(home), "CURATION_DATA_DIR": str(data), "CURATION_START_DATE": FIRST}


def start_cli(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "curation_dagster.cli", "run", "--from", FIRST, "--to", LAST],
                            env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen, log: Path, timeout: float = 600) -> str:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"`curation run` did not finish in {timeout:.0f}s (blocked on a slot?):\n{log.read_text()[-3000:]}")
    out = log.read_text()
    assert proc.returncode == 0, out[-3000:]
    return out


def export_hashes(env: dict) -> dict:
    export = Path(env["CURATION_DATA_DIR"]) / "exports" / "finetuning_dataset"
    files = {n: hashlib.sha256((export / n).read_bytes()).hexdigest() for n in ("train.jsonl", "validation.jsonl")}
    return {"files": files, "manifest_files": json.loads((export / "manifest.json").read_text())["files"]}


def slot_holders(instance) -> set:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return {(s.run_id, s.step_key) for s in info.claimed_slots} | {(p.run_id, p.step_key) for p in info.pending_steps}


@pytest.mark.slow
def test_killed_run_is_failed_its_slot_freed_and_the_rerun_exports_the_same_bytes(tmp_path, monkeypatch):
    from curation_dagster.sample_data import generate_sample_data

    gens, labels = generate_sample_data(n_rows=200, days=2, start_date=FIRST, seed=5)
    crashed, fresh = make_home(tmp_path, "crashed", gens, labels), make_home(tmp_path, "fresh", gens, labels)
    monkeypatch.setenv("DAGSTER_HOME", crashed["DAGSTER_HOME"])  # dagster.yaml's event log base_dir reads it
    t0 = time.monotonic()
    reference = start_cli(fresh, tmp_path / "fresh.log")  # the uninterrupted run, alongside
    victim = start_cli(crashed, tmp_path / "victim.log")

    with dg.DagsterInstance.from_config(crashed["DAGSTER_HOME"]) as instance:
        deadline = time.monotonic() + 300
        while not any(step == KILL_IN_STEP for _, step in slot_holders(instance)):
            assert victim.poll() is None, (tmp_path / "victim.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the first run never reached the embedding step"
            time.sleep(0.2)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        (dead_run_id, _), = slot_holders(instance)
        dead = instance.get_run_by_id(dead_run_id)
        # the problem: the dead run stays STARTED and keeps the pool's only slot
        assert dead.status == dg.DagsterRunStatus.STARTED and dead.tags[PID_TAG] == str(victim.pid)

    out = finish(start_cli(crashed, tmp_path / "rerun.log"), tmp_path / "rerun.log")
    assert f"recovered run {dead_run_id}" in out and f"run died: process {victim.pid} is gone" in out, out[-3000:]
    with dg.DagsterInstance.from_config(crashed["DAGSTER_HOME"]) as instance:
        dead = instance.get_run_by_id(dead_run_id)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        messages = [e.message for e in instance.all_logs(dead_run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
        assert f"run died: process {victim.pid} is gone" in messages
        others = [r for r in instance.get_runs() if r.run_id != dead_run_id]
        assert len(others) == 4 and all(r.is_success for r in others)  # 2 days + topic model + pool
        assert not slot_holders(instance)

    finish(reference, tmp_path / "fresh.log")
    assert export_hashes(crashed) == export_hashes(fresh)
    print(f"crash + recovery + reference run: {time.monotonic() - t0:.0f}s")


# Fast cases: the liveness rules on a persistent instance (the project's dagster.yaml), no model.

@pytest.fixture
def instance(tmp_path, monkeypatch):
    env = make_home(tmp_path, "rules")
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as inst:
        yield inst


@dg.op
def noop():
    pass


@dg.job
def tiny_job():
    noop()


def claim_slot(instance, run_id: str, step: str) -> None:
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)  # as a step of the pool does first
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, step).is_claimed


def make_run(instance, tags: dict) -> str:
    return instance.create_run_for_job(tiny_job, tags=tags).run_id  # NOT_STARTED: not finished


def gone_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_only_runs_whose_process_is_gone_are_failed(instance):
    alive = make_run(instance, launch_tags())
    gone = make_run(instance, {**launch_tags(), PID_TAG: str(gone_pid()), PROCESS_TAG: "other"})
    reused = make_run(instance, {**launch_tags(), PROCESS_TAG: "an-older-boot:123"})  # our pid, not our process
    elsewhere = make_run(instance, {**launch_tags(), HOST_TAG: "another-host"})
    untagged = make_run(instance, {})
    claim_slot(instance, gone, "embed")

    found = {r.run_id: r for r in recover_dead_runs(instance)}  # 6 h limit for unverifiable runs
    expected = {gone, reused} if PROCESS_TAG in launch_tags() else {gone}
    assert set(found) == expected
    assert "is gone" in found[gone].reason and found[gone].freed == (f"{WAREHOUSE_POOL}:embed (slot)",)
    for run_id in expected:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    for run_id in ({alive, elsewhere, untagged} | {reused} - expected):
        assert not instance.get_run_by_id(run_id).is_finished
    assert not slot_holders(instance)

    # runs whose process cannot be checked are presumed dead past the timeout; a live one never is
    found = {r.run_id for r in recover_dead_runs(instance, timeout_s=1e-6)}
    assert found == {elsewhere, untagged}
    assert not instance.get_run_by_id(alive).is_finished


def test_slots_kept_by_an_ended_run_are_freed(instance):
    ended = make_run(instance, launch_tags())
    claim_slot(instance, ended, "embed")
    instance.report_run_failed(instance.get_run_by_id(ended), "ended without freeing its slot")
    (r,) = recover_dead_runs(instance)
    assert r.run_id == ended and not r.marked_failed and r.freed
    assert not slot_holders(instance)
