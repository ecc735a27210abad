from typing import List, Optional

import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.variants import MAKERS, VariantSettings

_V = VariantSettings()


class VariantsConfig(dg.Config):
    variant_share: float = Field(_V.variant_share, description=(
        "Offline variants of the instruction (punctuation, casing, whitespace, typos) for up to this share of "
        "the sampled examples: 0.1 adds one variant to 10% of them, chosen by a seeded hash of their id. "
        "0 (default): none."))
    paraphrase_share: float = Field(_V.paraphrase_share, description=(
        "LLM paraphrases of the instruction (the `llm` endpoint, cached) for up to this share of the sampled "
        "examples. 0 (default): none; skipped with a reason when no endpoint is configured."))
    negative_share: float = Field(_V.negative_share, description=(
        "Negative examples (a document question with a wrong passage and an answer saying the passage does "
        "not hold it) up to this share of the sampled examples' count, from doc_qa_pairs. 0 (default): none."))
    makers: List[str] = Field(list(_V.makers), description=(
        f"The offline variant makers to use, of {sorted(MAKERS)}."))
    refusal: str = Field(_V.refusal, description=(
        "The answer of a negative example; {heading} is the section (or file) the wrong passage is from."))
    seed: int = Field(_V.seed, description="Seed of the choice of sources and of the makers' edits.")
    temperature: float = Field(_V.temperature, description="Sampling temperature of the paraphrase requests.")
    max_tokens: int = Field(_V.max_tokens, description="Longest paraphrase answer asked for (max_tokens).")
    json_mode: bool = Field(_V.json_mode, description=(
        "Send response_format {\"type\": \"json_object\"}; turn off for a server that refuses the parameter."))
    timeout_s: Optional[float] = Field(None, description="Per-attempt timeout for this asset (None: the `llm` resource's).")
    max_retries: Optional[int] = Field(None, description="Transport retries for this asset (None: the `llm` resource's).")

    def to_settings(self) -> VariantSettings:
        return VariantSettings(variant_share=self.variant_share, paraphrase_share=self.paraphrase_share,
                               negative_share=self.negative_share, makers=tuple(self.makers), refusal=self.refusal,
                               seed=self.seed, temperature=self.temperature, max_tokens=self.max_tokens,
                               json_mode=self.json_mode)


VariantsConfig = team_defaults(VariantsConfig, "variants", check=lambda c: c.to_settings())
