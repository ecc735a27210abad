"""The variants stage: question variants and negative examples (lib/variants.py).

example_variants derives rows from the sampled examples (offline variants of the instruction:
punctuation, casing, whitespace, typos; LLM paraphrases through the `llm` endpoint, cached) and from
the document QA pairs (negatives: the question with a wrong passage and an answer saying the passage
does not hold it), each at its configured share of the sampled examples (all 0 by default: nothing
changes unless a team asks). The rows go through the filter rules as doc_qa pairs do; finetuning_dataset
appends them (lib.variants.mix_variants) with provenance `derived_from` and `derivation`, each on its
source's split group. Without an endpoint the paraphrases are skipped with a reason; the rest works.
"""

from collections import Counter

import dagster as dg
import pandas as pd

from curation_dagster.defs.filtering.config import FilterConfig
from curation_dagster.defs.llm import LLMEndpointResource, llm_metadata
from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.variants.config import VariantsConfig
from curation_dagster.lib.doc_qa import ROW_COLUMNS, qa_filter_settings
from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.variants import (DERIVED_COLUMNS, PROMPT_VERSION, build_paraphrase_request, negative_rows,
                                           offline_variants, paraphrase_rows, paraphrase_sources)

#: Columns of example_variants: the data contract, split group, doc provenance, cluster, scores, derivation.
VARIANT_COLUMNS = [*ROW_COLUMNS, "cluster_id", "cluster_name", "quality_score", "content_hash", *DERIVED_COLUMNS]


def variants_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in VARIANT_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[VARIANT_COLUMNS].copy()
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    for c in ("copied", "sent"):
        df[c] = df[c].astype(object)
    df["edit_ratio"] = pd.to_numeric(df["edit_ratio"], errors="coerce").astype("float64")
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce").astype("Int64")
    df["cluster_id"] = pd.to_numeric(df["cluster_id"], errors="coerce").astype("Int64")
    df["quality_score"] = pd.to_numeric(df["quality_score"], errors="coerce").astype("float64")
    for c in ("generation_id", "template_id", "generator_version", "instruction", "identity", "input_message",
              "output", "source_group", "doc_path", "chunk_id", "heading", "cluster_name", "content_hash",
              *DERIVED_COLUMNS):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.sort_values("generation_id", kind="mergesort").reset_index(drop=True)


@dg.asset(group_name="variants", owners=OWNERS, kinds={"pandas", STORAGE_KIND, "openai"}, pool=WAREHOUSE_POOL)
def example_variants(context: dg.AssetExecutionContext, config: VariantsConfig, llm: LLMEndpointResource,
                     sampled_examples: pd.DataFrame, doc_qa_pairs: pd.DataFrame) -> dg.Output:
    """Variants and negative examples, each at its share of the sampled examples (default 0: none).

    - `variant_share`: one offline variant of the instruction (a maker of `makers`: punctuation,
      casing, whitespace, typos; seeded by (seed, generation_id, maker); never edits code, URLs or
      numbers; a variant identical to its source is dropped) -> derivation `variant:<maker>`.
    - `paraphrase_share`: an LLM paraphrase (strict JSON {"paraphrase": ...}; malformed answers and
      paraphrases identical to the source are dropped, counted by reason) -> `paraphrase`. Cached:
      a re-run costs no calls. Without an endpoint: skipped, `llm_skipped_reason` says why.
    - `negative_share`: a doc_qa question paired with the most similar chunk of another section and
      the `refusal` answer -> `negative` (doc_path / chunk_id name the wrong chunk).

    Every row keeps its source's template_id and split group (`source_group`; `variant:<id>` for a
    generation without one) and names its source in `derived_from`. The rows pass the filter rules
    as doc_qa pairs do (qa_filter_settings); finetuning_dataset appends them."""
    s = config.to_settings()
    base = {"sampled_examples": len(sampled_examples), "qa_pairs": len(doc_qa_pairs),
            "variant_share": s.variant_share, "paraphrase_share": s.paraphrase_share,
            "negative_share": s.negative_share, "makers": ", ".join(s.makers), "prompt_version": PROMPT_VERSION}
    rows, variant_counts = offline_variants(sampled_examples, s)
    sources = paraphrase_sources(sampled_examples, s)
    client, why, dropped = None, "paraphrase_share is 0", {}
    if len(sources):
        client, why = llm.client("example_variants (LLM paraphrases)", timeout_s=config.timeout_s,
                                 max_retries=config.max_retries)
        if client is None:
            context.log.info(f"example_variants: paraphrases skipped: {why}")
        else:
            answers = client.complete_many([build_paraphrase_request(str(t or ""), s.temperature, s.max_tokens,
                                                                     s.json_mode) for t in sources["instruction"]])
            made, dropped = paraphrase_rows(sources, answers)
            rows += made
    negatives, negative_counts = negative_rows(doc_qa_pairs, len(sampled_examples), s)
    rows += negatives
    derived = variants_frame(rows)
    # the filter rules, per family (variant, paraphrase, negative): a source's variant and paraphrase are
    # near copies of each other by design, so the duplicate rules only compare rows of one family
    filter_config = FilterConfig()
    source_quality = derived.set_index("generation_id")["quality_score"]
    kept_parts, rejected_parts, rule_counts = [], [], Counter()
    for _, part in derived.groupby(derived["derivation"].str.split(":").str[0], sort=True):
        outcome = apply_filters(part.reset_index(drop=True), qa_filter_settings(filter_config.to_settings()),
                                near_threshold=filter_config.near_duplicate_threshold)
        kept_parts.append(outcome.kept)
        rejected_parts.append(outcome.rejected)
        rule_counts.update(outcome.rule_counts)
    if kept_parts:
        kept = pd.concat(kept_parts, ignore_index=True)  # the source's quality score stays (its signals)
        kept["quality_score"] = kept["generation_id"].map(source_quality).fillna(kept["quality_score"])
        derived = variants_frame(kept.to_dict("records"))
    rejected = (pd.concat(rejected_parts, ignore_index=True) if rejected_parts
                else pd.DataFrame(columns=["generation_id", "rule", "reason"]))
    by_derivation = Counter(derived["derivation"])
    return dg.Output(derived, metadata={
        **base,
        "dagster/row_count": len(derived),
        "variants_made": variant_counts["made"],
        "variants_identical_dropped": variant_counts["identical"],
        "paraphrases_asked": len(sources) if client is not None else 0,
        "paraphrases_dropped": sum(dropped.values()),
        "negatives_made": negative_counts["made"],
        "negatives_without_other_section": negative_counts["no_other_section"],
        "rejected_by_rules": len(rejected),
        **({"rejected_by_rule": counts_table(dict(rule_counts))} if rule_counts else {}),
        **({"paraphrases_dropped_by_reason": counts_table(dropped, "reason", "rows")} if dropped else {}),
        "rows_by_derivation": (counts_table(dict(sorted(by_derivation.items())), "derivation", "rows")
                               if by_derivation else dg.MetadataValue.md("_none_")),
        **{f"rows_{k.replace(':', '_')}": int(v) for k, v in sorted(by_derivation.items())},
        **llm_metadata(client, why),
        "preview": preview(derived, ["derivation", "derived_from", "instruction", "output"]),
        "rejected_preview": preview(rejected, ["generation_id", "rule", "reason"]),
    })
