"""OpenAI chat, ShareGPT and Alpaca files: convert between them (round trips keep content) and import
them so the export gives back the original conversation."""

import csv
import json

import duckdb
import pytest
from click.testing import CliRunner

from curation_dagster.cli import main
from curation_dagster.lib.export import to_chat_record, validate_chat_record
from curation_dagster.lib.formats import contract_fields, messages_of, record_of
from curation_dagster.lib.importing import RecordError

SYSTEM = "You are the support assistant of Nimbus Cloud. Answer in a warm, concise tone."
CHAT = [
    {"id": "c1", "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My invoice shows two charges for November."},
        {"role": "assistant", "content": "Sorry about that! Could you send me the invoice number?"},
        {"role": "user", "content": "It is INV-2291, thanks. Grüße aus Köln 🙂"},
        {"role": "assistant", "content": "Thanks! I refunded the duplicate charge; it shows up within 5 days."}]},
    {"id": "c2", "messages": [
        {"role": "user", "content": "Write a two-line thank-you note to Priya for the design review."},
        {"role": "assistant", "content": "Hi Priya,\nThank you for the thorough design review today.\nBest, Tom"}]},
]
SHAREGPT = [
    {"id": "s1", "conversations": [
        {"from": "system", "value": SYSTEM},
        {"from": "human", "value": "Can I move my meeting with Dana to Friday?"},
        {"from": "gpt", "value": "Sure, I can ask her. Which time works for you on Friday?"},
        {"from": "human", "value": "Any time after 2 pm."},
        {"from": "gpt", "value": "Done: I asked Dana for Friday after 2 pm and will confirm once she replies."}]},
]
ALPACA = [
    {"instruction": "Summarise the customer's complaint in one sentence.",
     "input": "The parcel arrived two weeks late and the box was damaged.",
     "output": "The parcel was two weeks late and arrived in a damaged box."},
    {"instruction": "Give three names for a coffee shop.", "input": "",
     "output": "Bean There, The Daily Grind, Brew Haven"},
]


def write_jsonl(path, records, extra_lines=()):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def read_jsonl(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def convert(src, dst, to, *extra):
    return CliRunner().invoke(main, ["convert", str(src), str(dst), "--to", to, *extra], catch_exceptions=False)


def test_chat_to_sharegpt_and_back_keeps_every_turn(tmp_path):
    src = write_jsonl(tmp_path / "chat.jsonl", CHAT)
    res = convert(src, tmp_path / "sg.jsonl", "sharegpt")
    assert res.exit_code == 0 and "read 2, written 2, quarantined 0" in res.output, res.output
    sg = read_jsonl(tmp_path / "sg.jsonl")
    assert [t["from"] for t in sg[0]["conversations"]] == ["system", "human", "gpt", "human", "gpt"]
    assert convert(tmp_path / "sg.jsonl", tmp_path / "back.jsonl", "chat").exit_code == 0
    assert read_jsonl(tmp_path / "back.jsonl") == CHAT  # ids, roles, contents, unicode: all kept

    src = write_jsonl(tmp_path / "sharegpt.jsonl", SHAREGPT)
    assert convert(src, tmp_path / "c.jsonl", "chat").exit_code == 0
    assert convert(tmp_path / "c.jsonl", tmp_path / "sg2.jsonl", "sharegpt").exit_code == 0
    assert read_jsonl(tmp_path / "sg2.jsonl") == SHAREGPT


def test_alpaca_round_trip_and_what_alpaca_cannot_hold(tmp_path):
    src = write_jsonl(tmp_path / "alpaca.jsonl", ALPACA)
    assert convert(src, tmp_path / "chat.jsonl", "chat").exit_code == 0
    chat = read_jsonl(tmp_path / "chat.jsonl")
    assert chat[0]["messages"][0]["content"] == ALPACA[0]["instruction"] + "\n\n" + ALPACA[0]["input"]
    assert convert(tmp_path / "chat.jsonl", tmp_path / "back.jsonl", "alpaca").exit_code == 0
    back = read_jsonl(tmp_path / "back.jsonl")
    assert back[1] == ALPACA[1]  # no input: identical
    assert back[0]["instruction"] == ALPACA[0]["instruction"] + "\n\n" + ALPACA[0]["input"]  # content kept, joined
    assert back[0]["output"] == ALPACA[0]["output"]

    # a multi-turn conversation has no Alpaca form: quarantined with the reason, the rest converted
    res = convert(write_jsonl(tmp_path / "mixed.jsonl", CHAT), tmp_path / "a.jsonl", "alpaca")
    assert res.exit_code == 0 and "written 1, quarantined 1" in res.output
    q = read_jsonl(tmp_path / "a.jsonl.quarantine.jsonl")
    assert q[0]["line"] == 1 and "Alpaca holds one" in q[0]["reason"]


def test_bad_lines_are_quarantined_with_their_line(tmp_path):
    bad_order = {"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": "?"}]}
    unknown_speaker = {"conversations": [{"from": "narrator", "value": "x"}, {"from": "gpt", "value": "y"}]}
    src = write_jsonl(tmp_path / "chat.jsonl", CHAT, [json.dumps(bad_order), "{broken", json.dumps(
        {"messages": [{"role": "user", "content": "Only a question"}]})])
    res = convert(src, tmp_path / "out.jsonl", "sharegpt")
    assert "read 5, written 2, quarantined 3" in res.output
    q = {r["line"]: r["reason"] for r in read_jsonl(tmp_path / "out.jsonl.quarantine.jsonl")}
    assert "roles out of order" in q[3] and q[4].startswith("broken JSON") and "ends with a user turn" in q[5]
    with pytest.raises(RecordError, match="narrator"):
        messages_of(unknown_speaker, "sharegpt")
    res = CliRunner().invoke(main, ["convert", str(src), str(tmp_path / "x.csv"), "--to", "csv"])
    assert res.exit_code != 0 and "cannot convert chat to csv" in res.output


def test_csv_to_jsonl_and_back_keeps_every_cell(tmp_path):
    rows = [{"prompt": "Say hi, politely", "completion": 'He said "hello"\nthen left', "note": "Grüße 🙂"},
            {"prompt": "Empty note", "completion": "ok", "note": ""}]
    src = tmp_path / "a.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["prompt", "completion", "note"])
        w.writeheader()
        w.writerows(rows)
    assert convert(src, tmp_path / "a.jsonl", "jsonl").exit_code == 0
    assert read_jsonl(tmp_path / "a.jsonl")[0]["completion"] == 'He said "hello"\nthen left'
    assert convert(tmp_path / "a.jsonl", tmp_path / "b.csv", "csv").exit_code == 0
    with open(tmp_path / "b.csv", encoding="utf-8", newline="") as f:
        assert list(csv.DictReader(f)) == rows


def test_imported_conversations_come_back_whole_in_the_export_record(tmp_path):
    # the contract keeps the last exchange as the example, earlier turns and the system prompt beside it
    msgs = messages_of(CHAT[0], "chat")
    fields = contract_fields(msgs)
    assert fields["instruction"].startswith("It is INV-2291") and fields["output"].startswith("Thanks! I refunded")
    assert to_chat_record(fields) == {"messages": msgs} and validate_chat_record({"messages": msgs}) is None
    assert record_of(msgs, "sharegpt")["conversations"][1] == {"from": "human", "value": msgs[1]["content"]}

    db = tmp_path / "wh.duckdb"
    for name, records, fmt in (("c.jsonl", CHAT, "chat"), ("s.json", SHAREGPT, "sharegpt"), ("a.jsonl", ALPACA, "alpaca")):
        path = tmp_path / name
        if name.endswith(".json"):  # ShareGPT dumps are often one JSON array
            path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        else:
            write_jsonl(path, records)
        res = CliRunner().invoke(main, ["import", str(path), "--warehouse", str(db), "--assign-date", "2026-11-04",
                                        "--map", "generation_id=id"], catch_exceptions=False)
        assert res.exit_code == 0 and f"imported {len(records)}," in res.output, res.output
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT * FROM generations ORDER BY generation_id").df().to_dict("records")
    by_id = {r["generation_id"]: r for r in rows}
    assert to_chat_record(by_id["c1"]) == {"messages": CHAT[0]["messages"]}
    assert to_chat_record(by_id["s1"])["messages"] == messages_of(SHAREGPT[0], "sharegpt")
    assert sum(r["generation_id"].startswith("imp-") for r in rows) == 2  # Alpaca rows: ids from content


def test_import_repairs_split_sharegpt_conversations_and_counts_them(tmp_path):
    # split ShareGPT dumps: a part starts with the reply to a question in the part before it
    dump = [
        {"id": "p1", "conversations": [{"from": "gpt", "value": "...so that is the end of the first answer."},
                                       {"from": "human", "value": "Now shorten it to one line."},
                                       {"from": "gpt", "value": "Ship small, ship often."}]},
        {"id": "p2", "conversations": [{"from": "system", "value": SYSTEM},
                                       {"from": "gpt", "value": "(continued) step 4: deploy."},
                                       {"from": "gpt", "value": "Step 5: monitor."},
                                       {"from": "human", "value": "And rollback?"},
                                       {"from": "gpt", "value": "Keep the previous build."},
                                       {"from": "human", "value": "Thanks."},
                                       {"from": "human", "value": "One more: canaries?"},
                                       {"from": "gpt", "value": "Route 5% of traffic first."}]},
        {"id": "p3", "conversations": [{"from": "gpt", "value": "A reply whose question is in another part."}]},
        SHAREGPT[0],
    ]
    src = tmp_path / "split.json"
    src.write_text(json.dumps(dump, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "wh.duckdb"
    res = CliRunner().invoke(main, ["import", str(src), "--warehouse", str(db), "--assign-date", "2026-11-04",
                                    "--map", "generation_id=id"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "read 4 records, imported 3, already present 0, quarantined 1" in res.output
    assert "leading assistant turns dropped in 2, same-role turns merged in 1, blank turns dropped in 0" in res.output
    with duckdb.connect(str(db), read_only=True) as con:
        rows = {r["generation_id"]: r for r in con.execute("SELECT * FROM generations").df().to_dict("records")}
        q = con.execute("SELECT line, reason FROM import_quarantine").fetchall()
    assert sorted(rows) == ["p1", "p2", "s1"]
    assert to_chat_record(rows["p1"]) == {"messages": [{"role": "user", "content": "Now shorten it to one line."},
                                                       {"role": "assistant", "content": "Ship small, ship often."}]}
    assert to_chat_record(rows["p2"]) == {"messages": [
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": "And rollback?"},
        {"role": "assistant", "content": "Keep the previous build."},
        {"role": "user", "content": "Thanks.\n\nOne more: canaries?"},
        {"role": "assistant", "content": "Route 5% of traffic first."}]}
    assert q == [(3, "no user -> assistant exchange left (1 leading assistant turn(s) dropped): assistant")]

    # chat files get the same repair; convert stays strict (it keeps every message or quarantines)
    chat = write_jsonl(tmp_path / "c.jsonl", [{"id": "c9", "messages": [
        {"role": "assistant", "content": "Earlier answer."}, {"role": "user", "content": "Next question?"},
        {"role": "assistant", "content": "Next answer."}]}])
    res = CliRunner().invoke(main, ["import", str(chat), "--warehouse", str(db), "--assign-date", "2026-11-04",
                                    "--map", "generation_id=id"], catch_exceptions=False)
    assert "imported 1," in res.output and "leading assistant turns dropped in 1," in res.output
    assert "quarantined 1" in convert(chat, tmp_path / "sg.jsonl", "sharegpt").output
