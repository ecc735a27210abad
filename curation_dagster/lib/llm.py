"""One OpenAI-compatible chat client for every model call (naming, judging, generation, paraphrase).

Every server that speaks the OpenAI chat completions protocol works: OpenAI, vLLM (`vllm serve MODEL`,
http://127.0.0.1:8000/v1), Ollama (http://127.0.0.1:11434/v1), llama.cpp's `llama-server`. The client
POSTs {base_url}/chat/completions and:

- runs a batch (`complete_many`) on a thread pool of at most `max_concurrency` requests in flight;
- bounds each attempt with `timeout_s` (connect and read) and retries timeouts, connection errors,
  429 and 5xx up to `max_retries` times with exponential backoff (`backoff_s`, 2x, 4x, ... capped at
  `max_backoff_s`), honouring a Retry-After header (seconds or an HTTP date, same cap); other 4xx
  and a malformed body are not retried (they do not get better by asking again);
- stops asking once `max_failures` requests of a batch have failed (the endpoint is down), and
  answers the rest "skipped: endpoint failing" without a request;
- answers from a response cache (lib.llm_cache) when one is given: the key is the prompt version,
  the model and the canonical request, so a re-run or backfill costs no calls; only successful
  answers are stored;
- counts requests, calls, retries, cache hits, failures and the tokens of the `usage` field, for
  the asset's metadata (`LLMClient.metadata()`).

The API key is sent as "Authorization: Bearer <key>" and appears in no repr, error or metadata.
The HTTP call is injectable (`post`, the signature of requests.post), as is `sleep`. No Dagster here.
"""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Callable

from curation_dagster.lib.text import sha256_hex

#: Environment variables that configure the endpoint (the defs' `llm` resource reads them through
#: dg.EnvVar; never run config).
ENV_BASE_URL, ENV_MODEL, ENV_API_KEY = "CURATION_LLM_BASE_URL", "CURATION_LLM_MODEL", "CURATION_LLM_API_KEY"

#: The error text of a request not sent because the batch already had `max_failures` failures.
SKIPPED = "skipped: endpoint failing"

Post = Callable[..., object]


@dataclass(frozen=True)
class LLMSettings:
    base_url: str  # e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1 (…/chat/completions is appended)
    model: str
    api_key: str = ""  # sent as "Authorization: Bearer <key>" when set; local servers often need none
    timeout_s: float = 20.0  # per attempt (connect and read)
    max_retries: int = 2  # attempts = 1 + max_retries, on timeouts, connection errors, 429 and 5xx
    backoff_s: float = 1.0  # sleep before retry n: backoff_s * 2**(n-1), at most max_backoff_s
    max_backoff_s: float = 30.0  # cap of the backoff and of a server's Retry-After
    max_concurrency: int = 1  # requests in flight at once in a batch (the defs' resource sets 4)
    max_failures: int = 3  # after this many failed requests in a batch, stop asking (0: never stop)

    def __repr__(self) -> str:  # never print the key
        return (f"LLMSettings(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key={'***' if self.api_key else ''!r}, timeout_s={self.timeout_s}, "
                f"max_retries={self.max_retries}, max_concurrency={self.max_concurrency})")

    __str__ = __repr__


_JSON_FENCE = re.compile(r"^```(?:json)?\s*\n(.*)\n```$", re.DOTALL)


def unfenced(answer: str) -> str:
    """The answer stripped, without a ```json fence around the whole of it (the one wrapping models add
    that the strict JSON parsers of doc_qa and variants accept)."""
    body = answer.strip()
    m = _JSON_FENCE.match(body)
    return m.group(1).strip() if m else body


def missing_variables(base_url: str | None, model: str | None) -> list[str]:
    """The env vars (of base URL and model) that are unset or blank."""
    return [name for name, value in ((ENV_BASE_URL, base_url), (ENV_MODEL, model)) if not (value or "").strip()]


def not_configured_message(missing: list[str], purpose: str = "this step", hint: str = "") -> str:
    """Why `purpose` cannot call the LLM: which variables to set (and `hint`, another way out)."""
    return (f"{purpose} needs an OpenAI-compatible endpoint, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: set {ENV_BASE_URL} and {ENV_MODEL} "
            f"(and {ENV_API_KEY} if the server needs a key){', ' + hint if hint else ''}.")


def settings_from_values(base_url: str | None, model: str | None, api_key: str | None = None, *,
                         purpose: str = "this step", hint: str = "", **options) -> LLMSettings:
    """LLMSettings from the three env var values; ValueError naming what is missing."""
    missing = missing_variables(base_url, model)
    if missing:
        raise ValueError(not_configured_message(missing, purpose, hint))
    return LLMSettings(base_url=base_url.strip(), model=model.strip(), api_key=(api_key or "").strip(), **options)


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to ask for. `params` are sampling parameters sent with it (max_tokens,
    top_p, seed, response_format, ...); they, the messages, the model and `prompt_version` make the
    cache key. Bump `prompt_version` when what is done with the answer changes but the prompt does not."""

    messages: tuple | list
    temperature: float = 0.0
    params: dict = field(default_factory=dict)
    prompt_version: str = ""

    def body(self, model: str) -> dict:
        return {"model": model, "messages": list(self.messages), "temperature": self.temperature, **self.params}


@dataclass(frozen=True)
class ChatResult:
    text: str | None  # the answer (message content), None when the request failed
    error: str | None = None  # why there is no answer ("HTTP 401", "gave up after 3 attempts: HTTP 503", ...)
    prompt_tokens: int = 0  # from the response's `usage` (what the answer cost when it was asked)
    completion_tokens: int = 0
    attempts: int = 0  # HTTP requests this result took (0: from the cache, or skipped)
    cached: bool = False  # answered without a call: from the cache, or the same request earlier in the batch
    finish_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def skipped(self) -> bool:
        return self.error == SKIPPED


@dataclass
class LLMUsage:
    """What a client spent, for metadata. `calls` are HTTP requests sent (retries included); tokens
    are those of answers received now (cached answers cost none)."""

    requests: int = 0  # results asked for
    calls: int = 0
    retries: int = 0
    cached: int = 0
    failures: int = 0  # results with an error, skipped ones included
    skipped: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_error: str | None = None  # the cache could not be read or written (the calls went ahead)


class LLMRequestError(RuntimeError):
    pass


def request_key(prompt_version: str, model: str, request: ChatRequest) -> str:
    """sha256 of (prompt version, model, canonical JSON of messages + sampling parameters): the same
    request whatever the key order of its dicts; another model, prompt version or parameter, another key."""
    payload = {"messages": list(request.messages), "temperature": request.temperature, "params": request.params}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return sha256_hex("\x1f".join(["llm-chat/1", prompt_version, model, canonical]))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header in seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _tokens(usage, name: str) -> int:
    try:
        return max(0, int((usage or {}).get(name) or 0))
    except (TypeError, ValueError, AttributeError):
        return 0


class _Breaker:
    def __init__(self, limit: int):
        self.limit, self.failures, self.lock = limit, 0, threading.Lock()

    @property
    def open(self) -> bool:
        return self.limit > 0 and self.failures >= self.limit

    def fail(self) -> None:
        with self.lock:
            self.failures += 1


class LLMClient:
    """Chat completions against one endpoint; `usage` counts what it spent (thread-safe)."""

    def __init__(self, settings: LLMSettings, cache=None, post: Post | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.cache = cache  # lib.llm_cache.LLMCache (get/put by key), or None
        self._post = post
        self._sleep = sleep
        self.usage = LLMUsage()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LLMClient({self.settings!r}, cache={getattr(self.cache, 'path', None)!r})"

    @property
    def model(self) -> str:
        return self.settings.model

    def key(self, request: ChatRequest) -> str:
        return request_key(request.prompt_version, self.settings.model, request)

    def chat(self, messages: list[dict], temperature: float = 0.0, prompt_version: str = "",
             **params) -> ChatResult:
        """One chat completion (cache first)."""
        return self.complete_many([ChatRequest(messages, temperature, params, prompt_version)])[0]

    def complete_many(self, requests: list[ChatRequest], max_concurrency: int | None = None) -> list[ChatResult]:
        """A result per request, in request order. Cached answers cost no call; a request repeated
        in the batch is asked once; the rest run on at most `max_concurrency` threads
        (settings.max_concurrency when None), in request order."""
        requests = list(requests)
        keys = [self.key(r) for r in requests]
        found = self._cache_get(keys)
        todo: dict[str, int] = {}  # key -> first request with it, in request order
        for i, k in enumerate(keys):
            if k not in found and k not in todo:
                todo[k] = i
        fresh: dict[str, ChatResult] = {}
        if todo:
            workers = max(1, min(int(max_concurrency or self.settings.max_concurrency or 1), len(todo)))
            breaker = _Breaker(self.settings.max_failures)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm") as pool:
                futures = {pool.submit(self._ask, requests[i], breaker): k for k, i in todo.items()}
                unsaved: dict[str, ChatResult] = {}
                for fut in as_completed(futures):
                    k = futures[fut]
                    fresh[k] = fut.result()
                    if fresh[k].ok:
                        unsaved[k] = fresh[k]
                    if len(unsaved) >= 32:  # a crash mid-batch keeps what was already paid for
                        self._cache_put(unsaved, requests, todo)
                        unsaved = {}
                self._cache_put(unsaved, requests, todo)
        results: list[ChatResult] = []
        for i, k in enumerate(keys):
            if k in found:
                results.append(found[k])
            elif todo[k] == i:
                results.append(fresh[k])
            else:  # the same request earlier in this batch
                res = fresh[k]
                results.append(replace(res, attempts=0, cached=res.ok))
        with self._lock:
            u = self.usage
            u.requests += len(results)
            u.cached += sum(r.cached for r in results)
            u.failures += sum(not r.ok for r in results)
            u.skipped += sum(r.skipped for r in results)
        return results

    def metadata(self) -> dict:
        """Counts for an asset's metadata (plain values)."""
        u = self.usage
        return {"llm_model": self.settings.model, "llm_requests": u.requests, "llm_calls": u.calls,
                "llm_retries": u.retries, "llm_cached": u.cached, "llm_failures": u.failures,
                "llm_skipped": u.skipped, "llm_prompt_tokens": u.prompt_tokens,
                "llm_completion_tokens": u.completion_tokens}

    # -- internals ---------------------------------------------------------------------------------

    def _cache_get(self, keys: list[str]) -> dict[str, ChatResult]:
        if self.cache is None or not keys:
            return {}
        try:
            rows = self.cache.get(keys)
        except Exception as exc:  # noqa: BLE001 - a locked or broken cache file costs calls, not the run
            self.usage.cache_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            return {}
        return {k: ChatResult(text=r.text, prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens,
                              cached=True, finish_reason=r.finish_reason) for k, r in rows.items()}

    def _cache_put(self, results: dict[str, ChatResult], requests: list[ChatRequest], todo: dict[str, int]) -> None:
        if self.cache is None or not results:
            return
        from curation_dagster.lib.llm_cache import CachedResponse

        items = {k: CachedResponse(requests[todo[k]].prompt_version, self.settings.model, r.text or "",
                                   r.prompt_tokens, r.completion_tokens, r.finish_reason)
                 for k, r in results.items()}
        try:
            self.cache.put(items)
        except Exception as exc:  # noqa: BLE001
            self.usage.cache_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    def _count(self, **deltas) -> None:
        with self._lock:
            for name, d in deltas.items():
                setattr(self.usage, name, getattr(self.usage, name) + d)

    def _delay(self, attempt: int, resp=None) -> float:
        s = self.settings
        header = None
        if resp is not None:
            headers = getattr(resp, "headers", None) or {}
            header = headers.get("Retry-After") if hasattr(headers, "get") else None
        wait = retry_after_seconds(header)
        if wait is None:
            wait = s.backoff_s * (2 ** max(0, attempt - 1))
        return max(0.0, min(wait, s.max_backoff_s))

    def _ask(self, request: ChatRequest, breaker: _Breaker) -> ChatResult:
        if breaker.open:
            return ChatResult(text=None, error=SKIPPED)
        res = self._attempts(request)
        if not res.ok:
            breaker.fail()
        return res

    def _attempts(self, request: ChatRequest) -> ChatResult:
        import requests as http

        s = self.settings
        post = self._post or http.post
        url = s.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if s.api_key:
            headers["Authorization"] = f"Bearer {s.api_key}"
        body = request.body(s.model)
        total = 1 + max(0, int(s.max_retries))
        last, delay = "no attempt", 0.0
        for attempt in range(1, total + 1):
            if attempt > 1:
                self._sleep(delay)
                self._count(retries=1)
            self._count(calls=1)
            try:
                resp = post(url, json=body, headers=headers, timeout=s.timeout_s)
            except http.RequestException as exc:
                last = type(exc).__name__  # the message may echo the URL; never the key (headers)
                delay = self._delay(attempt)
                continue
            status = int(getattr(resp, "status_code", 0) or 0)
            if status == 429 or status >= 500:
                last, delay = f"HTTP {status}", self._delay(attempt, resp)
                continue
            if status >= 400 or status < 200:  # a bad model name or key does not get better by retrying
                return ChatResult(text=None, error=f"HTTP {status}", attempts=attempt)
            try:
                data = resp.json()
                choice = data["choices"][0]
                text = choice["message"]["content"]
                if text is not None and not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, IndexError, TypeError):
                return ChatResult(text=None, error="the response is not a chat completion", attempts=attempt)
            usage = data.get("usage") if isinstance(data, dict) else None
            pt, ct = _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")
            self._count(prompt_tokens=pt, completion_tokens=ct)
            reason = choice.get("finish_reason") if isinstance(choice, dict) else None
            return ChatResult(text=text or "", prompt_tokens=pt, completion_tokens=ct, attempts=attempt,
                              finish_reason=str(reason) if reason is not None else None)
        return ChatResult(text=None, error=f"gave up after {total} attempts: {last}", attempts=total)
