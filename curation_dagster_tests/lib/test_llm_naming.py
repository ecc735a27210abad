"""LLM cluster names against a real OpenAI-compatible HTTP server on 127.0.0.1 (canned answers)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from curation_dagster.lib.llm_naming import (LLMSettings, build_messages, clean_answer, llm_cluster_names,
                                             make_unique, settings_from_values)


class FakeLLM:
    """POST /v1/chat/completions: the answer is chosen by the first keyword in the prompt
    (`answers`: keyword -> text, or ("status", code), or ("hang", seconds)). Records every request."""

    def __init__(self, answers: dict):
        self.answers = answers
        self.requests: list[dict] = []
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                prompt = body["messages"][-1]["content"]
                first = prompt.split("Keywords: ", 1)[1].split(",")[0].split("\n")[0].strip()
                answer = fake.answers.get(first, "Generic Topic")
                if isinstance(answer, tuple) and answer[0] == "hang":
                    fake.release.wait(answer[1])
                    return self._send(200, {"choices": [{"message": {"content": "Too Late"}}]})
                if isinstance(answer, tuple) and answer[0] == "status":
                    return self._send(answer[1], {"error": "boom"})
                self._send(200, {"id": "x", "object": "chat.completion", "model": body["model"],
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                                              "finish_reason": "stop"}]})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def settings(self, **kw) -> LLMSettings:
        opts = {"timeout_s": 1.0, "max_retries": 1, "backoff_s": 0.0, **kw}
        return LLMSettings(base_url=self.base_url, model="test-model", api_key="sk-test-123", **opts)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


KEYWORDS = {0: ["invoice", "delayed", "payment"], 1: ["meeting", "roadmap", "planning"],
            2: ["sync", "bug", "workaround"], 3: ["interview", "designer", "thank"]}
FALLBACK = {0: "Invoice · Delayed · Payment", 1: "Meeting · Roadmap · Planning", 2: "Sync · Bug · Workaround",
            3: "Interview · Designer · Thank"}
EXAMPLES = {c: [f"example request {c}.{i} about {' '.join(ws)}" for i in range(7)] for c, ws in KEYWORDS.items()}


def test_names_come_from_the_endpoint_with_model_key_and_keywords():
    answers = {"invoice": "Late Invoice Payments", "meeting": '"Roadmap Planning Meetings"',
               "sync": "Name: App sync bugs.", "interview": "interview thank-you notes"}
    with FakeLLM(answers) as llm:
        res = llm_cluster_names(KEYWORDS, EXAMPLES, FALLBACK, llm.settings())
    assert res.names == {0: "Late Invoice Payments", 1: "Roadmap Planning Meetings", 2: "App sync bugs",
                         3: "Interview Thank-you Notes"}
    assert res.fallbacks == {}
    assert len(llm.requests) == 4
    for c, req in zip(sorted(KEYWORDS), llm.requests):
        body, headers = req["body"], {k.lower(): v for k, v in req["headers"].items()}
        assert req["path"] == "/v1/chat/completions"
        assert body["model"] == "test-model" and body["temperature"] == 0
        assert headers["authorization"] == "Bearer sk-test-123"
        prompt = body["messages"][-1]["content"]
        assert all(w in prompt for w in KEYWORDS[c])
        assert sum(line.startswith("- example request") for line in prompt.splitlines()) == 5  # ~5 examples
        assert body["messages"][0]["role"] == "system"


def test_garbage_empty_and_server_errors_fall_back_to_the_keyword_label():
    answers = {"invoice": "", "meeting": "Sure! Here is a name for this cluster of requests about planning "
               "the quarterly roadmap meetings with the team", "sync": ("status", 500), "interview": "!!!"}
    with FakeLLM(answers) as llm:
        res = llm_cluster_names(KEYWORDS, EXAMPLES, FALLBACK, llm.settings(max_failures=5))
    assert res.names == FALLBACK
    assert set(res.fallbacks) == {0, 1, 2, 3} and "HTTP 500" in res.fallbacks[2]
    paths = [r["body"]["messages"][-1]["content"].split("Keywords: ")[1][:4] for r in llm.requests]
    assert paths.count("sync") == 2  # one retry, then the fallback: bounded


def test_duplicate_answers_are_disambiguated():
    answers = {"invoice": "Customer Support Replies", "meeting": "customer support replies",
               "sync": "Customer Support Replies", "interview": "Job Interviews"}
    with FakeLLM(answers) as llm:
        names = llm_cluster_names(KEYWORDS, EXAMPLES, FALLBACK, llm.settings()).names
    assert names[0] == "Customer Support Replies"
    assert names[1] == "Customer Support Replies (Meeting)" and names[2] == "Customer Support Replies (Sync)"
    assert len({n.lower() for n in names.values()}) == 4


def test_a_server_that_never_answers_times_out_and_falls_back():
    answers = {"invoice": ("hang", 30), "meeting": "Roadmap Meetings", "sync": ("hang", 30), "interview": ("hang", 30)}
    with FakeLLM(answers) as llm:
        t0 = time.perf_counter()
        res = llm_cluster_names(KEYWORDS, EXAMPLES, FALLBACK,
                                llm.settings(timeout_s=0.5, max_retries=1, max_failures=2))
        elapsed = time.perf_counter() - t0
    assert res.names == {0: FALLBACK[0], 1: "Roadmap Meetings", 2: FALLBACK[2], 3: FALLBACK[3]}
    assert "ReadTimeout" in res.fallbacks[0] and res.fallbacks[3] == "skipped: endpoint failing"
    assert len(llm.requests) == 2 + 1 + 2  # two clusters x (1 + 1 retry), then no more requests
    assert elapsed < 6  # 4 timed-out attempts of 0.5 s, not 30 s each


def test_client_errors_are_not_retried():
    with FakeLLM({"invoice": ("status", 401)}) as llm:
        res = llm_cluster_names({0: KEYWORDS[0]}, EXAMPLES, {0: FALLBACK[0]}, llm.settings(max_retries=3))
    assert res.names == {0: FALLBACK[0]} and len(llm.requests) == 1 and "401" in res.fallbacks[0]


def test_clean_answer():
    assert clean_answer('  "Delayed Invoices."  ') == "Delayed Invoices"
    assert clean_answer("**Title:** `Refund Requests`\nBecause the requests are about refunds.") == "Refund Requests"
    assert clean_answer("<think>keywords say invoices</think>\nLate invoice payments") == "Late invoice payments"
    assert clean_answer("DELAYED INVOICES") == "Delayed Invoices"
    for garbage in (None, "", "   ", "\"\"", "...", "12345", "I'm sorry, I cannot help with that",
                    "One two three four five six words"):
        assert clean_answer(garbage) is None, garbage
    assert clean_answer("x" * 61) is None


def test_prompt_carries_keywords_and_five_distinct_examples():
    msgs = build_messages(["invoice", "delayed"], ["a  b", "a b", "c", "d", "e", "f", "g", "h" * 300])
    user = msgs[-1]["content"]
    assert "Keywords: invoice, delayed" in user and "2-5 words" in user
    assert [ln for ln in user.splitlines() if ln.startswith("- ")] == ["- a b", "- c", "- d", "- e", "- f"]


def test_make_unique_and_settings():
    assert make_unique({1: "Refunds", 0: "refunds", 2: "Refunds"}, {1: ["refunds", "luggage"], 2: []}) == \
        {0: "refunds", 1: "Refunds (Luggage)", 2: "Refunds (2)"}
    with pytest.raises(ValueError, match="CURATION_LLM_BASE_URL and CURATION_LLM_MODEL are not set"):
        settings_from_values("", None, "key")
    s = settings_from_values(" http://h/v1 ", "m", None)
    assert (s.base_url, s.model, s.api_key) == ("http://h/v1", "m", "")
    assert "secret" not in repr(settings_from_values("http://h", "m", "secret"))


def test_fit_topic_model_with_llm_names():
    from curation_dagster.lib.clustering import ClusterSettings
    from curation_dagster.lib.topic_model import fit_topic_model

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(2, 8)) * 4
    x = np.concatenate([c + rng.normal(size=(30, 8)) for c in centers]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    docs = ["invoice payment overdue"] * 30 + ["interview candidate role"] * 30
    s = ClusterSettings(algorithm="kmeans", kmeans_k=2, seed=0)
    ids = [f"g{i:03d}" for i in range(60)]
    with FakeLLM({"invoice": "Overdue Invoices", "candidate": ("status", 503)}) as llm:
        m = fit_topic_model(ids, x, docs, s, naming="llm", llm=llm.settings())
    assert m.naming == "llm"
    assert sorted(m.names.values()) == ["Overdue Invoices", "candidate / interview / role"]
    assert list(m.naming_fallbacks.values()) == ["request failed: gave up after 2 attempts: HTTP 503"]
    assert m.version == fit_topic_model(ids, x, docs, s, naming="ctfidf").version
