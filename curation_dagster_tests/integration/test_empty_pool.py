"""An empty pool (every row rejected, or nothing materialized yet) and a pool of 1-2 rows: every stage
fails or degrades with its cause named, never a KeyError, a DuckDB catalog traceback or an empty
export replacing a good one."""

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from curation_dagster.cli import main
from curation_dagster.definitions import build_definitions
from curation_dagster.defs.clustering.assets import cluster_generations, topic_model
from curation_dagster.defs.export.assets import finetuning_dataset
from curation_dagster.defs.export.config import ExportConfig
from curation_dagster.defs.resources import DatasetStore, build_resources
from curation_dagster.lib.clustering import ClusterSettings
from curation_dagster.lib.topic_model import EmptyPoolError, TopicModel, assign, fit_topic_model
from curation_dagster.lib.warehouse import write_generations
from curation_dagster.sample_data import generate_sample_data

DAYS = ("2026-11-01", "2026-11-02")


def step_failure(result, step: str) -> str:
    (event,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
                and e.step_key == step]
    data = event.step_failure_data
    return (data.user_failure_data.description if data.user_failure_data else None) or data.error.message


@pytest.fixture
def all_rejected(tmp_path, monkeypatch):
    """Two days whose every row comes from a retired generator (rule old_generator_version), wired so
    the CLI runs the jobs on this temp warehouse."""
    gens, labels = generate_sample_data(n_rows=40, days=2, start_date=DAYS[0], seed=11)
    gens = gens.assign(generator_version="1.0.0")
    write_generations(tmp_path / "warehouse.duckdb", gens, labels)
    defs = build_definitions(resources=build_resources("local", data_dir=tmp_path))
    monkeypatch.setenv("CURATION_DATA_DIR", str(tmp_path))  # what `curation run` and `curation stats` read
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path, defs


@pytest.mark.slow
def test_all_rejected_days_fail_the_pool_stages_naming_the_cause(all_rejected):
    tmp_path, defs = all_rejected
    res = CliRunner().invoke(main, ["run", "--from", DAYS[0], "--to", DAYS[1]])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "Traceback" not in res.output and "KeyError" not in res.output
    assert "cannot fit the topic model: the pool is empty: 0 rows kept in 2026-11-01..2026-11-02" in res.output
    assert "top rules: old_generator_version" in res.output

    # the pool refresh (its schedule, or by hand) fails at the first stage with nothing to do, same cause
    with dg.DagsterInstance.get() as instance:
        refresh = defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not refresh.success
    message = step_failure(refresh, "cluster_generations")
    assert message.startswith("no rows to cluster: the pool is empty: 0 rows kept in 2026-11-01..2026-11-02")
    assert "old_generator_version" in message
    assert not refresh.asset_materializations_for_node("finetuning_dataset")
    assert not (tmp_path / "exports" / "finetuning_dataset" / "manifest.json").exists()

    stats = CliRunner().invoke(main, ["stats"])
    assert stats.exit_code == 0 and "Traceback" not in stats.output, stats.output
    assert "kept: 0" in stats.output
    assert "The pool is empty: 0 rows kept in 2026-11-01..2026-11-02" in stats.output
    assert "generation_clusters" in stats.output.split("Not materialized yet")[1]
    as_json = json.loads(CliRunner().invoke(main, ["stats", "--json"]).output)
    assert "old_generator_version" in as_json["empty_pool"]


def test_stats_before_anything_is_materialized_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATION_DATA_DIR", str(tmp_path / "data"))
    res = CliRunner().invoke(main, ["stats"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "nothing has been materialized yet" in res.output and "curation run" in res.output
    assert "Traceback" not in res.output
    # the storage file exists (an IO manager opened it) but no stage wrote a table yet
    import duckdb

    (tmp_path / "data").mkdir()
    with duckdb.connect(str(tmp_path / "data" / "pipeline.duckdb")) as con:
        con.execute("CREATE SCHEMA curation")
    res = CliRunner().invoke(main, ["stats", "--json"])
    assert res.exit_code == 1 and "nothing has been materialized yet" in res.output


def _unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("algorithm", ["bertopic", "kmeans"])
@pytest.mark.parametrize("n", [1, 2])
def test_topic_model_over_one_or_two_rows_is_one_cluster_and_says_so(algorithm, n):
    x = _unit(n)
    ids = [f"g{i}" for i in range(n)]
    docs = ["Ask Sam to confirm the offsite headcount", "Reply to the invoice dispute from Acme"][:n]
    model = fit_topic_model(ids, x, docs, ClusterSettings(algorithm=algorithm), created_at=["2026-11-01"] * n,
                            naming="ctfidf")
    assert model.cluster_ids == [0] and model.fit_rows == n and model.names[0]
    assert model.fit_fallback.startswith(f"only {n} row") and "one cluster" in model.fit_fallback
    again = TopicModel.from_frame(model.to_frame())
    labels, _, outlier = assign(again, x)
    assert labels.tolist() == [0] * n and not outlier.any()  # the rows it was fit on belong to it


def test_topic_model_over_fewer_rows_than_neighbours_or_clusters_degrades():
    x = _unit(3)
    ids, docs = ["a", "b", "c"], ["invoice overdue", "interview candidate", "meeting slot"]
    tiny = fit_topic_model(ids, x, docs, ClusterSettings(algorithm="bertopic"), naming="ctfidf")  # crashed in UMAP
    assert tiny.cluster_ids == [0] and "umap_n_neighbors=15" in tiny.fit_fallback
    few = fit_topic_model(ids, x, docs, ClusterSettings(algorithm="kmeans", kmeans_k=24), naming="ctfidf")
    assert len(few.cluster_ids) == 3 and "fewer than kmeans_k=24" in few.fit_fallback
    with pytest.raises(EmptyPoolError, match="0 rows"):
        fit_topic_model([], np.zeros((0, 16), np.float32), [], ClusterSettings())


def test_topic_model_asset_on_two_rows_reports_the_fallback(tmp_path):
    pool = pd.DataFrame({
        "generation_id": ["g0", "g1"], "created_at": pd.to_datetime(DAYS), "template_id": ["general"] * 2,
        "instruction": ["Ask Sam to confirm the offsite headcount", "Reply to the invoice dispute"],
        "embedding": [v.astype(float).tolist() for v in _unit(2)],
    })

    @dg.asset(name="deduplicated_generations")
    def stand_in() -> pd.DataFrame:
        return pool.drop(columns="embedding")

    @dg.asset(name="generation_embeddings")
    def vectors() -> pd.DataFrame:
        return pool[["generation_id", "embedding"]]

    @dg.asset(name="rejected_generations")
    def none_rejected() -> pd.DataFrame:
        return pd.DataFrame({"rule": pd.Series(dtype=object), "created_at": pd.Series(dtype="datetime64[ns]")})

    result = dg.materialize([stand_in, vectors, none_rejected, topic_model, cluster_generations],
                            resources=build_resources("local", data_dir=tmp_path),
                            run_config={"ops": {"topic_model": {"config": {"naming": "ctfidf"}}}},
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    meta = result.asset_materializations_for_node("topic_model")[0].metadata
    assert meta["cluster_count"].value == 1 and meta["fit_fallback"].value.startswith("only 2 rows")
    assert len(result.output_for_node("cluster_generations", "generation_clusters")) == 2


def _sampled(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "generation_id": ids, "created_at": pd.to_datetime([DAYS[0]] * len(ids)), "cluster_id": [0] * len(ids),
        "cluster_name": ["Invoice"] * len(ids), "template_id": ["general"] * len(ids),
        "quality_score": [0.9] * len(ids), "instruction": ["Ask Sam"] * len(ids), "identity": ["{}"] * len(ids),
        "input_message": [None] * len(ids), "output": ["Hi Sam"] * len(ids), "category": ["general"] * len(ids),
    })


@pytest.mark.parametrize("case", ["empty_sample", "all_rejected_in_review"])
def test_an_empty_export_never_replaces_the_last_good_one(tmp_path, case):
    store = DatasetStore(export_dir=str(tmp_path / "exports"))
    target = store.path()
    target.mkdir(parents=True)
    (target / "manifest.json").write_text('{"rows": {"train": 9, "validation": 1, "total": 10}}\n')
    sampled = _sampled([] if case == "empty_sample" else ["g1", "g2"])
    decisions = pd.DataFrame({"generation_id": ["g1", "g2"], "state": ["rejected"] * 2, "edited_output": [None] * 2,
                              "agreement": [1.0, 1.0]}) if case != "empty_sample" else pd.DataFrame()
    # the context's ephemeral instance is closed here, not at interpreter exit after its SQLite connection
    with dg.build_asset_context() as context, pytest.raises(dg.Failure) as failure:
        list(finetuning_dataset(context, config=ExportConfig(), dataset_store=store,
                                sampled_examples=sampled, review_decisions=decisions,
                                review_annotations=pd.DataFrame(), cluster_decisions=pd.DataFrame(),
                                deduplicated_generations=pd.DataFrame(), generation_embeddings=pd.DataFrame(),
                                judged_examples=pd.DataFrame(),
                                doc_qa_pairs=pd.DataFrame(), example_variants=pd.DataFrame()))
    assert failure.value.description.startswith("no rows to export: ")
    assert ("sampled_examples is empty" if case == "empty_sample" else "reviewers rejected all 2") \
        in failure.value.description
    assert "left in place" in failure.value.description
    assert json.loads((target / "manifest.json").read_text())["rows"]["total"] == 10
