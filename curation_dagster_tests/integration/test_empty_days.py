"""A day with no rows to keep (or no rows at all) must not break the days after it."""

import dagster as dg
import duckdb
import pytest

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import build_resources
from curation_dagster.lib.warehouse import write_generations

pytestmark = pytest.mark.slow


def test_an_all_rejected_first_day_leaves_typed_empty_tables(tmp_path, sample_small, model):
    gens, labels = sample_small
    gens = gens.copy()
    first = gens["created_at"].dt.strftime("%Y-%m-%d") == "2026-11-01"
    gens.loc[first, "generator_version"] = "1.0.0"  # every row of day one is from a retired generator
    write_generations(tmp_path / "warehouse.duckdb", gens, labels)
    defs = build_definitions(resources=build_resources("local", data_dir=tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    daily = defs.resolve_job_def("daily_curation_job")
    assert daily.execute_in_process(partition_key="2026-11-01", instance=instance).success  # zero rows kept
    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'filtered_generations'").fetchall())
        emb = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name = 'generation_embeddings'").fetchall())
        assert con.execute("SELECT count(*) FROM curation.filtered_generations").fetchall()[0][0] == 0
    assert types["quality_score"] == "DOUBLE" and types["created_at"].startswith("TIMESTAMP")
    assert emb["embedding"] == "DOUBLE[]"
    for day in ("2026-11-02", "2026-11-03"):
        assert daily.execute_in_process(partition_key=day, instance=instance).success
    kmeans = {"ops": {"topic_model": {"config": {"algorithm": "kmeans", "kmeans_k": 5}}}}
    assert defs.resolve_job_def("topic_model_job").execute_in_process(instance=instance, run_config=kmeans).success
    assert defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance).success
    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        kept = con.execute("SELECT count(*) FROM curation.filtered_generations").fetchall()[0][0]
        shipped = con.execute("SELECT count(*) FROM curation.finetuning_dataset").fetchall()[0][0]
    assert kept > 0 and shipped > 0
