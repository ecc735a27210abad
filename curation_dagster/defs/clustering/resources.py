"""Old names of the LLM endpoint resource, kept so existing imports work: the resource is now
defs.llm.LLMEndpointResource under the key `llm`, shared by every LLM step (naming included)."""

from curation_dagster.defs.llm import LLM_KEY, LLMEndpointResource, llm_endpoint_resource

#: The resource key topic_model asks for (was "naming_llm"; build_definitions still accepts that key).
NAMING_LLM_KEY = LLM_KEY
NamingLLMResource = LLMEndpointResource
naming_llm_resource = llm_endpoint_resource

__all__ = ["NAMING_LLM_KEY", "NamingLLMResource", "naming_llm_resource"]
