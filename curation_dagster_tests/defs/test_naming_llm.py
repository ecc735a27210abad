"""The `llm` resource (formerly `naming_llm`): topic_model's naming='llm' through it against a real
HTTP server on 127.0.0.1, the code location without it, and the error when a run asks for it unconfigured."""

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.clustering import assets as clustering_assets
from curation_dagster.defs.clustering.assets import topic_model
from curation_dagster.defs.clustering.config import TopicModelConfig
from curation_dagster.defs.clustering.resources import NamingLLMResource, naming_llm_resource
from curation_dagster.defs.resources import build_resources
from curation_dagster_tests.lib.test_llm_naming import FakeLLM

VARS = ("CURATION_LLM_BASE_URL", "CURATION_LLM_MODEL", "CURATION_LLM_API_KEY")
TOPICS = {"Overdue Invoice Reminders": ["invoice", "payment", "overdue", "reminder", "client", "billing"],
          "Hiring Interview Scheduling": ["interview", "candidate", "hiring", "schedule", "recruiter", "role"]}
KEY = "sk-test-naming-llm-0123456789"


@pytest.fixture
def no_llm_env(monkeypatch):
    for var in VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def pool(model) -> pd.DataFrame:
    """40 rows in two unmistakable topics, embedded with the packaged model (as generation_embeddings does)."""
    rng = np.random.default_rng(3)
    docs = [" ".join(rng.choice(words, 4, replace=False)) for words in TOPICS.values() for _ in range(20)]
    vectors = model.encode(docs, normalize_embeddings=True, convert_to_numpy=True)
    return pd.DataFrame({
        "generation_id": [f"g{i:03d}" for i in range(len(docs))],
        "created_at": pd.date_range("2026-11-01", periods=len(docs), freq="h"),
        "instruction": docs,
        "embedding": [v.astype(float).tolist() for v in vectors],
    })


def fit(resources: dict, pool: pd.DataFrame, **config):
    """Materialize topic_model over `pool` with the code location's resources (DuckDB IO manager)."""

    @dg.asset(name="deduplicated_generations")
    def stand_in() -> pd.DataFrame:
        return pool.drop(columns="embedding")

    @dg.asset(name="generation_embeddings")
    def vectors() -> pd.DataFrame:
        return pool[["generation_id", "embedding"]]

    @dg.asset(name="rejected_generations")
    def no_rejections() -> pd.DataFrame:
        return pd.DataFrame({"rule": pd.Series(dtype=object), "created_at": pd.Series(dtype="datetime64[ns]")})

    run_config = {"ops": {"topic_model": {"config": {"algorithm": "kmeans", "kmeans_k": 2, "seed": 0, **config}}}}
    return dg.materialize([stand_in, vectors, no_rejections, topic_model], resources=resources, run_config=run_config,
                          instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def failure_message(result) -> str:
    (event,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return event.step_failure_data.error.message


def test_llm_names_come_through_the_resource_built_from_the_env_vars(monkeypatch, tmp_path, pool):
    answers = {w: name for name, words in TOPICS.items() for w in words}
    with FakeLLM(answers) as llm:
        monkeypatch.setenv("CURATION_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("CURATION_LLM_MODEL", "env-model")
        monkeypatch.setenv("CURATION_LLM_API_KEY", KEY)
        resources = build_resources("local", data_dir=tmp_path)
        # the key reaches the resource as an EnvVar, never as a value in the code location's config
        assert isinstance(resources["llm"].api_key, dg.EnvVar)
        result = fit(resources, pool, naming="llm", llm_timeout_s=2.0)
    assert result.success
    (mat,) = result.asset_materializations_for_node("topic_model")
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert meta["naming"] == "llm" and meta["naming_llm_model"] == "env-model"
    frame = result.output_for_node("topic_model")
    assert sorted(frame["cluster_name"]) == sorted(TOPICS)
    assert meta["naming_llm_fallbacks"] == 0
    assert len(llm.requests) == 2
    for req in llm.requests:
        headers = {k.lower(): v for k, v in req["headers"].items()}
        assert req["body"]["model"] == "env-model" and headers["authorization"] == f"Bearer {KEY}"
    # the key is nowhere in the run's event log (metadata, logs, step events)
    records = result.all_events
    assert KEY not in "".join(str(e) for e in records)


def test_run_config_overrides_the_resources_retries(tmp_path, pool):
    with FakeLLM({w: ("status", 503) for words in TOPICS.values() for w in words}) as llm:
        resources = {**build_resources("local", data_dir=tmp_path, environ={}),
                     "llm": NamingLLMResource(base_url=llm.base_url, model="m", max_retries=3, timeout_s=2)}
        result = fit(resources, pool, naming="llm", llm_max_retries=0)
    assert result.success  # every cluster keeps its keybert_mmr label
    meta = result.asset_materializations_for_node("topic_model")[0].metadata
    assert meta["naming_llm_fallbacks"].value == 2
    assert len(llm.requests) == 2  # one attempt per cluster: the run's 0 retries, not the resource's 3
    frame = result.output_for_node("topic_model")
    assert not set(frame["cluster_name"]) & set(TOPICS)


def test_code_location_loads_and_other_namings_work_with_the_vars_unset(no_llm_env, tmp_path, pool):
    resources = build_resources("local", data_dir=tmp_path)
    llm = resources["llm"]
    assert isinstance(llm, NamingLLMResource) and not llm.configured
    assert (llm.base_url, llm.model, llm.api_key) == (None, None, None)
    defs = build_definitions(resources=resources)
    dg.Definitions.validate_loadable(defs)
    assert "llm" in defs.resolve_job_def("topic_model_job").resource_defs
    assert TopicModelConfig().naming == "keybert_mmr"  # off by default
    result = fit(resources, pool, naming="ctfidf")
    assert result.success
    assert result.asset_materializations_for_node("topic_model")[0].metadata["naming"].value == "ctfidf"


def test_llm_naming_unconfigured_fails_before_the_fit_naming_the_vars(monkeypatch, tmp_path, pool):
    for var in VARS:  # docker-compose passes unset variables as empty strings
        monkeypatch.setenv(var, "")
    resources = build_resources("local", data_dir=tmp_path)
    calls = []
    monkeypatch.setattr(clustering_assets, "fit_topic_model", lambda *a, **k: calls.append("fit"))
    monkeypatch.setattr(clustering_assets, "load_model", lambda *a, **k: calls.append("load_model"))
    result = fit(resources, pool, naming="llm")
    assert not result.success
    message = failure_message(result)
    assert "CURATION_LLM_BASE_URL and CURATION_LLM_MODEL are not set" in message
    assert "`llm` resource" in message
    assert calls == []  # failed before loading a model or fitting


def test_resource_settings_and_partial_configuration(monkeypatch):
    with pytest.raises(ValueError, match="CURATION_LLM_MODEL is not set") as exc:
        NamingLLMResource(base_url="http://127.0.0.1:9/v1").llm_settings()
    assert "CURATION_LLM_BASE_URL is" not in str(exc.value)
    res = NamingLLMResource(base_url=" http://127.0.0.1:9/v1 ", model="m", api_key="k", timeout_s=5, max_retries=2)
    s = res.llm_settings()
    assert (s.base_url, s.model, s.api_key, s.timeout_s, s.max_retries) == ("http://127.0.0.1:9/v1", "m", "k", 5, 2)
    s = res.llm_settings(timeout_s=1.5, max_retries=0)
    assert (s.timeout_s, s.max_retries) == (1.5, 0)
    assert "api_key='***'" in repr(s) and "'k'" not in repr(s)

    # only the variables that are set (non-empty) become EnvVars; they resolve at run time
    monkeypatch.setenv("CURATION_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CURATION_LLM_MODEL", "m2")
    monkeypatch.delenv("CURATION_LLM_API_KEY", raising=False)
    built = naming_llm_resource()
    assert built.api_key is None and isinstance(built.base_url, dg.EnvVar)
    with dg.build_resources({"naming_llm": built}) as initialized:
        s = initialized.naming_llm.llm_settings()
    assert (s.base_url, s.model, s.api_key) == ("http://127.0.0.1:9/v1", "m2", "")
    assert naming_llm_resource({"CURATION_LLM_BASE_URL": "x", "CURATION_LLM_MODEL": " "}).model is None


def test_a_refit_on_the_same_pool_asks_nothing_again_and_the_metadata_counts_calls(monkeypatch, tmp_path, pool):
    answers = {w: name for name, words in TOPICS.items() for w in words}
    with FakeLLM(answers) as llm:
        monkeypatch.setenv("CURATION_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("CURATION_LLM_MODEL", "env-model")
        monkeypatch.delenv("CURATION_LLM_API_KEY", raising=False)
        resources = build_resources("local", data_dir=tmp_path)
        first = fit(resources, pool, naming="llm", llm_timeout_s=2.0)
        assert len(llm.requests) == 2
        second = fit(resources, pool, naming="llm", llm_timeout_s=2.0)
        assert len(llm.requests) == 2  # every name came from data/llm_cache.duckdb
    assert first.success and second.success
    metas = [{k: v.value for k, v in r.asset_materializations_for_node("topic_model")[0].metadata.items()}
             for r in (first, second)]
    assert [(m["llm_calls"], m["llm_cached"], m["llm_failures"], m["llm_model"]) for m in metas] == \
        [(2, 0, 0, "env-model"), (0, 2, 0, "env-model")]
    assert sorted(second.output_for_node("topic_model")["cluster_name"]) == sorted(TOPICS)
    assert (tmp_path / "llm_cache.duckdb").exists()
