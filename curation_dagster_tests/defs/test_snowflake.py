"""The prod deployment (DAGSTER_DEPLOYMENT=prod: Snowflake) run against fakesnow.

The product code is the real prod code; the two fakesnow shims named in ARCHITECTURE.md live in
the fixture below, not in curation_dagster.
"""

import json
from datetime import datetime

import dagster as dg
import fakesnow
import numpy as np
import pandas as pd
import pytest
from dagster_snowflake import SnowflakeResource

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import build_resources
from curation_dagster.defs.snowflake import ARRAY_COLUMNS, SnowflakeWarehouse
from curation_dagster.lib.export import validate_chat_record


#: A team's table names its columns its own way; the mapping puts them on the data contract.
MAPPING = {"created_at": "LOGGED_AT", "instruction": "USER_PROMPT", "output": "COMPLETION"}
FAKE_PASSWORD = "fakesnow-placeholder-password"
ENV = {
    "SNOWFLAKE_ACCOUNT": "acme-test", "SNOWFLAKE_USER": "curation_svc", "SNOWFLAKE_PASSWORD": FAKE_PASSWORD,
    "SNOWFLAKE_WAREHOUSE": "CURATION_WH", "SNOWFLAKE_DATABASE": "PROD", "SNOWFLAKE_SCHEMA": "APP",
    "SNOWFLAKE_ROLE": "CURATION_ROLE", "CURATION_SOURCE_TABLE": "APP_GENERATIONS",
    "CURATION_SOURCE_COLUMN_MAPPING": json.dumps(MAPPING),
}
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]


class _FakeSnowflake:
    """fakesnow with the shims dagster-snowflake-pandas needs, plus a log of the SQL it ran."""

    def __init__(self, mp: pytest.MonkeyPatch):
        from dagster_snowflake.snowflake_io_manager import SnowflakeDbClient
        from fakesnow.cursor import FakeSnowflakeCursor

        for k, v in ENV.items():
            mp.setenv(k, v)
        original_delete = SnowflakeDbClient.delete_table_slice

        def delete_table_slice(context, table_slice, connection):
            # dagster tolerates Snowflake's "does not exist or not authorized"; fakesnow words it differently
            try:
                original_delete(context, table_slice, connection)
            except Exception as exc:  # noqa: BLE001
                if "does not exist" not in str(exc):
                    raise

        mp.setattr(SnowflakeDbClient, "delete_table_slice", staticmethod(delete_table_slice))
        self.statements: list[str] = []
        original_execute = FakeSnowflakeCursor.execute

        def execute(cursor, command, *args, **kwargs):
            self.statements.append(str(command))
            return original_execute(cursor, command, *args, **kwargs)

        mp.setattr(FakeSnowflakeCursor, "execute", execute)
        self.patch = fakesnow.patch(
            extra_targets=["dagster_snowflake_pandas.snowflake_pandas_type_handler.write_pandas"])

    def connect(self, schema: str = "APP"):
        import snowflake.connector

        return snowflake.connector.connect(account=ENV["SNOWFLAKE_ACCOUNT"], user=ENV["SNOWFLAKE_USER"],
                                           password=FAKE_PASSWORD, database="PROD", schema=schema)

    def query(self, sql: str, schema: str = "CURATION") -> pd.DataFrame:
        with self.connect(schema) as conn:
            cur = conn.cursor()
            cur.execute(sql)
            df = cur.fetch_pandas_all()
        df.columns = [c.lower() for c in df.columns]
        return df

    def seed(self, generations: pd.DataFrame) -> None:
        import snowflake.connector.pandas_tools

        src = generations.rename(columns=MAPPING)
        src.columns = [c.upper() for c in src.columns]
        with self.connect() as conn:
            snowflake.connector.pandas_tools.write_pandas(conn, src, "APP_GENERATIONS", auto_create_table=True,
                                                             use_logical_type=True)


@pytest.fixture
def snow(monkeypatch):
    fake = _FakeSnowflake(monkeypatch)
    with fake.patch:
        yield fake


def test_prod_needs_credentials_and_never_holds_their_values(monkeypatch):
    with pytest.raises(ValueError, match="SNOWFLAKE_ACCOUNT.*SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY"):
        build_resources("prod", data_dir="/tmp/unused", environ={})
    res = build_resources("prod", data_dir="/tmp/unused", environ=ENV)
    wh, io = res["warehouse"], res["io_manager"]
    assert isinstance(wh, SnowflakeWarehouse) and wh.table == "APP_GENERATIONS" and wh.column_mapping == MAPPING
    # secrets are EnvVar references: the resource config (shown in the UI, logged with runs) holds names only
    assert isinstance(io.password, dg.EnvVar) and isinstance(wh.snowflake.password, dg.EnvVar)
    assert FAKE_PASSWORD not in repr(res) and "SNOWFLAKE_PASSWORD" in repr(io)
    assert io.schema_ == "CURATION" and wh.snowflake.schema_ == "APP" and isinstance(io.role, dg.EnvVar)
    keypair = {k: v for k, v in ENV.items() if k != "SNOWFLAKE_PASSWORD"} | {"SNOWFLAKE_PRIVATE_KEY_PATH": "/k.p8"}
    io_kp = build_resources("prod", data_dir="/tmp/unused", environ=keypair)["io_manager"]
    assert io_kp.password is None and isinstance(io_kp.private_key_path, dg.EnvVar)
    with pytest.raises(ValueError, match="CURATION_SOURCE_COLUMN_MAPPING"):
        build_resources("prod", data_dir="/tmp/unused", environ=ENV | {"CURATION_SOURCE_COLUMN_MAPPING": "{oops"})
    with pytest.raises(ValueError, match="'staging' is not a deployment"):
        build_resources("staging", data_dir="/tmp/unused")


def test_reads_one_day_with_the_date_filter_in_snowflake(snow, sample_small, tmp_path):
    gens, _ = sample_small
    snow.seed(gens)
    # the prod resource with its EnvVars resolved (a run does that; the whole-graph test goes through it)
    prod = build_resources("prod", data_dir=tmp_path)["warehouse"]
    wh = SnowflakeWarehouse(snowflake=SnowflakeResource(
        account=ENV["SNOWFLAKE_ACCOUNT"], user=ENV["SNOWFLAKE_USER"], password=FAKE_PASSWORD,
        database=ENV["SNOWFLAKE_DATABASE"], schema=ENV["SNOWFLAKE_SCHEMA"], warehouse=ENV["SNOWFLAKE_WAREHOUSE"]),
        table=prod.table, column_mapping=prod.column_mapping)
    snow.statements.clear()
    day = wh.read_window(datetime(2026, 11, 2), datetime(2026, 11, 3))
    expected = gens[gens["created_at"].dt.strftime("%Y-%m-%d") == "2026-11-02"]
    assert 0 < len(day) < len(gens)
    assert sorted(day["generation_id"]) == sorted(expected["generation_id"])
    assert {"instruction", "output", "created_at"} <= set(day.columns)  # mapped back to contract names
    got = day.set_index("generation_id").loc[expected["generation_id"], "output"].tolist()
    assert got == expected["output"].tolist()
    sql = [s for s in snow.statements if "APP_GENERATIONS" in s]
    assert any("WHERE LOGGED_AT >= " in s and "USER_PROMPT AS instruction" in s for s in sql), sql
    contract = wh.describe()
    assert contract["present"].all() and wh.count_rows() == len(gens)
    broken = SnowflakeWarehouse(snowflake=wh.snowflake, table="APP_GENERATIONS", column_mapping={"output": "REPLY"})
    assert broken.describe().set_index("contract_column").loc["output", "present"] == np.False_


@pytest.mark.slow
def test_whole_graph_in_snowflake_partitions_rewrite_idempotently(snow, sample_small, tmp_path, model):
    gens, _ = sample_small
    snow.seed(gens)
    defs = build_definitions(resources=build_resources("prod", data_dir=tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    daily = defs.resolve_job_def("daily_curation_job")
    for day in DAYS:
        assert daily.execute_in_process(partition_key=day, instance=instance).success

    def per_day(table):
        df = snow.query(f"SELECT CAST(created_at AS DATE) AS day, count(*) AS n FROM {table} GROUP BY 1 ORDER BY 1")
        return df.assign(day=df["day"].astype(str))

    before = {t: per_day(t) for t in ("RAW_GENERATIONS", "FILTERED_GENERATIONS",
                                                         "REJECTED_GENERATIONS", "GENERATION_EMBEDDINGS")}
    assert before["RAW_GENERATIONS"]["n"].sum() == len(gens)
    assert before["RAW_GENERATIONS"]["day"].tolist() == DAYS
    raw_day2 = snow.query("SELECT generation_id FROM RAW_GENERATIONS WHERE created_at >= '2026-11-02' "
                          "AND created_at < '2026-11-03'")
    # re-materializing a partition replaces that day's rows: same counts, nothing doubled
    assert daily.execute_in_process(partition_key="2026-11-02", instance=instance).success
    for table, counts in before.items():
        pd.testing.assert_frame_equal(per_day(table), counts, check_dtype=False)
    assert sorted(snow.query("SELECT generation_id FROM RAW_GENERATIONS WHERE created_at >= '2026-11-02' "
                             "AND created_at < '2026-11-03'")["generation_id"]) == sorted(raw_day2["generation_id"])

    # vectors come back as float arrays, one unit vector per kept row
    emb = snow.query("SELECT * FROM GENERATION_EMBEDDINGS")
    assert "embedding" in ARRAY_COLUMNS and emb["embedding"].map(lambda s: isinstance(s, str)).all()
    vecs = np.array([json.loads(s) for s in emb["embedding"]])
    assert vecs.shape == (before["FILTERED_GENERATIONS"]["n"].sum(), 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)

    kmeans = {"ops": {"topic_model": {"config": {"algorithm": "kmeans", "kmeans_k": 8}}}}
    assert defs.resolve_job_def("topic_model_job").execute_in_process(instance=instance, run_config=kmeans).success
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance)
    assert res.success
    checks = {e.check_name: e for e in res.get_asset_check_evaluations()}
    assert checks["clusters_cover_pool"].passed and checks["sample_within_quota"].passed

    # the final dataset table in Snowflake is what the JSONL files ship, line for line
    shipped = snow.query("SELECT * FROM FINETUNING_DATASET ORDER BY split, line")
    manifest = json.loads((tmp_path / "exports" / "finetuning_dataset" / "manifest.json").read_text())
    assert len(shipped) == manifest["rows"]["total"] > 0
    for split in ("train", "validation"):
        lines = (tmp_path / "exports" / "finetuning_dataset" / f"{split}.jsonl").read_text().splitlines()
        rows = shipped[shipped["split"] == split].sort_values("line")
        assert len(rows) == len(lines) == manifest["rows"][split]
        for line, messages in zip(lines, rows["messages"]):
            record = json.loads(line)
            assert record["messages"] == json.loads(messages)
            assert validate_chat_record(record) is None
    assert set(shipped["generation_id"]) <= set(gens["generation_id"])
    assert shipped["cluster_name"].str.len().min() > 0


def test_curation_import_appends_to_the_snowflake_source_table(snow, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from curation_dagster.cli import main

    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "prod")
    reply = "Hi Jo,\n\nThanks for the quick answer. I will send the signed form on Monday.\n\nBest,\nKim"
    src = tmp_path / "gens.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "sf-1", "prompt": "Thank Jo for the answer", "completion": reply, "ts": "2026-11-02T09:00:00"}),
        "{broken",
        json.dumps({"id": "sf-2", "prompt": "Thank Jo again", "completion": reply + " Again.", "ts": "2026-11-02T10:00:00",
                    "rating": 4}),
    ]) + "\n")
    args = ["import", str(src), "--map", "generation_id=id", "--map", "instruction=prompt", "--map",
            "output=completion", "--map", "created_at=ts"]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0 and "imported 2, already present 0, quarantined 1" in res.output, res.output
    assert "Snowflake table APP_GENERATIONS" in res.output
    # the table (created with the team's column names from the mapping) reads back through the prod warehouse
    rows = snow.query("SELECT * FROM APP_GENERATIONS ORDER BY generation_id", schema="APP")
    assert rows["generation_id"].tolist() == ["sf-1", "sf-2"] and {"logged_at", "user_prompt", "completion"} <= set(rows)
    assert rows["rating"].tolist()[1] == 4
    q = snow.query("SELECT line, reason FROM IMPORT_QUARANTINE", schema="APP")
    assert q["line"].tolist() == [2] and q["reason"][0].startswith("broken JSON")
    again = CliRunner().invoke(main, args, catch_exceptions=False)
    assert "imported 0, already present 2, quarantined 1" in again.output
    assert len(snow.query("SELECT * FROM APP_GENERATIONS", schema="APP")) == 2
    assert len(snow.query("SELECT * FROM IMPORT_QUARANTINE", schema="APP")) == 1


def test_stats_and_review_export_read_the_prod_storage(snow, tmp_path, monkeypatch):
    """`curation stats` and `curation review export` read what the assets wrote in Snowflake, through
    the prod IO manager, not a local DuckDB file."""
    import snowflake.connector.pandas_tools
    from click.testing import CliRunner

    from curation_dagster.cli import main

    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "prod")
    monkeypatch.setenv("CURATION_DATA_DIR", str(tmp_path / "data"))
    res = CliRunner().invoke(main, ["stats"])
    assert res.exit_code == 1 and "nothing has been materialized yet in Snowflake PROD.CURATION" in res.output
    assert "Traceback" not in res.output

    tables = {
        "RAW_GENERATIONS": pd.DataFrame({"GENERATION_ID": ["a", "b", "c", "d"],
                                         "CREATED_AT": pd.to_datetime(["2026-11-01"] * 2 + ["2026-11-02"] * 2)}),
        "REJECTED_GENERATIONS": pd.DataFrame({"GENERATION_ID": ["d"], "RULE": ["too_short"],
                                              "RULES_FIRED": ["too_short"]}),
        "FILTERED_GENERATIONS": pd.DataFrame({"GENERATION_ID": ["a", "b", "c"]}),
        "GENERATION_CLUSTERS": pd.DataFrame({"CLUSTER_ID": [0, 0, 1], "IS_OUTLIER": [False, True, False]}),
        "SAMPLED_EXAMPLES": pd.DataFrame({"CATEGORY": ["general", "template"]}),
        "REVIEW_QUEUE": pd.DataFrame({"RANK": [2, 1], "GENERATION_ID": ["b", "a"], "UNCERTAINTY": [0.2, 0.7]}),
    }
    with snow.connect("CURATION") as conn:
        conn.cursor().execute("CREATE SCHEMA IF NOT EXISTS PROD.CURATION")
        conn.cursor().execute("USE SCHEMA PROD.CURATION")
        for name, df in tables.items():
            snowflake.connector.pandas_tools.write_pandas(conn, df, name, auto_create_table=True,
                                                         use_logical_type=True)
    res = CliRunner().invoke(main, ["stats", "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert (got["rows_in"], got["kept"], got["rejected"], got["sampled"]) == (4, 3, 1, 2)
    assert got["rejections_by_rule"] == {"too_short": 1} and got["clusters"] == 2
    assert got["outlier_share"] == round(1 / 3, 4) and got["general_share"] == 0.5
    assert got["not_materialized"] == ["duplicate_generations"]

    sheet = tmp_path / "queue.csv"
    res = CliRunner().invoke(main, ["review", "export", str(sheet)])
    assert res.exit_code == 0 and "Wrote 2 items" in res.output, res.output
    out = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    assert out["generation_id"].tolist() == ["a", "b"]  # by rank
    assert {"reviewer", "verdict", "reasons", "edited_output"} <= set(out.columns)


def test_review_import_writes_where_the_prod_warehouse_reads_reviews(snow, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from curation_dagster.cli import main

    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "prod")
    sheet = tmp_path / "reviewed.csv"
    pd.DataFrame({"generation_id": ["a", "b", "c"], "reviewer": ["ann", "ann", ""],
                  "verdict": ["accept", "reject", ""], "reasons": ["", "pii", ""],
                  "edited_output": ["", "", ""], "created_at": ["2026-11-02T10:00:00"] * 3}).to_csv(sheet, index=False)
    for _ in range(2):  # importing the same sheet again replaces ann's answers, never doubles them
        res = CliRunner().invoke(main, ["review", "import", str(sheet)])
        assert res.exit_code == 0 and "2 reviews imported, 1 rows without a verdict skipped" in res.output, res.output
    # read back the way review_annotations reads them: the prod SourceWarehouse resource
    with dg.build_resources({"warehouse": build_resources("prod", data_dir=tmp_path)["warehouse"]}) as res:
        reviews = res.warehouse.read_reviews().sort_values("generation_id")
    assert reviews[["generation_id", "reviewer", "verdict", "reasons"]].values.tolist() == [
        ["a", "ann", "accept", ""], ["b", "ann", "reject", "pii"]]
    assert reviews["created_day"].tolist() == ["2026-11-02", "2026-11-02"]
