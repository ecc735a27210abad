"""The LLM response cache (lib.llm_cache) through the client, against the local fake server: a second
run costs no request, failures are asked again, the key follows prompt version, model and parameters."""

import pytest

from curation_dagster.lib.llm import ChatRequest, LLMClient, LLMSettings, request_key
from curation_dagster.lib.llm_cache import CachedResponse, LLMCache
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer


@pytest.fixture
def server():
    with FakeOpenAIServer() as s:
        yield s


def client(server, cache, model="test-model", **kw) -> LLMClient:
    s = LLMSettings(base_url=server.base_url, model=model, timeout_s=2.0, max_retries=0, backoff_s=0.0,
                    max_concurrency=2, **kw)
    return LLMClient(s, cache=cache)


def req(content: str, version: str = "v1", **params) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": content}], params=params, prompt_version=version)


def test_a_second_run_is_answered_from_the_cache_with_zero_requests(server, tmp_path):
    path = tmp_path / "data" / "llm_cache.duckdb"
    batch = [req("ok alpha"), req("ok beta gamma"), req("ok delta")]
    first = client(server, LLMCache(path)).complete_many(batch)
    assert server.count() == 3 and not any(r.cached for r in first)
    again = client(server, LLMCache(path))  # a new process: a new client, the same file
    second = again.complete_many(batch)
    assert server.count() == 3  # nothing asked
    assert [r.text for r in second] == ["echo: ok alpha", "echo: ok beta gamma", "echo: ok delta"]
    assert all(r.cached and r.attempts == 0 for r in second)
    # what each answer cost when it was asked is kept; this run spent nothing
    assert [(r.prompt_tokens, r.completion_tokens) for r in second] == [(2, 2), (3, 2), (2, 2)]
    meta = again.metadata()
    assert (meta["llm_calls"], meta["llm_cached"], meta["llm_prompt_tokens"], meta["llm_completion_tokens"]) == \
        (0, 3, 0, 0)
    assert len(LLMCache(path)) == 3


def test_prompt_version_model_and_parameters_are_part_of_the_key(server, tmp_path):
    cache = LLMCache(tmp_path / "c.duckdb")
    client(server, cache).complete_many([req("ok same")])
    assert server.count() == 1
    client(server, cache).complete_many([req("ok same", version="v2")])  # another prompt version
    client(server, cache, model="other-model").complete_many([req("ok same")])  # another model
    client(server, cache).complete_many([req("ok same", max_tokens=5)])  # another sampling parameter
    client(server, cache).complete_many([ChatRequest([{"role": "user", "content": "ok same"}], temperature=0.7,
                                                     prompt_version="v1")])  # another temperature
    assert server.count() == 5
    client(server, cache).complete_many([req("ok same")])  # the first one again: cached
    assert server.count() == 5 and len(cache) == 5


def test_the_key_is_canonical():
    a = ChatRequest([{"role": "user", "content": "hi"}], params={"top_p": 0.9, "seed": 1}, prompt_version="v1")
    b = ChatRequest(({"content": "hi", "role": "user"},), params={"seed": 1, "top_p": 0.9}, prompt_version="v1")
    assert request_key("v1", "m", a) == request_key("v1", "m", b)  # dict order and list/tuple do not matter
    assert len(request_key("v1", "m", a)) == 64
    assert request_key("v1", "m", a) != request_key("v1", "m2", a)
    assert request_key("v1", "m", a) != request_key("v1", "m", ChatRequest([{"role": "user", "content": "hi!"}],
                                                                           params=a.params))


def test_only_successful_answers_are_cached(server, tmp_path):
    cache = LLMCache(tmp_path / "c.duckdb")
    (failed,) = client(server, cache).complete_many([req("flaky500:1 once")])  # no retries: fails
    assert not failed.ok and len(cache) == 0
    (ok,) = client(server, cache).complete_many([req("flaky500:1 once")])  # asked again, succeeds
    assert ok.ok and not ok.cached and server.count("flaky500:1 once") == 2
    (hit,) = client(server, cache).complete_many([req("flaky500:1 once")])
    assert hit.cached and hit.text == ok.text and server.count("flaky500:1 once") == 2
    client(server, cache).complete_many([req("malformed"), req("status:400")])
    assert len(cache) == 1


def test_a_request_repeated_in_a_batch_is_asked_once(server, tmp_path):
    c = client(server, LLMCache(tmp_path / "c.duckdb"))
    results = c.complete_many([req("ok x"), req("ok y"), req("ok x"), req("ok x")])
    assert server.count("ok x") == 1 and server.count("ok y") == 1
    assert [r.text for r in results] == ["echo: ok x", "echo: ok y", "echo: ok x", "echo: ok x"]
    assert [r.cached for r in results] == [False, False, True, True]
    assert (c.usage.calls, c.usage.cached, c.usage.requests) == (2, 2, 4)


def test_without_a_cache_every_run_asks(server):
    client(server, None).complete_many([req("ok a")])
    client(server, None).complete_many([req("ok a")])
    assert server.count() == 2


def test_the_first_answer_stored_for_a_key_stays(tmp_path):
    cache = LLMCache(tmp_path / "c.duckdb")
    cache.put({"k1": CachedResponse("v1", "m", "first", 3, 4, "stop")})
    cache.put({"k1": CachedResponse("v1", "m", "second", 9, 9, "length"),
               "k2": CachedResponse("v1", "m", "other")})
    got = LLMCache(tmp_path / "c.duckdb").get(["k1", "k2", "missing"])
    assert got == {"k1": CachedResponse("v1", "m", "first", 3, 4, "stop"),
                   "k2": CachedResponse("v1", "m", "other", 0, 0, None)}
    assert cache.get([]) == {} and len(cache) == 2


def test_an_unreadable_cache_costs_calls_not_the_run(server):
    class Broken:
        path = "broken.duckdb"

        def get(self, keys):
            raise OSError("IO Error: Could not set lock on file")

        def put(self, items):
            raise OSError("IO Error: Could not set lock on file")

    c = client(server, Broken())
    (res,) = c.complete_many([req("ok still")])
    assert res.text == "echo: ok still" and server.count() == 1
    assert c.usage.cache_error == "OSError: IO Error: Could not set lock on file"
