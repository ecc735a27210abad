"""A local OpenAI-compatible chat completions server on 127.0.0.1 with scripted, protocol-correct answers.

No LLM runs on the test machines: this server stands in for one. What it does for a request is read
from the last message's content (its first word is the directive):

    ok ...                200, answer "echo: <content>", usage prompt_tokens = words in the content,
                          completion_tokens = 2
    slow:<s> ...          sleeps <s> seconds before answering (longer than the client's timeout)
    delay:<s> ...         sleeps <s> seconds, then answers (to measure requests in flight)
    flaky429:<n> ...      answers 429 the first <n> times this exact content is asked, then 200;
                          `retry-after=<v>` anywhere in the content sends "Retry-After: <v>"
    flaky500:<n> ...      the same with 500
    always503 ...         503 every time
    status:<code> ...     that status every time (a 4xx)
    malformed ...         200 with a body that is not JSON
    nochoices ...         200 with JSON that is not a chat completion

A test may pass `respond(body) -> str | float | None`, asked first for every request: a str is the
answer's content (200, usage as above), a float makes the server wait that many seconds (or until it
stops) before answering "late" (a timeout for a client with a shorter one), None falls through to the
directives above. The LLM judge's tests answer with scripted verdicts this way.

It records every request (path, headers, body), counts them per content, and the most requests it
held at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class FakeOpenAIServer:
    def __init__(self, respond: Callable[[dict], str | float | None] | None = None):
        self.respond = respond
        self.requests: list[dict] = []
        self.per_content: Counter = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                content = body["messages"][-1]["content"]
                with fake.lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    fake.per_content[content] += 1
                    seen = fake.per_content[content]
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                self._counted = True
                try:
                    self._answer(body, content, seen)
                finally:
                    self._leave()

            def _leave(self):
                # A request stops being in flight before its answer is written: once the client has read
                # the answer it may send the next one, which must not find this one still counted.
                if getattr(self, "_counted", False):
                    self._counted = False
                    with fake.lock:
                        fake.in_flight -= 1

            def _answer(self, body, content, seen):
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                scripted = fake.respond(body) if fake.respond is not None else None
                if isinstance(scripted, (int, float)) and not isinstance(scripted, bool):
                    fake.stop.wait(float(scripted))
                    scripted = "late"
                if isinstance(scripted, str):
                    return self._completion(body, content, scripted)
                word = content.split()[0]
                directive, _, arg = word.partition(":")
                headers = {}
                for token in content.split():
                    if token.startswith("retry-after="):
                        headers["Retry-After"] = token.split("=", 1)[1]
                if directive == "slow":
                    fake.stop.wait(float(arg))
                elif directive == "delay":
                    time.sleep(float(arg))
                elif directive in ("flaky429", "flaky500") and seen <= int(arg):
                    code = 429 if directive == "flaky429" else 500
                    return self._send(code, {"error": {"message": "try again", "type": "rate_limit"}}, headers)
                elif directive == "always503":
                    return self._send(503, {"error": {"message": "overloaded"}})
                elif directive == "status":
                    return self._send(int(arg), {"error": {"message": "client error"}})
                elif directive == "malformed":
                    return self._send_raw(200, b'{"id": "x", "choices": [{"message": {"content": "cut')
                elif directive == "nochoices":
                    return self._send(200, {"id": "x", "object": "chat.completion", "model": body["model"]})
                self._completion(body, content, f"echo: {content}")

            def _completion(self, body, content, answer):
                completion = 2 if answer.startswith("echo: ") else len(answer.split())
                self._send(200, {
                    "id": f"chatcmpl-{len(fake.requests)}", "object": "chat.completion", "created": 1767225600,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(content.split()), "completion_tokens": completion,
                              "total_tokens": len(content.split()) + completion}})

            def _send(self, status, payload, headers=None):
                self._send_raw(status, json.dumps(payload).encode(), headers)

            def _send_raw(self, status, data, headers=None):
                self._leave()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def count(self, content: str | None = None) -> int:
        with self.lock:
            return len(self.requests) if content is None else self.per_content[content]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
