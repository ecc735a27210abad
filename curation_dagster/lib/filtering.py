"""Run the rule registry over one batch (one daily partition): the base loop that owns phases, the
error guard, the primary rule and the rejected rows' extra columns. Rules live in lib/rules.py (row
rules) and lib/batch_rules.py (batch rules)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import pandas as pd

from curation_dagster.lib.batch_rules import Batch, Hit
from curation_dagster.lib.contract import safe_text
from curation_dagster.lib.pii import PII_TEXT_COLUMNS, redact_pii
from curation_dagster.lib.quality import row_quality_score
from curation_dagster.lib.rules import FILTER_RULES, PHASES, FilterSettings, reply_of, rule_order
from curation_dagster.lib.text import content_hash

#: A reviewer's rejection outranks every automatic rule: it is the reason the row is gone.
HUMAN_REVIEW = "human_review"


@dataclass
class FilterOutcome:
    kept: pd.DataFrame
    rejected: pd.DataFrame
    rule_counts: dict[str, int]  # primary rule -> rows rejected by it


def _row_reason(fn, row: dict, settings: FilterSettings) -> str | None:
    try:
        return fn(row, settings)
    except Exception as exc:  # noqa: BLE001  (a rule that crashes on bizarre input is itself a reason)
        return f"rule raised {type(exc).__name__}: {exc}"[:300]


def _run_phase(phase, batch: Batch, fired: list[dict[str, str]], extra: dict[int, dict]) -> None:
    rows = [i for i, f in enumerate(fired) if not f] if phase.unrejected_only else list(range(len(fired)))
    done = set()
    for name in rule_order():
        spec = FILTER_RULES[name]
        if spec.phase != phase.name:
            continue
        if spec.row is not None:
            if spec.prepare is not None:
                try:
                    spec.prepare([batch.records[i] for i in rows], batch.settings)
                except Exception:  # noqa: BLE001  (then each row does the work alone, and reports what fails)
                    pass
            for i in rows:
                reason = _row_reason(spec.row, batch.records[i], batch.settings)
                if reason:
                    fired[i][name] = reason
        elif spec.batch not in done:  # one call per batch function, whatever names it reports
            done.add(spec.batch)
            for i, hit in spec.batch(replace(batch, rows=rows)).items():
                hit = hit if isinstance(hit, Hit) else Hit(name, hit)
                fired[i][hit.rule] = hit.reason
                extra.setdefault(i, {}).update(hit.columns)


def apply_filters(df: pd.DataFrame, settings: FilterSettings, near_threshold: float = 0.7,
                  seed: int = 0, human_rejections: dict[str, str] | None = None) -> FilterOutcome:
    """Split a batch into kept rows (with quality_score and content_hash) and rejected rows with reasons.

    Every rule runs phase by phase (lib/rules.PHASES); a row's `rule` is the first that fired in rule
    order, `rules_fired` all of them. `human_rejections` (generation_id -> the reviewers' reasons)
    rejects rows people rejected, under rule `human_review`. Every input row lands in exactly one of
    the two frames.
    """
    records = df.to_dict("records")
    for row in records:
        row["quality_score"] = row_quality_score(row, settings.quality_weights)
    fired: list[dict[str, str]] = [{} for _ in records]
    extra: dict[int, dict] = {}
    batch = Batch(records, [], settings, near_threshold, seed, human_rejections or {})
    redacted = False
    for phase in PHASES:
        if phase.exported_texts and not redacted:
            # Redact mode (pii_action="redact" / redact_identity_names): the earlier rules judged the
            # original texts; later phases and everything downstream see the redacted ones.
            df = redact_pii(df, settings)  # adds pii_redactions (0 when nothing is redacted)
            if settings.pii_action == "redact" or settings.redact_identity_names:
                text_cols = [c for c in (*PII_TEXT_COLUMNS, "identity") if c in df.columns]
                for rec, red in zip(records, df[text_cols].to_dict("records")):
                    rec.update(red)
            redacted = True
        _run_phase(phase, batch, fired, extra)
    reply_of.cache_clear()  # the parsed outputs were this batch's: not held until the next one

    order = rule_order()
    columns = sorted({c for spec in FILTER_RULES.values() for c in spec.columns})
    kept_idx, rej_idx, rej_rows = [], [], []
    counts: Counter[str] = Counter()
    for i, f in enumerate(fired):
        if not f:
            kept_idx.append(i)
            continue
        primary = next(r for r in order if r in f)
        counts[primary] += 1
        rej_idx.append(i)
        rej_rows.append({
            "rule": primary,
            "reason": safe_text(f[primary]),
            "rules_fired": ",".join(r for r in order if r in f),
            **{c: extra.get(i, {}).get(c) for c in columns},
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
    for col in ("rule", "reason", "rules_fired", *columns):
        rejected[col] = pd.Series([r[col] for r in rej_rows], index=rejected.index, dtype=object)
    return FilterOutcome(kept.reset_index(drop=True), rejected.reset_index(drop=True), dict(counts))
