import dagster as dg
from pydantic import Field

from curation_dagster.lib.quality import QualityWeights
from curation_dagster.lib.rules import DEFAULT_TEMPLATES, FilterSettings


class FilterConfig(dg.Config):
    """Thresholds of the noisy-input rules (see lib/rules.py for what each rule does)."""

    min_generator_version: str = Field("1.4.0", description="Rows from older generator versions are dropped.")
    min_quality: float = Field(0.4, description="Minimum usage-based quality score in [0, 1].")
    target_languages: list[str] = Field(["en"], description="Language codes to keep (en, es, de, fr).")
    known_templates: list[str] = Field(list(DEFAULT_TEMPLATES),
                                       description="Template catalog; empty list accepts any template id.")
    min_instruction_words: int = 3
    min_output_words: int = 25
    max_output_chars: int = 8_000
    near_duplicate_threshold: float = Field(0.7, description="Word 3-shingle Jaccard at which rows are near duplicates.")
    quality_weight_sent: float = 0.35
    quality_weight_copied: float = 0.20
    quality_weight_edit: float = 0.25
    quality_weight_rating: float = 0.20
    neutral_quality_score: float = Field(0.5, description="Score of rows that carry no usage signal at all.")
    max_rule_rejection_share: float = Field(0.2, description="WARN when one rule rejects more of a day than this.")
    max_total_rejection_share: float = Field(0.5, description="WARN when all rules together reject more than this.")

    def to_settings(self) -> FilterSettings:
        return FilterSettings(
            known_templates=tuple(self.known_templates),
            min_generator_version=self.min_generator_version,
            min_instruction_words=self.min_instruction_words,
            min_output_words=self.min_output_words,
            max_output_chars=self.max_output_chars,
            target_languages=tuple(self.target_languages),
            min_quality=self.min_quality,
            quality_weights=QualityWeights(
                sent=self.quality_weight_sent, copied=self.quality_weight_copied,
                edit=self.quality_weight_edit, rating=self.quality_weight_rating,
                neutral_score=self.neutral_quality_score,
            ),
        )
