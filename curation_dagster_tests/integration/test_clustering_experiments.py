"""The clustering_experiments asset over a small de-duplicated pool built by the real graph."""

import math

import dagster as dg
import duckdb
import pytest

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import build_resources
from curation_dagster_tests.graph import copy_graph

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, small_topic_modelled):
    # the real graph's de-duplicated pool of sample_small (the topic model is fit too; the grid ignores it)
    data_dir = copy_graph(small_topic_modelled, tmp_path_factory.mktemp("experiments"))
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    instance = dg.DagsterInstance.ephemeral()
    implicit = defs.resolve_implicit_global_asset_job_def()
    config = {"ops": {"clustering_experiments": {"config": {"sample_cap": 400, "seed": 7}}}}
    res = implicit.execute_in_process(asset_selection=[dg.AssetKey("clustering_experiments")],
                                      instance=instance, run_config=config)
    assert res.success
    return defs, data_dir, res


def test_every_cell_is_filled(experiment):
    _, data_dir, _ = experiment
    with duckdb.connect(str(data_dir / "pipeline.duckdb"), read_only=True) as con:
        table = con.execute("SELECT * FROM curation.clustering_experiments").df()
        pool_rows = con.execute("SELECT count(*) FROM curation.deduplicated_generations").fetchone()[0]
    assert len(table) == 9
    assert set(zip(table.backend, table.algorithm)) == {
        (b, a) for b in ("minilm", "model2vec", "tfidf_svd") for a in ("kmeans", "bertopic", "hdbscan")}
    assert table["error"].isna().all(), table["error"].tolist()
    assert (table["clusters"] >= 2).all()
    assert table[["silhouette", "npmi", "diversity", "ari", "nmi", "cluster_seconds"]].notna().all().all()
    assert (table.loc[table.backend == "minilm", "embed_seconds"] == 0).all()  # stored vectors, not re-embedded
    assert (table.loc[table.backend == "model2vec", "embed_seconds"] > 0).all()  # the sample is embedded
    assert pool_rows <= 400
    print("\n" + table.drop(columns=["params"]).round(3).to_string(index=False))


def test_csv_and_recommendation_in_metadata(experiment):
    _, data_dir, res = experiment
    mat = res.asset_materializations_for_node("clustering_experiments")[0]
    md = mat.metadata
    csv = data_dir / "exports" / "experiments" / "clustering_experiments.csv"
    assert csv.exists() and md["csv_path"].value == str(csv)
    assert len(csv.read_text().splitlines()) == 10
    cells = {f"{r.data['backend']} x {r.data['algorithm']}" for r in md["grid"].value.records}
    assert md["recommended"].value in cells
    assert "topic_model" in md["active_choice"].value
    assert md["failed_cells"].value == 0
    for r in md["grid"].value.records:
        assert not any(isinstance(v, float) and math.isnan(v) for v in r.data.values())
    print(f"\nrecommended: {md['recommended'].value}\n{md['recommendation_reason'].value}")


def test_local_sentence_transformers_backend(model, sample_small):
    from curation_dagster.lib.embedding import resolve_model_path
    from curation_dagster.lib.experiments import run_grid

    gens = sample_small[0].head(60)
    texts = (gens["instruction"].fillna("") + "\n" + gens["output"].fillna("")).tolist()
    path = resolve_model_path("packaged:all-MiniLM-L6-v2")
    table = run_grid(texts, gens["template_id"].tolist(), [f"sentence_transformers:{path}",
                                                          "sentence_transformers:/no/such/model"],
                     ["kmeans"], kmeans_k=4)
    assert table.loc[0, "error"] is None and table.loc[0, "clusters"] == 4 and table.loc[0, "embed_seconds"] > 0
    assert table.loc[1, "error"].startswith("embedding:")
