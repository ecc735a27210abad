"""Run the rule registry and the duplicate rules over one batch (one daily partition)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from curation_dagster.lib.contract import safe_text
from curation_dagster.lib.decontamination import contamination_index
from curation_dagster.lib.dedup import find_duplicates
from curation_dagster.lib.pii import PII_TEXT_COLUMNS, redact_pii
from curation_dagster.lib.quality import row_quality_score
from curation_dagster.lib.rules import RULES, FilterSettings
from curation_dagster.lib.text import content_hash

#: rules evaluated after de-duplication, so a copy of a poorly rated row is reported as a copy
POST_DEDUP_RULES = ("low_quality",)
#: A reviewer's rejection outranks every automatic rule: it is the reason the row is gone.
HUMAN_REVIEW = "human_review"
RULE_ORDER: tuple[str, ...] = (HUMAN_REVIEW,) + tuple(r for r in RULES if r not in POST_DEDUP_RULES) + (
    "eval_contamination", "exact_duplicate", "near_duplicate", *POST_DEDUP_RULES,
)


@dataclass
class FilterOutcome:
    kept: pd.DataFrame
    rejected: pd.DataFrame
    rule_counts: dict[str, int]  # primary rule -> rows rejected by it


def apply_filters(df: pd.DataFrame, settings: FilterSettings, near_threshold: float = 0.7,
                  seed: int = 0, human_rejections: dict[str, str] | None = None) -> FilterOutcome:
    """Split a batch into kept rows (with quality_score and content_hash) and rejected rows with reasons.

    `human_rejections` (generation_id -> the reviewers' reasons) rejects rows people rejected, under
    rule `human_review`. Every input row lands in exactly one of the two frames.
    """
    human_rejections = human_rejections or {}
    records = df.to_dict("records")
    fired: list[dict[str, str]] = []
    for row in records:
        # A rule that crashes on bizarre input is itself a reason, never a failed materialization.
        row_fired: dict[str, str] = {}
        for name, fn in RULES.items():
            if name in POST_DEDUP_RULES:
                continue
            try:
                reason = fn(row, settings)
            except Exception as exc:  # noqa: BLE001
                reason = f"rule raised {type(exc).__name__}: {exc}"[:300]
            if reason:
                row_fired[name] = reason
        if str(row.get("generation_id")) in human_rejections:
            why = human_rejections[str(row.get("generation_id"))]
            row_fired[HUMAN_REVIEW] = "rejected by human review" + (f": {why}" if why else "")
        row["quality_score"] = row_quality_score(row, settings.quality_weights)
        fired.append(row_fired)

    # Redact mode (pii_action="redact" / redact_identity_names): the rules judged the original texts;
    # dedup, hashes and everything downstream see the redacted ones. Adds pii_redactions (0 otherwise).
    df = redact_pii(df, settings)
    if settings.pii_action == "redact" or settings.redact_identity_names:
        text_cols = [c for c in (*PII_TEXT_COLUMNS, "identity") if c in df.columns]
        for rec, red in zip(records, df[text_cols].to_dict("records")):
            rec.update(red)

    # Decontamination runs on the whole batch at once (one index lookup), on the texts as exported.
    eval_match: dict[int, str] = {}
    if settings.decontamination.eval_sets:
        index = contamination_index(settings.decontamination)
        texts = ["\n".join(str(records[i].get(c) or "") for c in ("instruction", "input_message", "output"))
                 for i in range(len(records))]
        for hit in index.find_contamination(texts):
            if hit.row_index not in eval_match:  # the strongest match comes first
                eval_match[hit.row_index] = f"{hit.eval_set}:{hit.eval_id}"
                fired[hit.row_index]["eval_contamination"] = (
                    f"shares {hit.overlap} {index.n}-word sequence(s) with item {hit.eval_id} of evaluation set "
                    f"{hit.eval_set}")

    content_ok = [i for i, f in enumerate(fired) if not f]
    dup_hits = find_duplicates(
        ids=[records[i]["generation_id"] for i in content_ok],
        order_keys=[(records[i]["created_at"], records[i]["generation_id"]) for i in content_ok],
        instructions=[records[i].get("instruction") for i in content_ok],
        input_messages=[records[i].get("input_message") for i in content_ok],
        outputs=[records[i].get("output") for i in content_ok],
        near_threshold=near_threshold,
        seed=seed,
    )
    by_id = {h.generation_id: h for h in dup_hits}
    duplicate_of: dict[int, str] = {}
    for i in content_ok:
        hit = by_id.get(records[i]["generation_id"])
        if hit:
            fired[i][hit.kind] = (f"{'exact' if hit.kind == 'exact_duplicate' else 'near'} duplicate of "
                                  f"{hit.duplicate_of} (similarity {hit.similarity:.2f})")
            duplicate_of[i] = hit.duplicate_of
    for i, row in enumerate(records):
        for name in POST_DEDUP_RULES:
            reason = RULES[name](row, settings)
            if reason:
                fired[i][name] = reason

    kept_idx, rej_idx, rej_rows = [], [], []
    counts: Counter[str] = Counter()
    for i, f in enumerate(fired):
        if not f:
            kept_idx.append(i)
            continue
        primary = next(r for r in RULE_ORDER if r in f)
        counts[primary] += 1
        rej_idx.append(i)
        rej_rows.append({
            "rule": primary,
            "reason": safe_text(f[primary]),
            "rules_fired": ",".join(r for r in RULE_ORDER if r in f),
            "duplicate_of": duplicate_of.get(i),
            "eval_match": eval_match.get(i),
        })

    kept = df.iloc[kept_idx].copy()
    # explicit dtypes: an empty day must still store a typed (DOUBLE) column
    kept["quality_score"] = pd.Series([records[i]["quality_score"] for i in kept_idx], index=kept.index, dtype="float64")
    kept["content_hash"] = pd.Series([content_hash(records[i].get("instruction"), records[i].get("input_message"),
                                                   records[i].get("output")) for i in kept_idx],
                                     index=kept.index, dtype=object)
    rejected = df.iloc[rej_idx].drop(columns="pii_redactions")
    rejected["quality_score"] = pd.Series([records[i]["quality_score"] for i in rej_idx], index=rejected.index,
                                          dtype="float64")
    for col in ("rule", "reason", "rules_fired", "duplicate_of", "eval_match"):
        rejected[col] = pd.Series([r[col] for r in rej_rows], index=rejected.index, dtype=object)
    return FilterOutcome(kept.reset_index(drop=True), rejected.reset_index(drop=True), dict(counts))
