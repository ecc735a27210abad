import os
from typing import Literal

import dagster as dg
from pydantic import Field

from curation_dagster.lib.decontamination import DecontaminationSettings
from curation_dagster.lib.language import DEFAULT_CANDIDATES, MIN_LANGUAGE_LETTERS
from curation_dagster.lib.pii import PII_KINDS
from curation_dagster.lib.quality import QualityWeights
from curation_dagster.lib.rules import DEFAULT_TEMPLATES, FilterSettings


def _env_eval_sets() -> list[str]:
    return [s.strip() for s in os.environ.get("CURATION_EVAL_SETS", "").split(",") if s.strip()]


class FilterConfig(dg.Config):
    """Thresholds of the noisy-input rules (see lib/rules.py for what each rule does)."""

    min_generator_version: str = Field("1.4.0", description="Rows from older generator versions are dropped.")
    require_identity: bool = Field(True, description=(
        "Reject rows whose identity settings are missing or have no name (identity_junk). Turn off for "
        "imported data with no identity, or only a system prompt (chat, ShareGPT, Alpaca files)."))
    require_generator_version: bool = Field(True, description=(
        "Reject rows with no generator_version as invalid_record. Turn off for imported data that never "
        "recorded one (the version cut-off then only applies to rows that have a version)."))
    min_quality: float = Field(0.4, description="Minimum usage-based quality score in [0, 1].")
    target_languages: list[str] = Field(["en"], description="ISO 639-1 codes of the output languages to keep.")
    language_candidates: list[str] = Field(list(DEFAULT_CANDIDATES), description=(
        "Languages the detector (lingua, offline) chooses among besides the targets; fewer is faster, "
        "but a language missing here is read as its nearest candidate."))
    min_language_letters: int = Field(MIN_LANGUAGE_LETTERS, description=(
        "Outputs with fewer letters get no language verdict (the rule abstains): a word or two is too "
        "little to tell languages apart."))
    min_language_confidence: float = Field(0.5, description="Reject only when the non-target guess is this confident.")
    pii_action: Literal["reject", "redact"] = Field("reject", description=(
        "What to do with emails, phone numbers, secret-carrying URLs, card numbers and IBANs in the "
        "output, instruction or input message: reject the row (rule `pii`) or keep it with the data "
        "replaced by [EMAIL] / [PHONE] / [URL] / [CARD] / [IBAN] (column `pii_redactions` counts them)."))
    pii_kinds: list[str] = Field(list(PII_KINDS), description="Which kinds of personal data the pii rule looks for.")
    redact_identity_names: bool = Field(False, description=(
        "Replace the identity's personal values (the user's own name, used in sign-offs) with [NAME] in "
        "the identity and wherever they appear verbatim in the texts. Off: the name is not contact data."))
    identity_personal_keys: list[str] = Field(["name"], description="Identity keys whose values are personal.")
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
    eval_sets: list[str] = Field(default_factory=lambda: _env_eval_sets(), description=(
        "Evaluation sets to keep out of training (JSONL/JSON/CSV paths, optionally 'name=path'; items by "
        "`text`, `messages` or `prompt`/`completion`, ids by `id` or line). Rows sharing a word n-gram "
        "with an item are rejected as eval_contamination with the item id. Default: the comma-separated "
        "CURATION_EVAL_SETS environment variable (so scheduled runs use it too)."))
    decontamination_ngram: int = Field(13, description="Words per n-gram for decontamination.")
    decontamination_min_overlap: int = Field(1, description="Shared n-grams that make a row contaminated.")
    max_rule_rejection_share: float = Field(0.2, description="WARN when one rule rejects more of a day than this.")
    max_total_rejection_share: float = Field(0.5, description="WARN when all rules together reject more than this.")

    def to_settings(self) -> FilterSettings:
        return FilterSettings(
            known_templates=tuple(self.known_templates),
            min_generator_version=self.min_generator_version,
            require_generator_version=self.require_generator_version,
            require_identity=self.require_identity,
            min_instruction_words=self.min_instruction_words,
            min_output_words=self.min_output_words,
            max_output_chars=self.max_output_chars,
            target_languages=tuple(self.target_languages),
            language_candidates=tuple(self.language_candidates),
            min_language_letters=self.min_language_letters,
            min_language_confidence=self.min_language_confidence,
            pii_action=self.pii_action,
            pii_kinds=tuple(self.pii_kinds),
            redact_identity_names=self.redact_identity_names,
            identity_personal_keys=tuple(self.identity_personal_keys),
            decontamination=DecontaminationSettings(eval_sets=tuple(self.eval_sets), n=self.decontamination_ngram,
                                                    min_overlap=self.decontamination_min_overlap),
            min_quality=self.min_quality,
            quality_weights=QualityWeights(
                sent=self.quality_weight_sent, copied=self.quality_weight_copied,
                edit=self.quality_weight_edit, rating=self.quality_weight_rating,
                neutral_score=self.neutral_quality_score,
            ),
        )
