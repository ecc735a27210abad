"""What real dumps need from the importer (ShareGPT V3, split): conversations that start mid-way,
generation_ids reused for other content, and placeholder timestamps. Expected values are written out
by hand from the inputs, not computed with the code under test."""

import pandas as pd
import pytest

from curation_dagster.lib.formats import messages_of
from curation_dagster.lib.import_sinks import CONTENT_COLUMNS, DuckDBSink, split_repeats
from curation_dagster.lib.importing import ImportSettings, RecordError, convert_chunk, suggested_run_range


def sg(*turns):
    return {"conversations": [{"from": f, "value": v} for f, v in turns]}


def test_split_conversations_are_repaired_not_quarantined():
    repairs: dict = {}
    msgs = messages_of(sg(("system", "Be brief."), ("gpt", "...and that is the end of part one."),
                          ("gpt", "Part two follows."), ("human", "Thanks. What next?"), ("gpt", "Step 3.")),
                       "sharegpt", repairs=repairs)
    assert msgs == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Thanks. What next?"},
                    {"role": "assistant", "content": "Step 3."}]
    assert repairs == {"leading_assistant_dropped": 2}  # turns, not conversations

    repairs = {}
    msgs = messages_of({"messages": [{"role": "user", "content": "Fix my code"}, {"role": "user", "content": "  "},
                                     {"role": "user", "content": "It is Python"},
                                     {"role": "assistant", "content": "Here it is"},
                                     {"role": "user", "content": ""}, {"role": "assistant", "content": "and more"}]},
                       "chat", repairs=repairs)
    assert msgs == [{"role": "user", "content": "Fix my code\n\nIt is Python"},
                    {"role": "assistant", "content": "Here it is\n\nand more"}]
    assert repairs == {"same_role_merged": 2, "blank_turns_dropped": 2}

    with pytest.raises(RecordError, match=r"no user -> assistant exchange left \(2 leading assistant turn\(s\) dropped\)"):
        messages_of(sg(("gpt", "a"), ("gpt", "b")), "sharegpt", repairs={})
    with pytest.raises(RecordError, match=r"no user -> assistant exchange left \(1 leading assistant turn\(s\) dropped, "
                                          r"1 blank turn\(s\) dropped\): user, assistant"):
        messages_of(sg(("human", " "), ("gpt", "an answer to nothing")), "sharegpt", repairs={})
    with pytest.raises(RecordError, match=r"no user -> assistant exchange: no messages"):
        messages_of({"conversations": []}, "sharegpt", repairs={})
    with pytest.raises(RecordError, match="ends with a user turn"):
        messages_of(sg(("gpt", "a"), ("human", "b"), ("gpt", "c"), ("human", "d")), "sharegpt", repairs={})
    with pytest.raises(RecordError, match="roles out of order"):  # a system prompt mid-way is not repaired
        messages_of(sg(("human", "a"), ("system", "b"), ("gpt", "c")), "sharegpt", repairs={})
    # without `repairs` (curation convert) nothing is changed: the same record stays out of order
    with pytest.raises(RecordError, match="roles out of order"):
        messages_of(sg(("gpt", "a"), ("human", "b"), ("gpt", "c")), "sharegpt")


def test_convert_chunk_counts_conversations_not_turns():
    chunk = [(1, sg(("gpt", "x"), ("gpt", "y"), ("human", "q"), ("gpt", "a")), None, "r1"),
             (2, sg(("gpt", "x"), ("human", "q2"), ("gpt", "a2")), None, "r2"),
             (3, sg(("gpt", "only a reply")), None, "r3"),
             (4, sg(("human", "q3"), ("gpt", "a3")), None, "r4")]
    stats, origins = {}, []
    rows, bad = convert_chunk(chunk, ImportSettings(assign_date="2026-11-01"), "sharegpt", stats, origins)
    assert rows["instruction"].tolist() == ["q", "q2", "q3"] and rows["output"].tolist() == ["a", "a2", "a3"]
    assert [b.line for b in bad] == [3] and "no user -> assistant exchange left" in bad[0].reason
    assert stats == {"leading_assistant_dropped": 2, "same_role_merged": 0, "blank_turns_dropped": 0}
    assert origins == [(1, "r1"), (2, "r2"), (4, "r4")]


def frame(*rows):
    return pd.DataFrame([{"generation_id": g, "instruction": i, "output": o, "input_message": None, "identity": None,
                          "created_at": pd.Timestamp("2026-11-01")} for g, i, o in rows])


def test_repeated_ids_with_other_content_are_conflicts(tmp_path):
    batch = frame(("a", "q", "x"), ("a", "q", "x"), ("a", "q", "OTHER"), ("b", "q", "y"))
    new, present, conflicts = split_repeats(batch, {})
    assert new == [0, 3] and present == 1
    assert conflicts == [(2, "generation_id a already imported with different content "
                             "(its instruction/input_message/output/identity differ)")]

    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    try:
        first = sink.add(batch)
        assert (first.added, first.present, [p for p, _ in first.conflicts]) == (2, 1, [2])
        again = sink.add(frame(("b", "q", "y"), ("b", "q", "changed"), ("c", "q", "z")))
        assert (again.added, again.present, [p for p, _ in again.conflicts]) == (1, 1, [1])
        stored = sink.con.execute("SELECT generation_id, output FROM generations ORDER BY 1").fetchall()
        assert stored == [("a", "x"), ("b", "y"), ("c", "z")]  # first versions kept, never overwritten
    finally:
        sink.close()
    assert CONTENT_COLUMNS == ("instruction", "input_message", "output", "identity")


def test_run_range_leaves_out_placeholder_and_future_days():
    r = suggested_run_range({"1970-01-01": 3, "1999-12-31": 1, "2000-01-01": 2, "2026-11-05": 10, "2026-12-04": 1,
                   "2026-12-05": 4, "2099-01-01": 5}, today="2026-12-03")
    assert (r.first, r.last, r.days, r.rows) == ("2000-01-01", "2026-12-04", 3, 13)
    assert r.rows_outside == 13 and r.outside_days == ("1970-01-01", "1999-12-31", "2026-12-05", "2099-01-01")
    assert (r.lo, r.hi) == ("2000-01-01", "2026-12-04")
    empty = suggested_run_range({"1970-01-01": 2}, today="2026-12-03")
    assert empty.first is None and empty.rows_outside == 2


def test_the_snowflake_sink_finds_conflicts_in_the_table_too():
    import fakesnow
    import snowflake.connector

    from curation_dagster.lib.import_sinks import SnowflakeSink

    with fakesnow.patch():
        conn = snowflake.connector.connect(database="PROD", schema="APP")
        conn.cursor().execute("CREATE SCHEMA IF NOT EXISTS PROD.APP")
        sink = SnowflakeSink(conn, "APP_GENERATIONS", {"instruction": "user_prompt", "output": "completion"})
        assert sink.add(frame(("a", "q", "x"), ("b", "q", "y"))).added == 2
        again = sink.add(frame(("a", "q", "x"), ("b", "q", "changed"), ("c", "q", "z")))
        assert (again.added, again.present, [p for p, _ in again.conflicts]) == (1, 1, [1])
        assert "generation_id b already imported with different content" in again.conflicts[0][1]
        sink.close()
