"""The `llm` resource (LLMEndpointResource): unconfigured it hands out no client but a reason, configured
it hands out a client with the resource's limits and the cache beside the warehouse; the old key
`naming_llm` is still accepted by build_definitions; the key never shows in a repr."""

import dagster as dg
import pytest

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.llm import LLMEndpointResource, llm_endpoint_resource, llm_metadata, with_llm_key
from curation_dagster.defs.resources import build_resources
from curation_dagster.lib.llm import ChatRequest
from curation_dagster.lib.llm_cache import LLMCache
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

KEY = "sk-test-llm-resource-0123456789"


def test_unconfigured_the_client_is_none_with_a_reason_naming_the_variables(tmp_path):
    resources = build_resources("local", data_dir=tmp_path, environ={})
    llm = resources["llm"]
    assert "naming_llm" not in resources
    assert isinstance(llm, LLMEndpointResource) and not llm.configured
    assert llm.cache_path == str(tmp_path / "llm_cache.duckdb")  # beside warehouse.duckdb
    client, why = llm.client("judging")
    assert client is None
    assert why == ("judging needs an OpenAI-compatible endpoint, but CURATION_LLM_BASE_URL and CURATION_LLM_MODEL "
                   "are not set: set CURATION_LLM_BASE_URL and CURATION_LLM_MODEL (and CURATION_LLM_API_KEY if "
                   "the server needs a key).")
    assert llm_metadata(client, why) == {"llm_calls": 0, "llm_skipped_reason": why}
    assert not (tmp_path / "llm_cache.duckdb").exists()  # nothing created for a step that skips


def test_configured_client_carries_the_limits_the_cache_and_counts_for_metadata(tmp_path):
    cache = tmp_path / "data" / "llm_cache.duckdb"
    with FakeOpenAIServer() as server:
        llm = LLMEndpointResource(base_url=server.base_url, model="m", api_key=KEY, timeout_s=3, max_retries=1,
                                  max_concurrency=2, max_failures=0, backoff_s=0.0, cache_path=str(cache))
        client, why = llm.client("generation", max_retries=0, timeout_s=None)
        assert why is None
        s = client.settings
        assert (s.timeout_s, s.max_retries, s.max_concurrency, s.max_failures) == (3, 0, 2, 0)
        client.complete_many([ChatRequest([{"role": "user", "content": c}]) for c in ("ok a b", "ok c", "status:500")])
        meta = llm_metadata(client)
        again, _ = llm.client("generation")
        again.complete_many([ChatRequest([{"role": "user", "content": c}]) for c in ("ok a b", "ok c")])
        assert server.count() == 3
    assert {k: meta[k] for k in ("llm_model", "llm_calls", "llm_cached", "llm_failures", "llm_prompt_tokens",
                                 "llm_completion_tokens")} == \
        {"llm_model": "m", "llm_calls": 3, "llm_cached": 0, "llm_failures": 1, "llm_prompt_tokens": 3 + 2,
         "llm_completion_tokens": 2 + 2}
    assert llm_metadata(again)["llm_cached"] == 2 and llm_metadata(again)["llm_calls"] == 0
    assert len(LLMCache(cache)) == 2
    assert llm.client("generation", use_cache=False)[0].cache is None


def test_the_key_comes_through_envvar_and_never_shows_in_a_repr(monkeypatch, tmp_path):
    monkeypatch.setenv("CURATION_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CURATION_LLM_MODEL", "m")
    monkeypatch.setenv("CURATION_LLM_API_KEY", KEY)
    built = llm_endpoint_resource(cache_path=str(tmp_path / "c.duckdb"))
    assert isinstance(built.api_key, dg.EnvVar) and KEY not in repr(built)
    with dg.build_resources({"llm": built}) as initialized:
        resolved = initialized.llm
        client, _ = resolved.client()
        assert resolved.api_key == KEY and client.settings.api_key == KEY
        assert KEY not in repr(resolved) and KEY not in str(resolved) and KEY not in repr(client)
    # docker-compose passes unset variables as empty strings: those stay unset
    assert llm_endpoint_resource({"CURATION_LLM_BASE_URL": "x", "CURATION_LLM_MODEL": " "}).model is None


def test_the_old_resource_key_is_still_accepted(tmp_path):
    resources = build_resources("local", data_dir=tmp_path, environ={})
    old = {("naming_llm" if k == "llm" else k): v for k, v in resources.items()}
    assert with_llm_key(old).keys() == resources.keys()
    defs = build_definitions(resources=old)
    dg.Definitions.validate_loadable(defs)
    assert "llm" in defs.resolve_job_def("topic_model_job").resource_defs
    mine = LLMEndpointResource(model="x")
    assert with_llm_key({"llm": mine, "naming_llm": LLMEndpointResource()})["llm"] is mine


@pytest.mark.parametrize("purpose", ["naming='llm'", "paraphrase"])
def test_llm_settings_raise_naming_the_missing_variable(purpose):
    with pytest.raises(ValueError, match=f"^{purpose} needs an OpenAI-compatible endpoint, but CURATION_LLM_MODEL "
                                         "is not set"):
        LLMEndpointResource(base_url="http://127.0.0.1:9/v1").llm_settings(purpose=purpose)
