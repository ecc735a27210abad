"""lib.llm's chat client against a real OpenAI-compatible HTTP server on 127.0.0.1 (scripted answers:
llm_fake_server.py). No LLM runs here; every error path (429, 5xx, 4xx, malformed bodies, timeouts,
a closed port) is a real HTTP exchange."""

import socket
import time

import pytest

from curation_dagster.lib.llm import (SKIPPED, ChatRequest, LLMClient, LLMSettings, retry_after_seconds,
                                      settings_from_values)
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

KEY = "sk-test-llm-client-0123456789"


def settings(server, **kw) -> LLMSettings:
    opts = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.0, **kw}
    return LLMSettings(base_url=server.base_url, model="test-model", api_key=KEY, **opts)


def user(content: str) -> ChatRequest:
    return ChatRequest([{"role": "system", "content": "be brief"}, {"role": "user", "content": content}])


class Sleeps(list):
    """An injected sleep that records how long it was asked to wait, and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server():
    with FakeOpenAIServer() as s:
        yield s


def test_answers_come_back_in_order_with_tokens_summed_and_the_protocol_body(server):
    client = LLMClient(settings(server))
    contents = ["ok one", "ok one two", "ok one two three"]
    reqs = [ChatRequest([{"role": "user", "content": c}], params={"max_tokens": 16}) for c in contents]
    results = client.complete_many(reqs)
    assert [r.text for r in results] == ["echo: ok one", "echo: ok one two", "echo: ok one two three"]
    assert [(r.prompt_tokens, r.completion_tokens, r.attempts, r.cached) for r in results] == \
        [(2, 2, 1, False), (3, 2, 1, False), (4, 2, 1, False)]
    assert all(r.ok and r.finish_reason == "stop" for r in results)
    u = client.usage
    assert (u.requests, u.calls, u.retries, u.cached, u.failures) == (3, 3, 0, 0, 0)
    assert (u.prompt_tokens, u.completion_tokens) == (2 + 3 + 4, 3 * 2)
    assert server.count() == 3
    req = server.requests[0]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert req["path"] == "/v1/chat/completions"
    assert headers["authorization"] == f"Bearer {KEY}" and headers["content-type"] == "application/json"
    assert {k: req["body"][k] for k in ("model", "temperature", "max_tokens")} == \
        {"model": "test-model", "temperature": 0.0, "max_tokens": 16}
    meta = client.metadata()
    assert (meta["llm_model"], meta["llm_calls"], meta["llm_prompt_tokens"], meta["llm_completion_tokens"]) == \
        ("test-model", 3, 9, 6)
    assert KEY not in repr(meta)


def test_no_key_no_authorization_header(server):
    s = LLMSettings(base_url=server.base_url + "/", model="m")  # a trailing slash is fine too
    assert LLMClient(s).chat([{"role": "user", "content": "ok hi"}]).text == "echo: ok hi"
    assert "authorization" not in {k.lower() for k in server.requests[0]["headers"]}


def test_429_then_ok_waits_what_retry_after_says_capped(server):
    sleeps = Sleeps()
    client = LLMClient(settings(server, backoff_s=0.25, max_backoff_s=10.0), sleep=sleeps)
    honoured, capped, no_header = client.complete_many(
        [user("flaky429:1 retry-after=7 a"), user("flaky429:1 retry-after=120 b"), user("flaky429:2 c")])
    assert honoured.text == "echo: flaky429:1 retry-after=7 a" and honoured.attempts == 2
    assert capped.ok and capped.attempts == 2 and no_header.ok and no_header.attempts == 3
    # 7 s as asked; 120 s capped at max_backoff_s; no header: backoff 0.25 then 0.5 (exponential)
    assert sorted(sleeps) == [0.25, 0.5, 7.0, 10.0]
    assert server.count() == 2 + 2 + 3
    assert (client.usage.calls, client.usage.retries, client.usage.failures) == (7, 4, 0)


def test_500_then_ok_backs_off_exponentially(server):
    sleeps = Sleeps()
    client = LLMClient(settings(server, max_retries=3, backoff_s=0.5), sleep=sleeps)
    res = client.chat([{"role": "user", "content": "flaky500:3 x"}])
    assert res.ok and res.text == "echo: flaky500:3 x" and res.attempts == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert server.count("flaky500:3 x") == 4 and client.usage.retries == 3


def test_5xx_that_persists_gives_up_after_max_retries(server):
    client = LLMClient(settings(server, max_retries=2))
    res = client.chat([{"role": "user", "content": "always503"}])
    assert not res.ok and res.text is None
    assert res.error == "gave up after 3 attempts: HTTP 503" and res.attempts == 3
    assert server.count() == 3 and client.usage.failures == 1


@pytest.mark.parametrize("content, error", [("malformed", "the response is not a chat completion"),
                                            ("nochoices", "the response is not a chat completion"),
                                            ("status:400", "HTTP 400"), ("status:401", "HTTP 401"),
                                            ("status:404", "HTTP 404")])
def test_malformed_bodies_and_client_errors_fail_without_a_retry(server, content, error):
    client = LLMClient(settings(server, max_retries=3))
    res = client.chat([{"role": "user", "content": content}])
    assert (res.ok, res.error, res.attempts) == (False, error, 1)
    assert server.count() == 1 and client.usage.retries == 0 and client.usage.failures == 1


def test_an_answer_slower_than_the_timeout_is_retried_then_given_up(server):
    client = LLMClient(settings(server, timeout_s=0.3, max_retries=1))
    t0 = time.perf_counter()
    res = client.chat([{"role": "user", "content": "slow:5 z"}])
    elapsed = time.perf_counter() - t0
    assert res.error == "gave up after 2 attempts: ReadTimeout" and res.attempts == 2
    assert server.count() == 2
    assert elapsed < 3.0  # two attempts of 0.3 s, not 5 s each


def test_a_closed_port_is_a_connection_error_retried_then_given_up():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = LLMClient(LLMSettings(base_url=f"http://127.0.0.1:{port}/v1", model="m", api_key=KEY,
                                   timeout_s=1.0, max_retries=1, backoff_s=0.0))
    res = client.chat([{"role": "user", "content": "ok"}])
    assert res.error == "gave up after 2 attempts: ConnectionError"
    assert client.usage.calls == 2
    assert KEY not in res.error and str(port) not in res.error


@pytest.mark.parametrize("limit", [1, 3])
def test_requests_in_flight_never_exceed_max_concurrency(server, limit):
    contents = [f"delay:0.15 n{i}" for i in range(9)]
    client = LLMClient(settings(server, max_concurrency=limit))
    t0 = time.perf_counter()
    results = client.complete_many([user(c) for c in contents])
    elapsed = time.perf_counter() - t0
    assert [r.text for r in results] == [f"echo: {c}" for c in contents]  # request order, whatever finished first
    assert server.max_in_flight == limit  # bounded, and the bound is used
    assert elapsed >= 0.15 * 9 / limit - 0.05


def test_argument_overrides_the_settings_concurrency(server):
    client = LLMClient(settings(server, max_concurrency=8))
    client.complete_many([user(f"delay:0.1 m{i}") for i in range(4)], max_concurrency=2)
    assert server.max_in_flight == 2


def test_after_max_failures_the_rest_of_the_batch_is_skipped_without_requests(server):
    client = LLMClient(settings(server, max_retries=0, max_failures=2, max_concurrency=1))
    results = client.complete_many([user(f"status:500 r{i}") for i in range(3)] + [user("ok after")])
    assert [r.error for r in results] == ["gave up after 1 attempts: HTTP 500"] * 2 + [SKIPPED, SKIPPED]
    assert [r.skipped for r in results] == [False, False, True, True]
    assert server.count() == 2
    assert (client.usage.failures, client.usage.skipped, client.usage.calls) == (4, 2, 2)
    # a new batch asks again; max_failures 0 never stops
    unlimited = LLMClient(settings(server, max_retries=0, max_failures=0, max_concurrency=1))
    assert not any(r.skipped for r in unlimited.complete_many([user(f"status:500 s{i}") for i in range(5)]))
    assert server.count() == 2 + 5


def test_the_key_is_in_no_repr_and_settings_name_what_is_missing(server):
    s = settings(server)
    client = LLMClient(s)
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in repr(client)
    assert "api_key='***'" in repr(s)
    with pytest.raises(ValueError, match="judging needs an OpenAI-compatible endpoint, but CURATION_LLM_MODEL is "
                                         "not set: set CURATION_LLM_BASE_URL and CURATION_LLM_MODEL"):
        settings_from_values("http://127.0.0.1:1/v1", " ", KEY, purpose="judging")
    built = settings_from_values(" http://h/v1 ", " m ", None, max_concurrency=5)
    assert (built.base_url, built.model, built.api_key, built.max_concurrency) == ("http://h/v1", "m", "", 5)


def test_retry_after_header_forms():
    assert retry_after_seconds("3") == 3.0 and retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds("-4") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    # an HTTP date 30 s after "now"
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 GMT", now=1767225600.0) == 30.0
