"""A partition full of malformed rows materializes, and every row comes out rejected with a reason."""

import dagster as dg
import duckdb

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import DuckDBWarehouse, build_resources

GOOD = ("Hi Sam,\n\nThanks for the update on the venue. I reviewed the floor plan and the catering "
        "options, and both look great for our team offsite. Could you confirm the final headcount "
        "by Thursday so we can lock in the booking?\n\nBest regards,\nAnna Lee")
IDENT = '{"name": "Anna Lee", "role": "Office Manager", "company": "Northwind", "tone": "friendly"}'


def test_malformed_rows_are_rejected_not_crashing(tmp_path):
    # A team's own table: different column names and loose types (output stored as a number here).
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("""CREATE TABLE gens (id VARCHAR, ts TIMESTAMP, template VARCHAR, version VARCHAR,
            prompt VARCHAR, identity VARCHAR, input_message VARCHAR, completion VARCHAR, copied BOOLEAN,
            sent BOOLEAN, edit_ratio DOUBLE, rating INTEGER)""")
        rows = [
            ("ok1", "2026-11-02 09:00", "follow_up", "1.5.0", "Ask Sam to confirm the offsite headcount", IDENT, None, GOOD, True, True, 0.1, 5),
            ("null_output", "2026-11-02 09:01", "follow_up", "1.5.0", "Ask Sam about it please", IDENT, None, None, True, True, 0.1, None),
            ("null_everything", "2026-11-02 09:02", None, None, None, None, None, None, None, None, None, None),
            ("huge", "2026-11-02 09:03", "follow_up", "1.5.0", "Ask Sam to confirm the headcount", IDENT, None, GOOD * 8000, True, True, 0.0, 4),
            ("bad_unicode", "2026-11-02 09:04", "follow_up", "1.5.0", "Ask Sam to confirm the headcount", IDENT, None, GOOD + " \ufffd\ufffd", True, True, 0.0, 4),
            ("unknown_tpl", "2026-11-02 09:05", "legacy_v0", "1.5.0", "Ask Sam to confirm the headcount", IDENT, None, GOOD.replace("Sam", "Kim"), True, True, 0.0, 4),
            ("empty", "2026-11-02 09:06", "general", "1.5.0", "", "", "", "", False, False, None, None),
            ("html", "2026-11-02 09:07", "general", "1.5.0", "Ask Jo to confirm the headcount", IDENT, None, "<div>" + GOOD.replace("Sam", "Jo") + "</div>", True, True, 0.0, 4),
            ("other_day", "2026-11-03 09:00", "follow_up", "1.5.0", "Ask Sam to confirm the headcount", IDENT, None, GOOD, True, True, 0.1, 5),
        ]
        con.executemany("INSERT INTO gens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    resources = build_resources("local", data_dir=tmp_path)
    resources["warehouse"] = DuckDBWarehouse(
        database=str(tmp_path / "warehouse.duckdb"), table="gens",
        column_mapping={"generation_id": "id", "created_at": "ts", "template_id": "template",
                        "generator_version": "version", "instruction": "prompt", "output": "completion"},
    )
    defs = build_definitions(resources=resources)
    job = defs.resolve_job_def("daily_curation_job")
    result = job.execute_in_process(partition_key="2026-11-02", instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        raw = con.execute("SELECT generation_id FROM curation.raw_generations").df()
        kept = con.execute("SELECT generation_id FROM curation.filtered_generations").df()
        rej = con.execute("SELECT generation_id, rule, reason FROM curation.rejected_generations").df()
        emb = con.execute("SELECT generation_id FROM curation.generation_embeddings").df()
    assert sorted(raw.generation_id) == sorted(r[0] for r in rows if r[1].startswith("2026-11-02"))
    assert kept.generation_id.tolist() == ["ok1"] and emb.generation_id.tolist() == ["ok1"]
    rules = dict(zip(rej.generation_id, rej.rule))
    assert rules == {
        "null_output": "invalid_record", "null_everything": "invalid_record", "huge": "text_too_long",
        "bad_unicode": "invalid_unicode", "unknown_tpl": "unknown_template", "empty": "invalid_record",
        "html": "html_markup",
    }
    assert rej["reason"].str.len().min() > 5
    mat = result.asset_materializations_for_node("filter_generations")
    meta = {m.asset_key.to_user_string(): m.metadata for m in mat}
    assert meta["filtered_generations"]["rows_in"].value == 8
    assert meta["filtered_generations"]["rows_kept"].value + meta["filtered_generations"]["rows_rejected"].value == 8
