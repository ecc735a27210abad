import hashlib
import json
import sqlite3

import duckdb
import pandas as pd
import pytest

from curation_dagster.lib.dataset_export import COLUMNS, export_dataset, load_published
from curation_dagster.lib.export import jsonl_bytes, to_chat_record

ROWS = [
    {"generation_id": "g-1", "cluster_id": 0, "cluster_name": "shift swaps", "template_id": "general",
     "quality_score": 0.8125, "instruction": "Ask Ivy to swap shifts on Friday",
     "identity": json.dumps({"name": "Rachel Ross", "role": "Office Administrator", "company": "Evergreen"}),
     "input_message": "Are you working this weekend?", "output": "Hello Ivy,\n\nCould we swap Friday?\n\nRachel"},
    {"generation_id": "g-2", "cluster_id": 1, "cluster_name": "Grüße & thanks", "template_id": "thank_you",
     "quality_score": 0.6666666666666666, "instruction": "Schreib Jörg ein Dankeschön 🎉 für die Hilfe",
     "identity": json.dumps({"name": "Zoë Müller", "tone": "warm"}, ensure_ascii=False),
     "input_message": None, "output": "Lieber Jörg,\n\nvielen Dank! 🎉\n\nViele Grüße\nZoë"},
    {"generation_id": "g-3", "cluster_id": 1, "cluster_name": "Grüße & thanks", "template_id": "general",
     "quality_score": 0.5, "instruction": "Thank the team, \"quoted\", with a comma",
     "identity": None, "input_message": None, "output": "Thanks all, great work 👍 — see you Monday."},
]
SPLIT = {"g-1": "train", "g-2": "train", "g-3": "validation"}


def publish(tmp_path, rows=ROWS, name="finetuning_dataset"):
    """A published dataset folder laid out as finetuning_dataset writes it."""
    files, provenance, counts = {}, [], {}
    for split in ("train", "validation"):
        part = [r for r in rows if SPLIT[r["generation_id"]] == split]
        files[f"{split}.jsonl"] = jsonl_bytes([to_chat_record(r) for r in part])
        counts[split] = len(part)
        provenance += [{"split": split, "line": i + 1, "generation_id": r["generation_id"],
                        "cluster_id": r["cluster_id"], "cluster_name": r["cluster_name"],
                        "template_id": r["template_id"], "quality_score": r["quality_score"]}
                       for i, r in enumerate(part)]
    files["provenance.jsonl"] = jsonl_bytes(provenance)
    manifest = {
        "dataset": name, "format": "openai-chat-jsonl", "created_at": "2026-11-20T04:00:00+00:00",
        "rows": {**counts, "total": len(rows)}, "clusters": 2, "source_partitions": ["2026-11-01", "2026-11-02"],
        "files": {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in sorted(files.items())},
        "config": {"seed": 7, "validation_fraction": 0.1}, "templates": {"general": 2, "thank_you": 1},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    folder = tmp_path / "exports" / name
    folder.mkdir(parents=True)
    for n, d in files.items():
        (folder / n).write_bytes(d)
    return tmp_path / "exports", folder


def expected_frame():
    rows = []
    for split in ("train", "validation"):
        part = [r for r in ROWS if SPLIT[r["generation_id"]] == split]
        for i, r in enumerate(part, 1):
            rows.append({"split": split, "line": i, "generation_id": r["generation_id"],
                         "cluster_id": r["cluster_id"], "cluster_name": r["cluster_name"],
                         "template_id": r["template_id"], "quality_score": r["quality_score"],
                         "messages": to_chat_record(r)["messages"]})
    return rows


def check_rows(actual: list[dict]):
    expected = expected_frame()
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert json.loads(got["messages"]) == want["messages"]  # exact round trip, non-ASCII included
        for col in ("split", "line", "generation_id", "cluster_id", "cluster_name", "template_id", "quality_score"):
            assert got[col] == want[col], col


def test_sqlite_export_has_examples_manifest_and_indexes(tmp_path):
    export_dir, _ = publish(tmp_path)
    summary = export_dataset(export_dir, tmp_path / "out" / "ds.sqlite", "sqlite")
    assert summary["rows"] == {"train": 2, "validation": 1, "total": 3}
    assert summary["format"] == "sqlite" and summary["out"] == str(tmp_path / "out" / "ds.sqlite")
    con = sqlite3.connect(tmp_path / "out" / "ds.sqlite")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM examples ORDER BY split, line")]
    assert list(rows[0]) == list(COLUMNS)
    check_rows(rows)
    assert "Grüße" in rows[1]["messages"] and "🎉" in rows[1]["messages"]  # stored as text, not \u escapes
    manifest = dict(con.execute("SELECT key, value FROM manifest").fetchall())
    assert manifest["rows.train"] == 2 and manifest["dataset"] == "finetuning_dataset"
    assert len(manifest["files.train.jsonl.sha256"]) == 64
    assert json.loads(manifest["source_partitions"]) == ["2026-11-01", "2026-11-02"]
    indexes = {r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert any("(generation_id)" in s for s in indexes) and any("(split)" in s for s in indexes)
    plan = " ".join(str(r[3]) for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM examples WHERE generation_id = 'g-2'"))
    assert "examples_generation_id" in plan
    con.close()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ds.sqlite"]  # no temp file left


def test_csv_export_round_trips(tmp_path):
    export_dir, _ = publish(tmp_path)
    summary = export_dataset(export_dir, tmp_path / "ds.csv", "csv")
    df = pd.read_csv(tmp_path / "ds.csv", keep_default_na=False, na_values=[""])
    assert list(df.columns) == list(COLUMNS)
    check_rows(df.to_dict("records"))
    assert summary["rows"]["total"] == 3


def test_parquet_export_round_trips_into_a_directory(tmp_path):
    export_dir, _ = publish(tmp_path)
    (tmp_path / "out").mkdir()
    summary = export_dataset(export_dir, tmp_path / "out", "parquet")
    assert summary["out"] == str(tmp_path / "out" / "finetuning_dataset.parquet")
    df = pd.read_parquet(summary["out"])
    assert list(df.columns) == list(COLUMNS)
    assert str(df["line"].dtype) == "int64" and str(df["quality_score"].dtype) == "float64"
    check_rows(df.to_dict("records"))


def test_sharegpt_export_writes_conversations_that_import_back(tmp_path):
    export_dir, _ = publish(tmp_path)
    summary = export_dataset(export_dir, tmp_path / "ds.sharegpt.jsonl", "sharegpt")
    lines = (tmp_path / "ds.sharegpt.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["id"], r["split"]) for r in records] == [("g-1", "train"), ("g-2", "train"), ("g-3", "validation")]
    g2 = records[1]["conversations"]
    assert [t["from"] for t in g2] == ["system", "human", "gpt"]
    assert g2[1]["value"] == "Schreib Jörg ein Dankeschön 🎉 für die Hilfe"  # written as UTF-8, not escaped
    assert g2[2]["value"] == "Lieber Jörg,\n\nvielen Dank! 🎉\n\nViele Grüße\nZoë"
    assert "Zoë Müller" in g2[0]["value"] and "🎉" in lines[1]
    assert records[2]["conversations"][-1] == {"from": "gpt", "value": "Thanks all, great work 👍 — see you Monday."}
    assert summary["rows"]["total"] == 3
    # the import side reads the file back to the same messages as the published chat JSONL
    from curation_dagster.lib.formats import messages_of
    chat = [json.loads(line) for split in ("train", "validation")
            for line in (export_dir / "finetuning_dataset" / f"{split}.jsonl").read_text().splitlines()]
    assert [messages_of(r, "sharegpt") for r in records] == [c["messages"] for c in chat]


def test_jsonl_export_is_byte_identical(tmp_path):
    export_dir, folder = publish(tmp_path)
    summary = export_dataset(export_dir, tmp_path / "jsonl", "jsonl")
    for split in ("train", "validation"):
        assert (tmp_path / "jsonl" / f"{split}.jsonl").read_bytes() == (folder / f"{split}.jsonl").read_bytes()
    assert sorted(p.name for p in (tmp_path / "jsonl").iterdir()) == ["train.jsonl", "validation.jsonl"]
    assert summary["rows"] == {"train": 2, "validation": 1, "total": 3}


def test_dataset_folder_itself_is_accepted(tmp_path):
    _, folder = publish(tmp_path)
    assert export_dataset(folder, tmp_path / "ds.csv", "csv")["rows"]["total"] == 3


def test_tampered_file_is_refused_and_nothing_written(tmp_path):
    export_dir, folder = publish(tmp_path)
    data = (folder / "train.jsonl").read_bytes().replace(b"Friday", b"Monday")
    (folder / "train.jsonl").write_bytes(data)
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="train.jsonl.*sha256"):
        export_dataset(export_dir, tmp_path / "out" / "ds.sqlite", "sqlite")
    assert list((tmp_path / "out").iterdir()) == []


def test_missing_listed_file_is_refused(tmp_path):
    export_dir, folder = publish(tmp_path)
    (folder / "provenance.jsonl").unlink()
    with pytest.raises(ValueError, match="provenance.jsonl"):
        export_dataset(export_dir, tmp_path / "ds.csv", "csv")


def test_missing_dataset_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no published dataset in .*materialize finetuning_dataset first"):
        export_dataset(tmp_path / "exports", tmp_path / "ds.csv", "csv")
    assert not (tmp_path / "ds.csv").exists()


def test_unknown_format_is_refused(tmp_path):
    export_dir, _ = publish(tmp_path)
    with pytest.raises(ValueError, match="unknown format 'xlsx'"):
        export_dataset(export_dir, tmp_path / "ds.xlsx", "xlsx")


def test_failed_write_leaves_no_half_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    export_dir, _ = publish(tmp_path)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "ds.parquet"
    target.write_bytes(b"previous export")

    def boom(tmp, df):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr("curation_dagster.lib.dataset_export._write_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        export_dataset(export_dir, target, "parquet")
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ds.parquet"]


def test_created_at_comes_from_the_storage_table(tmp_path):
    export_dir, _ = publish(tmp_path)
    storage = tmp_path / "pipeline.duckdb"
    with duckdb.connect(str(storage)) as con:
        con.execute("CREATE SCHEMA curation")
        con.execute("CREATE TABLE curation.finetuning_dataset (generation_id VARCHAR, created_at TIMESTAMP)")
        con.execute("INSERT INTO curation.finetuning_dataset VALUES ('g-1', '2026-11-01 08:30:00'), "
                    "('g-2', '2026-11-02 09:00:00.250')")
    summary = export_dataset(export_dir, tmp_path / "ds.parquet", "parquet", storage_path=storage)
    df = pd.read_parquet(tmp_path / "ds.parquet")
    assert df["created_at"].tolist()[:2] == ["2026-11-01T08:30:00.000000", "2026-11-02T09:00:00.250000"]
    assert df["created_at"].isna().tolist() == [False, False, True]
    assert summary["storage"]["matched"] == 2 and summary["storage"]["missing"] == 1
    # no storage file: the export still works, created_at stays empty
    summary = export_dataset(export_dir, tmp_path / "ds2.csv", "csv", storage_path=tmp_path / "nope.duckdb")
    assert "no such file" in summary["storage"]["note"]


def test_load_published_checks_manifest_row_counts(tmp_path):
    export_dir, folder = publish(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["rows"]["train"] = 5
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="train.jsonl has 2 lines, the manifest says 5"):
        load_published(export_dir)
