from typing import Optional

import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.judge import JudgeSettings
from curation_dagster.lib.offline_judge import OfflineJudgeSettings

SCOPES = ("sampled", "pool")
_J, _O = JudgeSettings(), OfflineJudgeSettings()


class JudgeConfig(dg.Config):
    scope: str = Field("sampled", description=(
        "What the LLM judge scores: 'sampled' (sampled_examples, the rows about to ship) or 'pool' (every "
        "row of deduplicated_generations: about 2 calls per pool row the first time, then the cache)."))
    samples: int = Field(_J.samples, description=(
        "Answers asked per example, each with its own seed; samples that disagree make the verdict uncertain."))
    temperature: float = Field(_J.temperature, description=(
        "Sampling temperature of the judge (above 0, or samples cannot disagree)."))
    seed: int = Field(_J.seed, description="Sample k is asked with seed + k (its fresh retry with seed + k + samples).")
    parse_retries: int = Field(_J.parse_retries, description=(
        "Fresh samples asked for an answer that is not the strict JSON object, before the example is judge_error."))
    low_threshold: float = Field(_J.low_threshold, description=(
        "A criterion whose samples agree at or below this score (1-5) makes the example `low`: it leaves the "
        "dataset with the rule llm_judge and is not sampled again."))
    disagreement: int = Field(_J.disagreement, description=(
        "Samples this many points apart on a criterion make the example `uncertain` (top of the review queue)."))
    middle_low: float = Field(_J.middle_low, description="A mean score (over the criteria) from here ...")
    middle_high: float = Field(_J.middle_high, description="... to here is a middle score: `uncertain`.")
    max_tokens: int = Field(_J.max_tokens, description="Longest answer asked for (max_tokens of each request).")
    json_mode: bool = Field(_J.json_mode, description=(
        "Send response_format {\"type\": \"json_object\"} (OpenAI, vLLM, Ollama and llama.cpp accept it); "
        "turn off for a server that refuses the parameter."))
    max_field_chars: int = Field(_J.max_field_chars, description="Each text shown to the judge is cut at this length.")
    timeout_s: Optional[float] = Field(None, description=(
        "Per-attempt timeout for this asset (None: the `llm` resource's)."))
    max_retries: Optional[int] = Field(None, description=(
        "Transport retries for this asset (None: the `llm` resource's)."))
    max_error_share: float = Field(0.05, description=(
        "WARN check judge_errors_within_bound: at most this share of the judged rows may end as judge_error."))

    def to_settings(self) -> JudgeSettings:
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {self.scope!r}")
        return JudgeSettings(samples=self.samples, temperature=self.temperature, seed=self.seed,
                             parse_retries=self.parse_retries, low_threshold=self.low_threshold,
                             disagreement=self.disagreement, middle_low=self.middle_low, middle_high=self.middle_high,
                             max_tokens=self.max_tokens, json_mode=self.json_mode,
                             max_field_chars=self.max_field_chars)


JudgeConfig = team_defaults(JudgeConfig, "judge", check=lambda c: c.to_settings())


class OfflineJudgeConfig(dg.Config):
    good_at: float = Field(_O.good_at, description=(
        "Rows with usage signals are labelled good when their usage-based quality score is at least this."))
    min_per_class: int = Field(_O.min_per_class, description=(
        "Fewer labelled rows than this of either class: no model is fitted (skipped, with the counts)."))
    test_fraction: float = Field(_O.test_fraction, description="Share of the labelled rows held out for the AUC.")
    seed: int = Field(_O.seed, description="Seed of the held-out split and of the cap's sample.")
    max_rows: int = Field(_O.max_rows, description="Labelled rows fitted on at most (a seeded sample beyond).")
    regularization: float = Field(_O.regularization, description=(
        "C of the logistic regression (smaller: stronger L2 penalty)."))

    def to_settings(self) -> OfflineJudgeSettings:
        return OfflineJudgeSettings(good_at=self.good_at, min_per_class=self.min_per_class,
                                    test_fraction=self.test_fraction, seed=self.seed, max_rows=self.max_rows,
                                    regularization=self.regularization)


OfflineJudgeConfig = team_defaults(OfflineJudgeConfig, "offline_judge", check=lambda c: c.to_settings())
