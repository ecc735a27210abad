"""The `llm` resource: one OpenAI-compatible chat endpoint for every model call of the code location
(cluster naming today; the judging, generation and paraphrase steps are to use the same resource)."""

from __future__ import annotations

import os
from typing import Optional

import dagster as dg
from pydantic import Field

from curation_dagster.lib.llm import (ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, LLMClient, LLMSettings,
                                      missing_variables, not_configured_message, settings_from_values)

#: The resource key assets ask for.
LLM_KEY = "llm"
#: Keys it had before (a resources dict passed to build_definitions with one of them still works).
LEGACY_LLM_KEYS = ("naming_llm",)


class LLMEndpointResource(dg.ConfigurableResource):
    """OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp server) for every LLM step:
    cluster naming (topic_model naming='llm'), judging, generation, paraphrase.

    Built in the code location from CURATION_LLM_BASE_URL, CURATION_LLM_MODEL and CURATION_LLM_API_KEY
    through dg.EnvVar (see `llm_endpoint_resource`), so the UI shows the variable names, never the key.
    Unset fields mean "not configured": the code location loads and every step that does not need
    an LLM works; a step that does gets None and the reason from `client()` and skips (or, when a run
    asked for the LLM explicitly, fails naming the missing variables). Answers are cached in
    `cache_path` (data/llm_cache.duckdb), so a re-run or backfill costs no calls."""

    base_url: Optional[str] = Field(None, description=(
        f"Base URL of the endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM) or https://api.openai.com/v1 "
        f"({ENV_BASE_URL}); {{base_url}}/chat/completions is called."))
    model: Optional[str] = Field(None, description=f"Model name sent with each request ({ENV_MODEL}).")
    api_key: Optional[str] = Field(None, repr=False, description=(
        f"Bearer token, when the server wants one ({ENV_API_KEY}); never logged."))
    timeout_s: float = Field(20.0, description="Timeout of each attempt, connect and read (seconds).")
    max_retries: int = Field(2, description=(
        "Retries of a request that timed out, lost its connection or got 429/5xx (exponential backoff)."))
    backoff_s: float = Field(1.0, description="Sleep before the first retry; doubled each retry.")
    max_backoff_s: float = Field(30.0, description="Cap of the backoff and of a server's Retry-After (seconds).")
    max_concurrency: int = Field(4, description="Requests in flight at once.")
    max_failures: int = Field(3, description=(
        "After this many failed requests in a batch, the rest are skipped (the endpoint is down); 0: never."))
    cache_path: Optional[str] = Field(None, description=(
        "DuckDB file of cached answers (data/llm_cache.duckdb); unset: no cache."))

    @property
    def configured(self) -> bool:
        return not missing_variables(self.base_url, self.model)

    def not_configured_reason(self, purpose: str = "this step", hint: str = "") -> Optional[str]:
        """Why `purpose` cannot use the endpoint (the variables to set), or None when it is configured."""
        missing = missing_variables(self.base_url, self.model)
        return not_configured_message(missing, purpose, hint) if missing else None

    def llm_settings(self, timeout_s: Optional[float] = None, max_retries: Optional[int] = None,
                     purpose: str = "naming='llm'", hint: str = "or use naming='keybert_mmr'",
                     **overrides) -> LLMSettings:
        """The endpoint settings for lib.llm (None overrides keep the resource's value); ValueError
        naming the missing variables when the endpoint is not configured."""
        options = {"timeout_s": self.timeout_s, "max_retries": self.max_retries, "backoff_s": self.backoff_s,
                   "max_backoff_s": self.max_backoff_s, "max_concurrency": self.max_concurrency,
                   "max_failures": self.max_failures}
        given = {"timeout_s": timeout_s, "max_retries": max_retries, **overrides}
        options.update({k: v for k, v in given.items() if v is not None})
        return settings_from_values(self.base_url, self.model, self.api_key, purpose=purpose, hint=hint, **options)

    def client(self, purpose: str = "this step", hint: str = "", use_cache: bool = True,
               **overrides) -> tuple[Optional[LLMClient], Optional[str]]:
        """(client, None), or (None, why) when the endpoint is not configured: the caller skips its
        LLM work with that message. `overrides` (timeout_s, max_retries, max_concurrency, ...; None
        keeps the resource's value) apply to this client only."""
        why = self.not_configured_reason(purpose, hint)
        if why:
            return None, why
        cache = None
        if use_cache and (self.cache_path or "").strip():
            from curation_dagster.lib.llm_cache import LLMCache

            cache = LLMCache(self.cache_path)
        return LLMClient(self.llm_settings(purpose=purpose, hint=hint, **overrides), cache=cache), None


def llm_metadata(client: Optional[LLMClient], skipped: Optional[str] = None) -> dict:
    """An asset's LLM metadata: the model, calls, cache hits, failures and tokens of `client`, or
    `llm_skipped_reason` when the step ran without one."""
    if client is None:
        return {"llm_calls": 0, "llm_skipped_reason": skipped or "no LLM endpoint"}
    meta = client.metadata()
    if client.usage.cache_error:
        meta["llm_cache_error"] = client.usage.cache_error
    return meta


def llm_endpoint_resource(environ: Optional[dict] = None, cache_path: Optional[str] = None) -> LLMEndpointResource:
    """The `llm` resource of the code location: each CURATION_LLM_* variable that is set (and not empty,
    as docker-compose passes an unset one) is read through dg.EnvVar at run time; the others stay unset,
    so a run that does not use the LLM never needs them."""
    env = os.environ if environ is None else environ
    fields = {"base_url": ENV_BASE_URL, "model": ENV_MODEL, "api_key": ENV_API_KEY}
    values = {field: dg.EnvVar(var) for field, var in fields.items() if (env.get(var) or "").strip()}
    return LLMEndpointResource(**values, cache_path=cache_path)


def with_llm_key(resources: dict) -> dict:
    """`resources` with a legacy key (naming_llm) renamed to `llm`, unless `llm` is there already."""
    out = dict(resources)
    for old in LEGACY_LLM_KEYS:
        if old in out and LLM_KEY not in out:
            out[LLM_KEY] = out.pop(old)
    return out
