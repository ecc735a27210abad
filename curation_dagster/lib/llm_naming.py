"""Optional cluster names from an LLM behind an OpenAI-compatible chat completions endpoint.

Off unless asked for (TopicModelConfig.naming = "llm") and configured (CURATION_LLM_BASE_URL and
CURATION_LLM_MODEL; CURATION_LLM_API_KEY when the server wants a key). Per cluster, the model gets the
cluster's keywords and a few example instructions and answers a 2-5 word name. An answer that is empty
or not a short name, or a request that still fails after a bounded retry (each attempt with a timeout),
keeps the keyword label instead; names stay unique. The HTTP call is injectable (`post`), so the logic
here is tested without a server; only `requests` is needed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

#: Environment variables that configure the endpoint (the defs' `naming_llm` resource reads them through
#: dg.EnvVar; never run config).
ENV_BASE_URL, ENV_MODEL, ENV_API_KEY = "CURATION_LLM_BASE_URL", "CURATION_LLM_MODEL", "CURATION_LLM_API_KEY"

SYSTEM_PROMPT = (
    "You name topic clusters of user requests to a writing assistant. Answer with one name of 2 to 5 "
    "words in title case that says what the requests are about. No quotes, no explanation, nothing else."
)


@dataclass(frozen=True)
class LLMSettings:
    base_url: str  # e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1 (…/chat/completions is appended)
    model: str
    api_key: str = ""  # sent as "Authorization: Bearer <key>" when set; local servers often need none
    timeout_s: float = 20.0  # per attempt (connect and read)
    max_retries: int = 1  # attempts = 1 + max_retries, on timeouts, connection errors, 429 and 5xx
    backoff_s: float = 1.0  # sleep before retry n: backoff_s * n
    max_failures: int = 3  # after this many clusters whose request failed, stop asking (endpoint is down)

    def __repr__(self) -> str:  # never print the key
        return f"LLMSettings(base_url={self.base_url!r}, model={self.model!r}, api_key={'***' if self.api_key else ''!r})"


def settings_from_values(base_url: str | None, model: str | None, api_key: str | None = None,
                         **options) -> LLMSettings:
    """LLMSettings from the three env var values; ValueError naming what is missing."""
    missing = [name for name, value in ((ENV_BASE_URL, base_url), (ENV_MODEL, model)) if not (value or "").strip()]
    if missing:
        raise ValueError(
            f"naming='llm' needs an OpenAI-compatible endpoint, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: set {ENV_BASE_URL} and {ENV_MODEL} "
            f"(and {ENV_API_KEY} if the server needs a key), or use naming='keybert_mmr'.")
    return LLMSettings(base_url=base_url.strip(), model=model.strip(), api_key=(api_key or "").strip(), **options)


def build_messages(keywords: list[str], examples: list[str], max_keywords: int = 10,
                   max_examples: int = 5, max_example_chars: int = 200) -> list[dict]:
    """The chat messages for one cluster: its keywords and a few example instructions."""
    lines = [f"Keywords: {', '.join(keywords[:max_keywords]) or '(none)'}", "Example requests:"]
    seen: set[str] = set()
    for ex in examples:
        text = " ".join(str(ex or "").split())
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        lines.append(f"- {text[:max_example_chars]}{'…' if len(text) > max_example_chars else ''}")
        if len(seen) >= max_examples:
            break
    lines.append("Name of this cluster (2-5 words):")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_PREFIX = re.compile(r"^(?:cluster\s+name|topic\s+name|name|title|topic|label)\s*[:\-–]\s*", re.IGNORECASE)
_QUOTES = "\"'`*_“”‘’«»[]()"
_REFUSAL = re.compile(r"\b(sorry|cannot|can't|unable|as an ai|i am|i'm)\b", re.IGNORECASE)


def clean_answer(text: str | None, min_words: int = 1, max_words: int = 5, max_chars: int = 60) -> str | None:
    """The name in an answer, or None when the answer is not a short name (empty, too long, a refusal,
    no letters). Strips reasoning blocks, "Name:" prefixes, quotes, markdown and trailing punctuation."""
    if not text:
        return None
    text = _THINK.sub("", str(text))
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line.lstrip("#->•* ").strip())
    line = line.strip().strip(_QUOTES).strip().rstrip(".!?:;,").strip().strip(_QUOTES).strip()
    line = " ".join(line.split())
    words = line.split(" ") if line else []
    if not (min_words <= len(words) <= max_words) or len(line) > max_chars:
        return None
    if not re.search(r"[A-Za-z]", line) or _REFUSAL.search(line):
        return None
    if line.islower() or line.isupper():
        line = " ".join(w[:1].upper() + w[1:].lower() for w in words)
    return line


def make_unique(names: dict[int, str], hints: dict[int, list[str]] | None = None) -> dict[int, str]:
    """Case-blind unique names. In id order, the first cluster keeps a name; a later one with the same
    name gets its first hint word the name lacks, in parentheses ("Refund Requests (Luggage)"), or its id."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for c in sorted(names):
        name = names[c]
        if name.lower() in taken:
            words = {w.lower() for w in re.findall(r"[A-Za-z]+", name)}
            extra = next((h for h in (hints or {}).get(c, []) if h.lower() not in words
                          and f"{name} ({h.capitalize()})".lower() not in taken), None)
            name = f"{name} ({extra.capitalize()})" if extra else name
            if name.lower() in taken:
                name = f"{names[c]} ({c})"
        taken.add(name.lower())
        out[c] = name
    return out


Post = Callable[..., object]


class LLMRequestError(RuntimeError):
    pass


def chat_completion(settings: LLMSettings, messages: list[dict], post: Post | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> str:
    """The answer text of POST {base_url}/chat/completions (temperature 0). Retries timeouts,
    connection errors, 429 and 5xx up to `max_retries` times; raises LLMRequestError when it gives up."""
    import requests

    post = post or requests.post
    url = settings.base_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    body = {"model": settings.model, "messages": messages, "temperature": 0}
    last = "no attempt"
    for attempt in range(1 + max(0, settings.max_retries)):
        if attempt:
            sleep(settings.backoff_s * attempt)
        try:
            resp = post(url, json=body, headers=headers, timeout=settings.timeout_s)
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}"  # the message may echo the URL; never the key (headers)
            continue
        status = getattr(resp, "status_code", 0)
        if status == 429 or status >= 500:
            last = f"HTTP {status}"
            continue
        if status >= 400:
            raise LLMRequestError(f"HTTP {status}")  # a bad model name or key does not get better by retrying
        try:
            return str(resp.json()["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMRequestError("the response is not a chat completion") from None
    raise LLMRequestError(f"gave up after {1 + max(0, settings.max_retries)} attempts: {last}")


@dataclass
class LLMNames:
    names: dict[int, str]
    fallbacks: dict[int, str]  # cluster -> why it kept its keyword label


def llm_cluster_names(keywords: dict[int, list[str]], examples: dict[int, list[str]], fallback: dict[int, str],
                      settings: LLMSettings, post: Post | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> LLMNames:
    """One request per cluster (in id order); `fallback` (the keyword label) wherever the LLM gives no
    usable name. After `max_failures` failed requests the rest keep their fallback without a request."""
    names: dict[int, str] = {}
    why: dict[int, str] = {}
    failures = 0
    for c in sorted(fallback):
        if failures >= settings.max_failures:
            names[c], why[c] = fallback[c], "skipped: endpoint failing"
            continue
        try:
            answer = chat_completion(settings, build_messages(keywords.get(c, []), examples.get(c, [])), post, sleep)
        except LLMRequestError as exc:
            failures += 1
            names[c], why[c] = fallback[c], f"request failed: {exc}"
            continue
        name = clean_answer(answer)
        if name is None:
            names[c], why[c] = fallback[c], "answer is not a 2-5 word name"
        else:
            names[c] = name
    return LLMNames(make_unique(names, keywords), why)
