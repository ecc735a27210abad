"""Optional cluster names from an LLM behind an OpenAI-compatible chat completions endpoint.

Off unless asked for (TopicModelConfig.naming = "llm") and configured (CURATION_LLM_BASE_URL and
CURATION_LLM_MODEL; CURATION_LLM_API_KEY when the server wants a key). Per cluster, the model gets the
cluster's keywords and a few example instructions and answers a 2-5 word name. An answer that is empty
or not a short name, or a request that still fails after a bounded retry (each attempt with a timeout),
keeps the keyword label instead; names stay unique. The requests go through lib.llm's client (bounded
concurrency, retries with backoff, the response cache, token counts); the HTTP call is injectable
(`post`), so the logic here is tested without a server.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

from curation_dagster.lib.llm import (ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, SKIPPED, ChatRequest,  # noqa: F401
                                      LLMClient, LLMRequestError, LLMSettings, Post)
from curation_dagster.lib.llm import settings_from_values as _settings_from_values

SYSTEM_PROMPT = (
    "You name topic clusters of user requests to a writing assistant. Answer with one name of 2 to 5 "
    "words in title case that says what the requests are about. No quotes, no explanation, nothing else."
)

#: Part of the cache key of every naming request: bump it when what is done with the answer changes.
PROMPT_VERSION = "cluster-name/1"


def settings_from_values(base_url: str | None, model: str | None, api_key: str | None = None,
                         **options) -> LLMSettings:
    """LLMSettings from the three env var values; ValueError naming what is missing."""
    return _settings_from_values(base_url, model, api_key, purpose="naming='llm'",
                                 hint="or use naming='keybert_mmr'", **options)


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


def chat_completion(settings: LLMSettings, messages: list[dict], post: Post | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> str:
    """The answer text of one chat completion (temperature 0, no cache); LLMRequestError when it fails."""
    res = LLMClient(settings, post=post, sleep=sleep).chat(messages, prompt_version=PROMPT_VERSION)
    if not res.ok:
        raise LLMRequestError(res.error)
    return res.text or ""


@dataclass
class LLMNames:
    names: dict[int, str]
    fallbacks: dict[int, str]  # cluster -> why it kept its keyword label


def llm_cluster_names(keywords: dict[int, list[str]], examples: dict[int, list[str]], fallback: dict[int, str],
                      llm: LLMSettings | LLMClient, post: Post | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> LLMNames:
    """One request per cluster (in id order, `max_concurrency` at a time); `fallback` (the keyword
    label) wherever the LLM gives no usable name. After `max_failures` failed requests the rest keep
    their fallback without a request. `llm` is a client (its cache and counters) or bare settings."""
    client = llm if isinstance(llm, LLMClient) else LLMClient(llm, post=post, sleep=sleep)
    clusters = sorted(fallback)
    requests = [ChatRequest(build_messages(keywords.get(c, []), examples.get(c, [])), 0.0, {}, PROMPT_VERSION)
                for c in clusters]
    names: dict[int, str] = {}
    why: dict[int, str] = {}
    for c, res in zip(clusters, client.complete_many(requests)):
        if res.skipped:
            names[c], why[c] = fallback[c], SKIPPED
            continue
        if not res.ok:
            names[c], why[c] = fallback[c], f"request failed: {res.error}"
            continue
        name = clean_answer(res.text)
        if name is None:
            names[c], why[c] = fallback[c], "answer is not a 2-5 word name"
        else:
            names[c] = name
    return LLMNames(make_unique(names, keywords), why)
