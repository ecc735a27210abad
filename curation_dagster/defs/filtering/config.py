import dataclasses
import os
from typing import Literal, get_args, get_origin, get_type_hints

import dagster as dg
from pydantic import Field, create_model

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.decontamination import DecontaminationSettings
from curation_dagster.lib.pii import PII_KINDS
from curation_dagster.lib.quality import QualityWeights
from curation_dagster.lib.rules import FilterSettings

#: the filter stage's one model is FilterSettings (lib/rules.py): its defaults are the config's defaults
_D = FilterSettings()
_Q, _X = _D.quality_weights, _D.decontamination
#: FilterSettings fields that the config flattens (quality_weight_*, decontamination_*)
_NESTED = ("quality_weights", "decontamination")


def _env_eval_sets() -> list[str]:
    return [s.strip() for s in os.environ.get("CURATION_EVAL_SETS", "").split(",") if s.strip()]


class FilterConfig(dg.Config):
    """Thresholds of the noisy-input rules (see lib/rules.py for what each rule does).

    Every field of FilterSettings (lib/rules.py) is a field here with its default; a field added there
    and not declared here still reaches the launchpad (see `_with_every_setting`)."""

    min_generator_version: str = Field(_D.min_generator_version,
                                       description="Rows from older generator versions are dropped.")
    require_identity: bool = Field(_D.require_identity, description=(
        "Reject rows whose identity settings are missing or have no name (identity_junk). Turn off for "
        "imported data with no identity, or only a system prompt (chat, ShareGPT, Alpaca files)."))
    require_generator_version: bool = Field(_D.require_generator_version, description=(
        "Reject rows with no generator_version as invalid_record. Turn off for imported data that never "
        "recorded one (the version cut-off then only applies to rows that have a version)."))
    min_quality: float = Field(_D.min_quality, description="Minimum usage-based quality score in [0, 1].")
    target_languages: list[str] = Field(list(_D.target_languages),
                                        description="ISO 639-1 codes of the output languages to keep.")
    language_candidates: list[str] = Field(list(_D.language_candidates), description=(
        "Languages the detector (lingua, offline) chooses among besides the targets; fewer is faster, "
        "but a language missing here is read as its nearest candidate."))
    min_language_letters: int = Field(_D.min_language_letters, description=(
        "Outputs with fewer letters get no language verdict (the rule abstains): a word or two is too "
        "little to tell languages apart."))
    min_language_confidence: float = Field(_D.min_language_confidence,
                                           description="Reject only when the non-target guess is this confident.")
    min_language_share: float = Field(_D.min_language_share, description=(
        "gibberish_output: running Latin-script text whose stop-word share is below this in every known "
        "language is gibberish."))
    max_symbol_share: float = Field(_D.max_symbol_share, description=(
        "gibberish_output: prose (code ignored) with more symbol characters than this share is gibberish."))
    max_top_token_share: float = Field(_D.max_top_token_share, description=(
        "gibberish_output: prose in which one token makes up more than this share is gibberish."))
    toxicity_threshold: float = Field(_D.toxicity_threshold, description=(
        "toxic_output: reject a row when the offline classifier (alt-profanity-check, its model inside the "
        "wheel) gives its output's prose (code ignored) at least this probability of being offensive. "
        "The instruction is not judged: a rude request answered politely is good training data. Lower "
        "catches more and drops more harmless text (anatomy, fiction); above 1 turns the rule off."))
    pii_action: Literal["reject", "redact"] = Field(_D.pii_action, description=(
        "What to do with emails, phone numbers, secret-carrying URLs, card numbers and IBANs in the "
        "output, instruction or input message: reject the row (rule `pii`) or keep it with the data "
        "replaced by [EMAIL] / [PHONE] / [URL] / [CARD] / [IBAN] (column `pii_redactions` counts them)."))
    pii_kinds: list[str] = Field(list(_D.pii_kinds), description=(
        f"Which kinds of personal data the pii rule looks for ({', '.join(PII_KINDS)})."))
    redact_identity_names: bool = Field(_D.redact_identity_names, description=(
        "Replace the identity's personal values (the user's own name, used in sign-offs) with [NAME] in "
        "the identity and wherever they appear verbatim in the texts. Off: the name is not contact data."))
    identity_personal_keys: list[str] = Field(list(_D.identity_personal_keys),
                                              description="Identity keys whose values are personal.")
    known_templates: list[str] = Field(list(_D.known_templates),
                                       description="Template catalog; empty list accepts any template id.")
    min_instruction_words: int = Field(_D.min_instruction_words,
                                       description="instruction_junk: instructions with fewer words are rejected.")
    reject_continuations: bool = Field(_D.reject_continuations, description=(
        "instruction_junk: reject instructions that only ask to continue an earlier answer ('continue', "
        "'give me 10 more'), and conversations whose first turn does so or names an earlier answer ('expand "
        "your last response'): chunks of split dumps, answering a turn they do not hold."))
    min_output_words: int = Field(_D.min_output_words, description="too_short: outputs with fewer words are rejected.")
    max_output_chars: int = Field(_D.max_output_chars, description=(
        "text_too_long: a guard against absurd outputs only; the length that matters is max_tokens_per_example."))
    max_instruction_chars: int = Field(_D.max_instruction_chars, description=(
        "text_too_long: a guard against absurd instructions only; the length that matters is max_tokens_per_example."))
    max_input_message_chars: int = Field(_D.max_input_message_chars, description=(
        "text_too_long: a guard against absurd input messages (earlier turns) only; the length that matters "
        "is max_tokens_per_example."))
    max_tokens_per_example: int = Field(_D.max_tokens_per_example, description=(
        "too_many_tokens: the one token budget of an example (system prompt, history, instruction, output). "
        "The export's blocking check verifies the same number: set both with the top-level "
        "`max_tokens_per_example` of curation.yaml."))
    tokenizer: str = Field(_D.tokenizer, description=(
        "Tokenizer that counts max_tokens_per_example (model folder, or the packaged MiniLM); top-level "
        "`tokenizer` of curation.yaml."))
    near_duplicate_threshold: float = Field(0.7, description="Word 3-shingle Jaccard at which rows are near duplicates.")
    quality_weight_sent: float = _Q.sent
    quality_weight_copied: float = _Q.copied
    quality_weight_edit: float = _Q.edit
    quality_weight_rating: float = _Q.rating
    neutral_quality_score: float = Field(_Q.neutral_score, description="Score of rows that carry no usage signal at all.")
    eval_sets: list[str] = Field(default_factory=lambda: _env_eval_sets(), description=(
        "Evaluation sets to keep out of training (JSONL/JSON/CSV paths, optionally 'name=path'; items by "
        "`text`, `messages` or `prompt`/`completion`, ids by `id` or line). Rows sharing a word n-gram "
        "with an item are rejected as eval_contamination with the item id. Default: the comma-separated "
        "CURATION_EVAL_SETS environment variable (so scheduled runs use it too)."))
    decontamination_ngram: int = Field(_X.n, description="Words per n-gram for decontamination.")
    decontamination_min_overlap: int = Field(_X.min_overlap, description="Shared n-grams that make a row contaminated.")
    decontamination_min_words: int = Field(_X.min_words, description=(
        "Evaluation items shorter than decontamination_ngram words but at least this long are matched whole."))
    max_rule_rejection_share: float = Field(0.2, description="WARN when one rule rejects more of a day than this.")
    max_total_rejection_share: float = Field(0.5, description="WARN when all rules together reject more than this.")

    def to_settings(self) -> FilterSettings:
        values = {f.name: _as_setting(getattr(self, f.name)) for f in dataclasses.fields(FilterSettings)
                  if f.name not in _NESTED}
        return FilterSettings(
            **values,
            decontamination=DecontaminationSettings(
                eval_sets=tuple(self.eval_sets), n=self.decontamination_ngram,
                min_overlap=self.decontamination_min_overlap, min_words=self.decontamination_min_words),
            quality_weights=QualityWeights(
                sent=self.quality_weight_sent, copied=self.quality_weight_copied,
                edit=self.quality_weight_edit, rating=self.quality_weight_rating,
                neutral_score=self.neutral_quality_score,
            ),
        )


def _as_setting(value):
    return tuple(value) if isinstance(value, list) else value


def _with_every_setting(cls: type[FilterConfig]) -> type[FilterConfig]:
    """Add a config field for each FilterSettings field the class does not declare (its type, tuples as
    lists, and its default), so a new rule threshold is config the day it is added."""
    hints = get_type_hints(FilterSettings)
    extra = {}
    for f in dataclasses.fields(FilterSettings):
        if f.name in _NESTED or f.name in cls.model_fields:
            continue
        annotation, default = hints[f.name], getattr(_D, f.name)
        if get_origin(annotation) is tuple:
            annotation, default = list[get_args(annotation)[0]], list(default)
        extra[f.name] = (annotation, Field(default, description=f"FilterSettings.{f.name} (lib/rules.py)."))
    if not extra:
        return cls
    return create_model(cls.__name__, __base__=cls, __module__=cls.__module__, __doc__=cls.__doc__, **extra)


FilterConfig = team_defaults(_with_every_setting(FilterConfig), "filter", check=lambda c: c.to_settings())
