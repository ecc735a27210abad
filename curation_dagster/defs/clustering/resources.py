"""The naming LLM: an OpenAI-compatible chat completions endpoint for topic_model's naming='llm'."""

import os
from typing import Optional

import dagster as dg
from pydantic import Field

from curation_dagster.lib.llm_naming import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, LLMSettings, settings_from_values

#: The resource key topic_model asks for.
NAMING_LLM_KEY = "naming_llm"


class NamingLLMResource(dg.ConfigurableResource):
    """The endpoint that names clusters when topic_model runs with naming='llm' (optional).

    Built in the code location from CURATION_LLM_BASE_URL, CURATION_LLM_MODEL and CURATION_LLM_API_KEY
    through dg.EnvVar (see `naming_llm_resource`), so the UI shows the variable names, never the key.
    Unset fields mean "not configured": the code location loads and every other naming method works;
    naming='llm' fails before the fit with an error naming the missing variables."""

    base_url: Optional[str] = Field(None, description=(
        f"Base URL of the endpoint, e.g. https://api.openai.com/v1 ({ENV_BASE_URL}); "
        "{base_url}/chat/completions is called."))
    model: Optional[str] = Field(None, description=f"Model name sent with each request ({ENV_MODEL}).")
    api_key: Optional[str] = Field(None, description=(
        f"Bearer token, when the server wants one ({ENV_API_KEY}); never logged."))
    timeout_s: float = Field(20.0, description="Timeout of each request (seconds); run config llm_timeout_s overrides it.")
    max_retries: int = Field(1, description=(
        "Retries of a request that timed out or got 429/5xx; run config llm_max_retries overrides it."))

    @property
    def configured(self) -> bool:
        return bool((self.base_url or "").strip() and (self.model or "").strip())

    def llm_settings(self, timeout_s: Optional[float] = None, max_retries: Optional[int] = None) -> LLMSettings:
        """The endpoint settings for lib.llm_naming (per-run overrides of timeout and retries);
        ValueError naming the missing variables when the endpoint is not configured."""
        return settings_from_values(
            self.base_url, self.model, self.api_key,
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
            max_retries=self.max_retries if max_retries is None else max_retries)


def naming_llm_resource(environ: Optional[dict] = None) -> NamingLLMResource:
    """The naming_llm resource of the code location: each CURATION_LLM_* variable that is set (and not
    empty, as docker-compose passes an unset one) is read through dg.EnvVar at run time; the others stay
    unset, so a run that does not use the LLM never needs them."""
    env = os.environ if environ is None else environ
    fields = {"base_url": ENV_BASE_URL, "model": ENV_MODEL, "api_key": ENV_API_KEY}
    return NamingLLMResource(**{field: dg.EnvVar(var) for field, var in fields.items() if (env.get(var) or "").strip()})
