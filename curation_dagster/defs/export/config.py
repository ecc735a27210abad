from typing import Optional

import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.doc_qa import check_doc_qa_share
from curation_dagster.lib.splits import GROUP_COLUMN, check_fractions
from curation_dagster.lib.tokens import DEFAULT_MAX_TOKENS, DEFAULT_TOKENIZER


class ExportConfig(dg.Config):
    validation_fraction: float = Field(0.1, description=(
        "Share of each cluster held out for validation (validation.jsonl). Rows are split in whole groups: "
        f"the same normalised prompt, or the same `{GROUP_COLUMN}` when the rows carry one, never straddle splits."))
    test_fraction: float = Field(0.0, description=(
        "Share of each cluster held out for a test split (test.jsonl, written only when this is above 0), "
        "grouped like validation. validation_fraction + test_fraction must stay below 1."))
    seed: int = 42
    max_tokens_per_example: int = Field(DEFAULT_MAX_TOKENS, description=(
        "Longest allowed example (all messages), counted with the packaged MiniLM tokenizer. The same "
        "budget the filter applies (rule too_many_tokens), so a row that passed the filter fits: set both "
        "with the top-level `max_tokens_per_example` of curation.yaml."))
    tokenizer: str = Field(DEFAULT_TOKENIZER, description=(
        "Tokenizer that counts max_tokens_per_example, as the filter's (top-level `tokenizer` of curation.yaml)."))
    target_examples: int = Field(50_000, description="Size the dataset should grow to.")
    target_date: Optional[str] = Field(None, description="YYYY-MM-DD by which the target should be reached (WARN if not).")
    dataset_name: str = Field("finetuning_dataset", description="Folder name under the export directory.")
    diversity_random_samples: int = Field(10, description=(
        "Same-size random samples of the pool the export's diversity is compared with (manifest `diversity`, "
        "WARN check export_more_diverse_than_random). 0 turns the comparison off."))
    diversity_min_z: float = Field(2.0, description=(
        "The export beats random when its lexical (TF-IDF + SVD) Vendi score is above the random samples' "
        "mean by at least this many of their standard deviations."))
    max_churn: float = Field(0.02, description=(
        "WARN when the selection drops more than this share of the previously shipped examples that are "
        "still in the pool (rules, dedup and review removals do not count), with the same topic model."))
    max_refit_churn: float = Field(0.5, description=(
        "The same bound after a refit of the topic model (new cells move picks)."))
    doc_qa_share: float = Field(0.0, description=(
        "Share of the exported rows that may be question-answer pairs from your documents (doc_qa_pairs, "
        "template doc_qa): 0.1 adds QA pairs up to 10% of the export (fewer when fewer exist), chosen by a "
        "seeded hash of their id. 0 (default): none. Their provenance names the file and chunk."))


ExportConfig = team_defaults(ExportConfig, "export",
                             check=lambda c: (check_fractions(c.validation_fraction, c.test_fraction),
                                              check_doc_qa_share(c.doc_qa_share)))
