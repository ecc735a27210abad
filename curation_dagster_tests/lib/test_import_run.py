"""import_records, without the CLI: counts, quarantine in line order, days, and a re-import that adds
nothing, on a real DuckDB warehouse file."""

import json
from contextlib import closing

import duckdb

from curation_dagster.lib.import_run import import_records
from curation_dagster.lib.import_sinks import open_sink
from curation_dagster.lib.importing import ImportSettings


def row(gid, instruction, day):
    return {"generation_id": gid, "instruction": instruction, "output": f"answer to {instruction}",
            "created_at": f"{day}T10:00:00"}


def write(path, lines):
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))


def test_import_counts_quarantines_in_line_order_and_reimports_nothing(tmp_path):
    src = tmp_path / "gens.jsonl"
    write(src, [row("g1", "first", "2026-11-01"),
                "{not json",
                row("g2", "second", "2026-11-01"),
                row("g1", "first, but changed", "2026-11-02"),  # same id, other content
                row("g3", "third", "2026-11-02")])
    seen, progress = [], []
    with closing(open_sink("local", str(tmp_path / "wh.duckdb"), None, "256MB", "")) as sink:
        report = import_records(src, "jsonl", ImportSettings(), sink, chunk_rows=2,
                                on_progress=progress.append, on_quarantined=seen.extend)
    c = report.counts
    assert (c["read"], c["imported"], c["already_present"], c["quarantined"], c["conflicting_ids"]) == (5, 3, 0, 2, 1)
    assert [b.line for b in seen] == [2, 4]
    assert "generation_id g1 already imported with different content" in seen[1].reason
    assert report.days == {"2026-11-01": 2, "2026-11-02": 1}
    assert (report.run_range.first, report.run_range.last) == ("2026-11-01", "2026-11-02")
    assert progress == sorted(progress) and progress[-1] == src.stat().st_size
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        assert sorted(r[0] for r in con.execute("SELECT generation_id FROM generations").fetchall()) == ["g1", "g2", "g3"]
        assert con.execute("SELECT list(line ORDER BY line) FROM import_quarantine").fetchone()[0] == [2, 4]

    # the same file again: nothing added, the quarantine replaced (not doubled)
    with closing(open_sink("local", str(tmp_path / "wh.duckdb"), None, "256MB", "")) as sink:
        again = import_records(src, "jsonl", ImportSettings(), sink, chunk_rows=2)
    assert (again.counts["imported"], again.counts["already_present"], again.counts["quarantined"]) == (0, 3, 2)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        assert con.execute("SELECT count(*) FROM import_quarantine").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM generations").fetchone()[0] == 3
