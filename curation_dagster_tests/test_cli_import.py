"""`curation import`: CSV, JSONL and Parquet files onto the data contract, bad lines quarantined."""

import json

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from curation_dagster.cli import main
from curation_dagster.lib.importing import ImportSettings, RecordError, to_contract_row

REPLY = ("Hi Sam,\n\nThanks for sending the signed contract so quickly. I have forwarded it to our finance "
         "team, and you will receive the first invoice by the end of the week.\n\nBest regards,\nLena")


def good(i: int, **extra) -> dict:
    return {"id": f"ext-{i}", "prompt": f"Confirm receipt of contract number {i} and explain the next step",
            "completion": REPLY.replace("Sam", f"Sam{i}"), "ts": f"2026-11-0{1 + i % 3}T10:00:00Z", **extra}


def run(args, **kw):
    res = CliRunner().invoke(main, ["import", *args], catch_exceptions=False, **kw)
    return res


def table(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_jsonl_with_malformed_lines_imports_the_rest_and_quarantines_each_with_its_line(tmp_path):
    lines = [json.dumps(good(0)), "{not json", json.dumps(good(1))]
    raw = "\n".join(lines).encode() + b"\n" + b'{"prompt": "caf\xe9 \xff", "completion": "x"}\n'
    raw += json.dumps(good(2, completion="")).encode() + b"\n"                               # 5: missing output
    raw += b'{"prompt": "lone \\ud800 surrogate", "completion": "text", "ts": "2026-11-01"}\n'  # 6
    raw += json.dumps(good(3, rating="five")).encode() + b"\n"                                 # 7: wrong type
    raw += json.dumps(good(4, completion="x" * 200_000)).encode() + b"\n"                      # 8: absurd size
    raw += b"[1, 2, 3]\n" + json.dumps(good(5, ts="yesterday-ish")).encode() + b"\n"           # 9, 10
    raw += json.dumps(good(6, rating=4, copied="yes", sent=0, edit_ratio=0.1)).encode() + b"\n"  # 11: ok
    src = tmp_path / "gens.jsonl"
    src.write_bytes(raw)
    db, qfile = tmp_path / "wh.duckdb", tmp_path / "quarantine.jsonl"
    args = [str(src), "--warehouse", str(db), "--map", "generation_id=id", "--map", "instruction=prompt",
            "--map", "output=completion", "--map", "created_at=ts", "--quarantine-file", str(qfile)]
    res = run(args)
    assert res.exit_code == 0, res.output
    assert "read 11 records, imported 3, already present 0, quarantined 8" in res.output
    rows = table(db, "SELECT * FROM generations ORDER BY generation_id")
    assert rows["generation_id"].tolist() == ["ext-0", "ext-1", "ext-6"]
    assert rows.loc[2, "rating"] == 4 and rows.loc[2, "copied"] and not rows.loc[2, "sent"]
    assert rows["template_id"].eq("general").all() and rows["identity"].isna().all()
    assert str(rows.loc[0, "created_at"]) == "2026-11-01 10:00:00"  # UTC, stored naive
    q = table(db, "SELECT line, reason FROM import_quarantine ORDER BY line")
    reasons = dict(zip(q["line"], q["reason"]))
    assert sorted(reasons) == [2, 4, 5, 6, 7, 8, 9, 10]
    assert reasons[2].startswith("broken JSON") and reasons[4].startswith("invalid UTF-8")
    assert "missing output" in reasons[5] and "lone surrogate" in reasons[6]
    assert "rating is 'five'" in reasons[7] and "over the 100,000 limit" in reasons[8]
    assert "not an object" in reasons[9] and "not a timestamp" in reasons[10]
    assert len(qfile.read_text().splitlines()) == 8

    again = run(args)  # same file again: nothing new, quarantine replaced rather than doubled
    assert "imported 0, already present 3, quarantined 8" in again.output and again.exit_code == 0
    assert len(table(db, "SELECT * FROM generations")) == 3
    assert len(table(db, "SELECT * FROM import_quarantine")) == 8


def test_csv_with_mapping_file_and_assigned_date_and_ids_from_content(tmp_path):
    df = pd.DataFrame([{"question": f"Thank Ana for the workshop number {i}", "answer": REPLY, "stars": 5}
                       for i in range(4)])
    df.loc[len(df)] = {"question": "Bad stars", "answer": REPLY, "stars": 9}
    src = tmp_path / "dump.csv"
    df.to_csv(src, index=False)
    with open(src, "a", encoding="utf-8") as f:
        f.write('"Too, many",fields,5,extra\n')
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("column_mapping:\n  instruction: question\n  output: answer\n  rating: stars\n")
    db = tmp_path / "wh.duckdb"
    args = [str(src), "--warehouse", str(db), "--mapping-file", str(mapping), "--assign-date", "2026-11-02"]
    res = run(args)
    assert res.exit_code == 0, res.output
    assert "read 6 records, imported 4, already present 0, quarantined 2" in res.output
    assert "curation run --from 2026-11-02 --to 2026-11-02" in res.output
    rows = table(db, "SELECT * FROM generations")
    assert rows["generation_id"].str.startswith("imp-").all() and rows["generation_id"].is_unique
    assert (rows["created_at"] == pd.Timestamp("2026-11-02")).all() and rows["rating"].eq(5).all()
    q = table(db, "SELECT line, reason FROM import_quarantine ORDER BY line")
    # physical line where each record starts (the reply spans 6 lines): what an editor shows
    assert q["line"].tolist() == [2 + 6 * 4, 2 + 6 * 5] and "outside 1..5" in q["reason"][0] and "more fields" in q["reason"][1]
    assert "imported 0, already present 4" in run(args).output  # content ids make re-imports idempotent


def test_parquet_and_the_exit_codes(tmp_path):
    src = tmp_path / "gens.parquet"
    pd.DataFrame([{"instruction": "Reply to Bo about the delayed shipment of the chairs", "output": REPLY,
                   "created_at": pd.Timestamp("2026-11-03 08:00"), "identity": '{"name": "Lena"}'}]).to_parquet(src)
    db = tmp_path / "wh.duckdb"
    res = run([str(src), "--warehouse", str(db)])
    assert res.exit_code == 0 and "imported 1" in res.output
    assert table(db, "SELECT identity FROM generations")["identity"][0] == '{"name": "Lena"}'

    junk = tmp_path / "junk.jsonl"
    junk.write_text("{oops\n[]\n")
    res = CliRunner().invoke(main, ["import", str(junk), "--warehouse", str(db)])
    assert res.exit_code != 0 and "nothing could be imported" in res.output
    res = CliRunner().invoke(main, ["import", str(tmp_path / "missing.jsonl"), "--warehouse", str(db)])
    assert res.exit_code != 0 and "no such file" in res.output
    res = CliRunner().invoke(main, ["import", str(src), "--warehouse", str(db), "--map", "answer=output"])
    assert res.exit_code != 0 and "not contract columns: answer" in res.output


def test_contract_row_rules():
    s = ImportSettings(assign_date="2026-11-01")
    row = to_contract_row({"instruction": "Write to Kim", "output": REPLY, "identity": {"name": "Ann", "tone": "warm"},
                           "edit_ratio": "0.25", "sent": "true", "created_at": "2026-11-05T23:30:00-02:00"}, s)
    assert row["identity"] == '{"name": "Ann", "tone": "warm"}' and row["edit_ratio"] == 0.25 and row["sent"] is True
    assert str(row["created_at"]) == "2026-11-06 01:30:00"  # converted to UTC
    assert row["copied"] is None and row["rating"] is None  # no usage signals: nulls, not zeros
    assert row["generation_id"] == to_contract_row(dict(instruction="Write to Kim", output=REPLY,
                                                        identity={"tone": "warm", "name": "Ann"},
                                                        created_at="2026-11-06T01:30:00Z"), s)["generation_id"]
    with pytest.raises(RecordError, match="no created_at"):
        to_contract_row({"instruction": "a", "output": "b"}, ImportSettings())
    with pytest.raises(RecordError, match="instruction is a JSON list"):
        to_contract_row({"instruction": ["a"], "output": "b"}, s)


def test_a_reused_generation_id_with_other_content_is_quarantined_not_already_present(tmp_path):
    args = ["--map", "generation_id=id", "--map", "instruction=prompt", "--map", "output=completion",
            "--map", "created_at=ts"]
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(json.dumps(r) for r in [
        good(1), good(1),                                   # 1, 2: an exact repeat: already present
        good(1, completion="A different reply."),           # 3: same id, other content: conflict
        good(2), good(1, ts="2026-11-09T08:00:00Z"),        # 4: new; 5: same content, later date: present
    ]) + "\n")
    db = tmp_path / "wh.duckdb"
    for chunk_rows in ("10000", "1"):  # one chunk, or every row its own chunk (the warehouse decides)
        db.unlink(missing_ok=True)
        res = run([str(first), "--warehouse", str(db), "--chunk-rows", chunk_rows, *args])
        assert res.exit_code == 0, res.output
        assert "read 5 records, imported 2, already present 2, quarantined 1" in res.output
        assert "1 of the quarantined rows reuse a generation_id already imported with different content" in res.output
        q = table(db, "SELECT line, reason FROM import_quarantine")
        assert q["line"].tolist() == [3]
        assert q["reason"][0].startswith("generation_id ext-1 already imported with different content")
        assert table(db, "SELECT output FROM generations WHERE generation_id = 'ext-1'")["output"].tolist() == [
            REPLY.replace("Sam", "Sam1")]  # the first version stays

    second = tmp_path / "second.jsonl"  # against rows already in the warehouse
    second.write_text(json.dumps(good(2, completion="Rewritten.")) + "\n" + json.dumps(good(3)) + "\n")
    res = run([str(second), "--warehouse", str(db), *args])
    assert "read 2 records, imported 1, already present 0, quarantined 1" in res.output
    assert table(db, "SELECT reason FROM import_quarantine WHERE source LIKE '%second.jsonl'")["reason"][0].startswith(
        "generation_id ext-2 already imported with different content")
    again = run([str(first), "--warehouse", str(db), *args])  # re-import: nothing new, the conflict again
    assert "imported 0, already present 4, quarantined 1" in again.output


def test_the_suggested_run_range_ignores_placeholder_and_future_dates(tmp_path):
    dates = ["2026-11-01T09:00:00Z", "2026-11-03T09:00:00Z", "1970-01-01T00:00:00Z", "2099-12-31T00:00:00Z",
             "1970-01-01T00:00:00Z"]
    src = tmp_path / "dated.jsonl"
    src.write_text("\n".join(json.dumps(good(i, ts=ts)) for i, ts in enumerate(dates)) + "\n")
    db = tmp_path / "wh.duckdb"
    res = run([str(src), "--warehouse", str(db), "--map", "generation_id=id", "--map", "instruction=prompt",
               "--map", "output=completion", "--map", "created_at=ts"])
    assert res.exit_code == 0 and "imported 5," in res.output, res.output
    assert "Rows span 2 day(s), 2026-11-01 .. 2026-11-03" in res.output
    assert "curation run --from 2026-11-01 --to 2026-11-03" in res.output
    assert "3 row(s) dated outside 2000-01-01 .. " in res.output and "(1970-01-01, 2099-12-31)" in res.output
    assert len(table(db, "SELECT * FROM generations")) == 5  # imported all the same: nothing lost
