"""Score the filter rules against the sample generator's ground-truth labels."""

from __future__ import annotations

import pandas as pd

#: noise kind of the generator -> the rule meant to catch it
EXPECTED_RULE: dict[str, str] = {
    "empty_instruction": "instruction_junk",
    "placeholder_instruction": "instruction_junk",
    "junk_identity": "identity_junk",
    "gibberish_output": "gibberish_output",
    "truncated_output": "truncated_output",
    "wrong_language": "non_target_language",
    "exact_duplicate": "exact_duplicate",
    "near_duplicate": "near_duplicate",
    "pii": "pii",
    "old_generator_version": "old_generator_version",
    "low_quality": "low_quality",
    "html_output": "html_markup",
    "invalid_record": "bad_input",
}
#: rules that each catch one flavour of malformed record; scored together as "bad_input"
BAD_INPUT_RULES = frozenset({"invalid_record", "invalid_unicode", "text_too_long", "unknown_template"})


def expected_rule(noise_kind: str, detail: str | None = None) -> str | None:
    """The rule that should catch a labelled row; a case-only change is an exact duplicate by design
    (dedup folds case, whitespace and punctuation)."""
    if noise_kind == "near_duplicate" and detail == "case_changed":
        return "exact_duplicate"
    return EXPECTED_RULE.get(noise_kind)


def _group(rule: str) -> str:
    return "bad_input" if rule in BAD_INPUT_RULES else rule


def rule_report(raw_ids: pd.Series, rejected: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per rule: rows it rejected (as first rule), true positives, precision, recall, F1.

    recall = labelled rows of the rule's noise kind that the rule fired on (first or not) / labelled rows;
    precision = rows whose first rule is this one and whose label expects it / rows whose first rule it is.
    A final `all_rules` row scores noise vs clean: rejected-and-noisy / rejected, and / noisy.
    """
    lab = labels.set_index("generation_id").loc[lambda d: d.index.isin(set(raw_ids))]
    details = lab["detail"] if "detail" in lab.columns else pd.Series(None, index=lab.index)
    expected = pd.Series([expected_rule(k, d) for k, d in zip(lab["noise_kind"], details)], index=lab.index)
    rej = rejected.set_index("generation_id")
    primary = rej["rule"].map(_group)
    fired = rej["rules_fired"].map(lambda s: {_group(r) for r in str(s).split(",") if r})
    rows = []
    for rule in sorted(set(EXPECTED_RULE.values())):
        exp_ids = expected.index[expected == rule]
        prim_ids = primary.index[primary == rule]
        tp_recall = sum(1 for g in exp_ids if g in fired.index and rule in fired[g])
        tp_prec = sum(1 for g in prim_ids if expected.get(g) == rule)
        rows.append(_scores(rule, len(prim_ids), tp_prec, len(exp_ids), tp_recall))
    noisy = set(lab.index[lab["is_noise"].astype(bool)])
    rej_ids = set(rej.index)
    rows.append(_scores("all_rules", len(rej_ids), len(rej_ids & noisy), len(noisy), len(rej_ids & noisy)))
    return pd.DataFrame(rows)


def _scores(rule: str, flagged: int, tp_p: int, labelled: int, tp_r: int) -> dict:
    p = tp_p / flagged if flagged else (1.0 if labelled == 0 else 0.0)
    r = tp_r / labelled if labelled else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"rule": rule, "rejected": flagged, "labelled": labelled, "precision": round(p, 4),
            "recall": round(r, 4), "f1": round(f1, 4)}
