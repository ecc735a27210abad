"""Rules that judge a row against the rest of its batch or against outside data: reviewers'
rejections, decontamination, duplicates. Each is one function `(Batch) -> {row index: reason or Hit}`
registered with `@batch_rule` under the names it reports, in a phase (lib/rules.PHASES) of the same
ordered registry as the row rules; lib/filtering.apply_filters owns the loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from curation_dagster.lib.decontamination import DecontaminationSettings, contamination_index
from curation_dagster.lib.dedup import find_duplicates
from curation_dagster.lib.rules import FilterRule, FilterSettings, register


@dataclass(frozen=True)
class Batch:
    """What a batch rule sees: every record of the batch (texts as its phase reads them), the indices
    it judges (`rows`), the settings, and the run's inputs that are not settings."""
    records: list[dict]
    rows: list[int]
    settings: FilterSettings
    near_threshold: float = 0.7
    seed: int = 0
    human_rejections: dict[str, str] = field(default_factory=dict)  # generation_id -> reviewers' reasons


@dataclass(frozen=True)
class Hit:
    """A batch rule's verdict on one row: which of its names fired, why, and extra columns."""
    rule: str
    reason: str
    columns: dict = field(default_factory=dict)


BatchFn = Callable[[Batch], dict]


def batch_rule(*names: tuple[str, str], phase: str, columns: tuple[str, ...] = ()):
    """Register a batch function under each (name, description) it reports. A function reporting
    one name may return plain reasons; one reporting several returns Hits."""
    def add(fn: BatchFn) -> BatchFn:
        for name, description in names:
            register(FilterRule(name, description, phase, batch=fn, columns=columns))
        return fn

    return add


@batch_rule(("human_review", "rejected by reviewers (review_decisions: majority or adjudicator), with their "
                             "reasons"), phase="review")
def human_review(batch: Batch) -> dict[int, str]:
    out = {}
    for i in batch.rows:
        gid = str(batch.records[i].get("generation_id"))
        if gid in batch.human_rejections:
            why = batch.human_rejections[gid]
            out[i] = "rejected by human review" + (f": {why}" if why else "")
    return out


@batch_rule(("eval_contamination", f"shares a word {DecontaminationSettings.n}-gram (by default) with an item of a "
                                   "registered evaluation set (decontamination)"),
            phase="contamination", columns=("eval_match",))
def eval_contamination(batch: Batch) -> dict[int, Hit]:
    """One index lookup for the whole batch, on the texts as exported; the strongest match per row."""
    if not batch.settings.decontamination.eval_sets:
        return {}
    index = contamination_index(batch.settings.decontamination)
    texts = ["\n".join(str(batch.records[i].get(c) or "") for c in ("instruction", "input_message", "output"))
             for i in batch.rows]
    out: dict[int, Hit] = {}
    for hit in index.find_contamination(texts):
        i = batch.rows[hit.row_index]
        if i not in out:  # the strongest match comes first
            out[i] = Hit("eval_contamination",
                         f"shares {hit.overlap} {index.n}-word sequence(s) with item {hit.eval_id} of evaluation "
                         f"set {hit.eval_set}", {"eval_match": f"{hit.eval_set}:{hit.eval_id}"})
    return out


@batch_rule(("exact_duplicate", "same normalised instruction, input and output as an earlier row"),
            ("near_duplicate", "word 3-shingle Jaccard of instruction + input + output above the threshold with an "
                               "earlier row"),
            phase="dedup", columns=("duplicate_of",))
def duplicates(batch: Batch) -> dict[int, Hit]:
    """Within the batch: the earliest row (then the smallest id) of each group stays."""
    recs = [batch.records[i] for i in batch.rows]
    hits = find_duplicates(
        ids=[r["generation_id"] for r in recs], order_keys=[(r["created_at"], r["generation_id"]) for r in recs],
        instructions=[r.get("instruction") for r in recs], input_messages=[r.get("input_message") for r in recs],
        outputs=[r.get("output") for r in recs], near_threshold=batch.near_threshold, seed=batch.seed)
    by_id = {h.generation_id: h for h in hits}
    out: dict[int, Hit] = {}
    for i, r in zip(batch.rows, recs):
        hit = by_id.get(r["generation_id"])
        if hit:
            word = "exact" if hit.kind == "exact_duplicate" else "near"
            out[i] = Hit(hit.kind, f"{word} duplicate of {hit.duplicate_of} (similarity {hit.similarity:.2f})",
                         {"duplicate_of": hit.duplicate_of})
    return out
