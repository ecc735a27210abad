"""The export check reuses the line checks its gate ran on the same bytes in the same run, and only then."""

import json

from curation_dagster.defs.export import validation
from curation_dagster.lib.export import jsonl_bytes
from curation_dagster_tests.defs.test_checks import export_files

ROWS = [{"generation_id": f"g{i}", "instruction": f"Ask Bo about item {i}", "output": f"Hi Bo, item {i}?",
         "identity": json.dumps({"name": "Ann"}), "template_id": "general"} for i in range(3)]


def _metadata(result):
    return {k: getattr(v, "value", v) for k, v in result.metadata.items() if k != "expectations"}


def test_the_gates_line_checks_are_reused_for_the_same_bytes_in_the_same_run_only(tmp_path, monkeypatch):
    state = tmp_path / "finetuning_dataset"
    memo = tmp_path / "state" / "finetuning_dataset.validated_lines.parquet"
    calls = []
    real = validation.line_frame
    monkeypatch.setattr(validation, "line_frame", lambda *a, **k: calls.append(1) or real(*a, **k))
    files, manifest = export_files(ROWS)
    fresh = validation.validate_dataset(files, manifest, 100)
    gate = validation.validate_dataset({**files, "manifest.json": b"{}"}, manifest, 100, dataset_dir=state, run_id="run-1")
    assert len(calls) == 2 and memo.is_file()
    # the check: the same files read back from disk (without manifest.json), the same run
    check = validation.validate_dataset(files, manifest, 100, dataset_dir=state, run_id="run-1")
    assert len(calls) == 2 and check.passed and fresh.passed
    assert _metadata(check) == _metadata(gate) == _metadata(fresh)
    assert check.metadata["expectations"] == fresh.metadata["expectations"]
    # another run validates again
    validation.validate_dataset(files, manifest, 100, dataset_dir=state, run_id="run-2")
    assert len(calls) == 3
    # a changed byte validates again, and the memo does not hide what is wrong with it
    pii = [dict(r) for r in ROWS]
    pii[0]["output"] = "Call me on +1 415-555-0132"
    bad_files, bad_manifest = export_files(pii)
    assert not validation.validate_dataset(bad_files, bad_manifest, 100, dataset_dir=state, run_id="run-2").passed
    assert len(calls) == 4


def test_a_failing_line_is_reported_the_same_through_the_memo(tmp_path):
    memo = tmp_path / "finetuning_dataset"
    files, manifest = export_files(ROWS)
    files["train.jsonl"] = files["train.jsonl"] + jsonl_bytes([{"messages": []}])
    fresh = validation.validate_dataset(files, manifest, 100)
    validation.validate_dataset(files, manifest, 100, dataset_dir=memo, run_id="r")
    again = validation.validate_dataset(files, manifest, 100, dataset_dir=memo, run_id="r")
    assert not fresh.passed and not again.passed
    assert _metadata(again) == _metadata(fresh) and again.metadata["expectations"] == fresh.metadata["expectations"]
