"""The fine-tuning dataset as data: review applied to the sample, the JSONL files, provenance, the
manifest and the shipped table. Pure functions over lib.export's record format; the
finetuning_dataset asset loads its inputs, calls these, validates, publishes and attaches metadata."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from curation_dagster.lib.chat_lines import chat_lines, messages_json
from curation_dagster.lib.dedup import DuplicateHit
from curation_dagster.lib.export import (churn, drop_chat_duplicates, excluded_cluster_ids, explain_churn,
                                         jsonl_bytes)
from curation_dagster.lib.frames import with_columns
from curation_dagster.lib.judge import (CRITERION_NAMES, ERROR, JUDGED_COLUMNS, LOW, RULE, UNCERTAIN, VERDICTS,
                                        score_column)
from curation_dagster.lib.review import decide_all, item_fleiss_kappa, pairwise_kappa
from curation_dagster.lib.splits import assign_splits, dataset_splits, split_groups, split_grouping

SHIPPED_COLUMNS = ["split", "line", "generation_id", "cluster_id", "cluster_name", "template_id", "quality_score"]


def apply_reviews(sampled: pd.DataFrame, decisions: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The sample with reviewers' rejections removed and their edits applied (the original reply kept
    in `original_output`), and review counts: `decisions` over every reviewed example, the rest over
    the sample as it ships."""
    df = sampled.copy()
    decisions = with_columns(decisions, {"generation_id": object, "state": object, "edited_output": object})
    dec = decisions.set_index("generation_id")
    state = df["generation_id"].map(dec["state"]) if len(dec) else pd.Series(None, index=df.index, dtype=object)
    df["review_state"] = state.where(state.notna(), None).astype(object)
    edited = df["review_state"] == "edited"
    df["original_output"] = pd.Series(None, index=df.index, dtype=object)
    df.loc[edited, "original_output"] = df.loc[edited, "output"]
    df.loc[edited, "output"] = df.loc[edited, "generation_id"].map(dec["edited_output"])
    removed = int((df["review_state"] == "rejected").sum())
    df = df[df["review_state"] != "rejected"].reset_index(drop=True)
    reviewed = int(df["review_state"].notna().sum())
    all_states = decisions["state"].value_counts().to_dict()
    return df, {
        "decisions": {s: int(all_states.get(s, 0)) for s in ("accepted", "rejected", "edited", "adjudication",
                                                             "pending")},
        "shipped": {s: int((df["review_state"] == s).sum()) for s in ("accepted", "edited", "adjudication",
                                                                      "pending")},
        "rejected_removed_at_export": removed,
        "reviewed": reviewed,
        "reviewed_share": round(reviewed / len(df), 4) if len(df) else 0.0,
    }


#: review states that overrule the LLM judge: a person accepted or edited the example
REVIEW_OVERRULES_JUDGE = ("accepted", "edited")


def _judge_record(r: dict) -> dict:
    """An example's verdict as its provenance carries it: verdict, mean score per criterion of its
    rubric, why (uncertain, low, judge_error), model and prompt version."""
    scores = {c: float(r[score_column(c)]) for c in CRITERION_NAMES
              if r.get(score_column(c)) is not None and r[score_column(c)] == r[score_column(c)]}
    return {"verdict": r["verdict"], **({"scores": scores} if scores else {}),
            **({"reason": r["verdict_reason"]} if r.get("verdict_reason") else {}),
            "model": r.get("model"), "prompt_version": r.get("prompt_version")}


def apply_judge(reviewed: pd.DataFrame, judged: pd.DataFrame | None) -> tuple[pd.DataFrame, dict, set[str]]:
    """The reviewed sample without the rows the LLM judge scored low (rule llm_judge), unless a reviewer
    accepted or edited them (a person's decision stands); every row keeps its verdict in a `judge`
    column (a dict for its provenance; None when it was not judged). Also the manifest's `judge` block
    and the ids removed. judge_error rows ship unjudged (their verdict says so), never guessed."""
    df = reviewed.copy()
    judged = judged if judged is not None else pd.DataFrame()
    if not len(judged) or "verdict" not in judged.columns:
        df["judge"] = None
        return df, {"rule": RULE, "judged": 0,
                    "skipped": "judged_examples holds no verdicts (no LLM endpoint, or it was not materialized: "
                               "see its skipped_reason)"}, set()
    j = judged.assign(**{c: None for c in JUDGED_COLUMNS if c not in judged.columns})
    j = j.drop_duplicates("generation_id", keep="last").set_index("generation_id")
    ids = df["generation_id"].astype(str)
    records = {str(r["generation_id"]): _judge_record(r) for r in j[j.index.isin(ids)].reset_index().to_dict("records")}
    df["judge"] = [records.get(g) for g in ids]
    verdict = pd.Series([rec["verdict"] if rec else None for rec in df["judge"]], index=df.index, dtype=object)
    state = df["review_state"] if "review_state" in df.columns else pd.Series(None, index=df.index, dtype=object)
    overruled = (verdict == LOW) & state.isin(REVIEW_OVERRULES_JUDGE)
    gone = (verdict == LOW) & ~overruled
    removed = set(ids[gone])
    judged_rows = verdict.notna()
    in_sample = j[j.index.isin(ids)]
    means = {c: round(float(in_sample.loc[in_sample["verdict"] != ERROR, score_column(c)].mean()), 4)
             for c in CRITERION_NAMES if in_sample.loc[in_sample["verdict"] != ERROR, score_column(c)].notna().any()}
    out = df[~gone.to_numpy()].reset_index(drop=True)
    shipped = verdict[~gone]
    block = {
        "rule": RULE,
        "model": str(in_sample["model"].iloc[0]) if len(in_sample) else str(j["model"].iloc[0]),
        "prompt_version": str(j["prompt_version"].iloc[0]),
        "judged": int(judged_rows.sum()),
        "verdicts": {v: int((verdict == v).sum()) for v in VERDICTS},
        "removed": len(removed),
        "removed_ids": sorted(removed),
        "low_kept_by_review": int(overruled.sum()),
        "shipped_uncertain": int((shipped == UNCERTAIN).sum()),
        "shipped_judge_error": int((shipped == ERROR).sum()),
        "shipped_unjudged": int(shipped.isna().sum()),
        "mean_scores": means,
    }
    return out, block, removed


def review_summary(annotations: pd.DataFrame, decisions: pd.DataFrame, cluster_decisions: pd.DataFrame) -> dict:
    """How well reviewers agreed (kappa over every answer: the reviews per item do not depend on the
    decision rule's minimum) and what cluster review decided."""
    ann = with_columns(annotations, {"generation_id": object, "reviewer": object, "verdict": object})
    _, by_item = decide_all(ann.to_dict("records")) if len(ann) else ({}, {})
    kappa, fleiss = pairwise_kappa(by_item), item_fleiss_kappa(by_item)
    dec = with_columns(decisions, {"agreement": "float64"})
    cl = with_columns(cluster_decisions, {"state": object})
    return {
        "reviewers": sorted({str(r) for r in ann["reviewer"]}),
        "cohen_kappa": round(kappa, 4) if kappa is not None else None,
        "fleiss_kappa": round(fleiss, 4) if fleiss is not None else None,
        "mean_item_agreement": round(float(dec["agreement"].mean()), 4) if dec["agreement"].notna().any() else None,
        "clusters_excluded": int((cl["state"] == "rejected").sum()),
        "clusters_renamed": int((cl["state"] == "edited").sum()),
    }


def nothing_to_export(sampled_rows: int) -> str:
    """Why a reviewed sample holds no row to ship."""
    return ("sampled_examples is empty (see its empty_reason metadata; an empty pool fails "
            "generation_clusters with the cause)" if not sampled_rows else
            f"reviewers rejected all {sampled_rows:,} sampled examples")


@dataclass
class DatasetBuild:
    """One version of the dataset before it is written: the rows in file order with their split and
    split group, the file bytes (one JSONL per split, provenance; the manifest is added last), one
    provenance record and one `messages` JSON per line, the sampled examples left out as chat-record
    duplicates, the splits written and the manifest's `split_grouping` block."""
    frame: pd.DataFrame
    files: dict[str, bytes]
    provenance: list[dict]
    messages: list[str]
    duplicates: list[DuplicateHit] = field(default_factory=list)
    splits: tuple[str, ...] = ("train", "validation")
    grouping: dict = field(default_factory=dict)
    records_built: int = 0  # chat records built in this build (the rest read back: lib.chat_lines)

    @property
    def counts(self) -> dict[str, int]:
        return {s: int((self.frame["split"] == s).sum()) for s in self.splits}

    @cached_property
    def days(self) -> list[str]:
        if not len(self.frame):
            return []
        created = self.frame["created_at"]
        if pd.api.types.is_datetime64_any_dtype(created):  # one vectorised format, not str() of 50,000 Timestamps
            return sorted(created.dt.strftime("%Y-%m-%d").unique().tolist())
        return sorted({str(d)[:10] for d in created})

    def file_digests(self) -> dict:
        return {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                for name, data in sorted(self.files.items())}

    def shipped_table(self) -> pd.DataFrame:
        """One row per JSONL line: split, line, provenance, `messages` (the line's messages) and created_at."""
        out = pd.DataFrame(self.provenance, columns=SHIPPED_COLUMNS)
        out["messages"] = self.messages
        out["created_at"] = out["generation_id"].map(dict(zip(self.frame["generation_id"], self.frame["created_at"])))
        return out


def _text(value) -> bool:
    # a column with no value on this row is NaN after a merge, and NaN is truthy: json.dumps would write it
    # as the bare token NaN, which strict JSON readers (jq, JavaScript, Go) reject
    return isinstance(value, str) and bool(value)


def _provenance(split: str, line: int, r: dict) -> dict:
    return {"split": split, "line": line, "generation_id": r["generation_id"], "cluster_id": int(r["cluster_id"]),
            "cluster_name": r["cluster_name"], "template_id": r["template_id"],
            "quality_score": float(r["quality_score"]), "split_group": r["split_group"],
            # doc_qa rows (lib.doc_qa): the document file and chunk the question-answer pair came from
            **({"doc_path": r["doc_path"], "chunk_id": r["chunk_id"]} if isinstance(r.get("chunk_id"), str) else {}),
            # variants, paraphrases and negatives (lib.variants): the source generation and how it was derived
            **({"derived_from": r["derived_from"], "derivation": r["derivation"]}
               if _text(r.get("derivation")) else {}),
            **({"review_state": r["review_state"]} if _text(r.get("review_state")) else {}),
            **({"original_output": r["original_output"]} if _text(r.get("original_output")) else {}),
            **({"quality_source": r["quality_source"]} if r.get("quality_source") == "offline_judge" else {}),
            **({"judge": r["judge"]} if isinstance(r.get("judge"), dict) else {})}


#: the columns _provenance reads (the rest of a row, its texts above all, is not turned into dicts)
PROVENANCE_COLUMNS = ("generation_id", "cluster_id", "cluster_name", "template_id", "quality_score", "split_group",
                      "doc_path", "chunk_id", "derived_from", "derivation", "review_state", "original_output",
                      "quality_source", "judge")


def build_dataset(reviewed: pd.DataFrame, shipped: set[str] | None, validation_fraction: float,
                  seed: int, test_fraction: float = 0.0, signature_cache: Path | None = None,
                  lines_cache: Path | None = None) -> DatasetBuild:
    """The dataset's files from the reviewed sample: chat-record duplicates left out (the shipped one
    of a pair stays), rows ordered by cluster then id, split by whole split groups (same prompt or
    same `source_group`: lib.splits) stratified by cluster (seeded), and each split's lines in that
    order; test.jsonl only when test_fraction > 0. The same rows and settings always give the same bytes
    (`signature_cache`: lib.export.chat_signatures; `lines_cache`: lib.chat_lines; neither changes a
    result, both spare a refresh the work on examples it built before)."""
    built = chat_lines(reviewed, lines_cache)
    df = reviewed.assign(_line=built.lines)
    df, duplicates = drop_chat_duplicates(df, shipped, signature_cache, (built.users, built.replies))
    df = df.sort_values(["cluster_id", "generation_id"], kind="mergesort").reset_index(drop=True)
    df["split_group"] = split_groups(df)
    df["split"] = assign_splits(df, validation_fraction, seed, test_fraction, groups=df["split_group"])
    splits = dataset_splits(test_fraction)
    files, provenance, messages = {}, [], []
    for split in splits:
        part = df[df["split"] == split]
        lines = part["_line"].tolist()
        files[f"{split}.jsonl"] = "".join(line + "\n" for line in lines).encode()
        messages += [messages_json(line) for line in lines]
        rows = part[[c for c in PROVENANCE_COLUMNS if c in part.columns]].to_dict("records")
        provenance += [_provenance(split, i + 1, r) for i, r in enumerate(rows)]
    files["provenance.jsonl"] = jsonl_bytes(provenance)
    grouping = split_grouping(df["split"], df["split_group"], splits, validation_fraction, test_fraction)
    return DatasetBuild(df.drop(columns=["_line"]), files, provenance, messages, duplicates, splits, grouping,
                        records_built=built.built)


def dataset_changes(build: DatasetBuild, previous: set[str] | None, pool_ids: set[str],
                    review_decisions: pd.DataFrame, dataset_dir: Path, cluster_decisions: pd.DataFrame,
                    judged_low: set[str] = frozenset()) -> dict:
    """What changed since the published version, its drops split by cause (lib.export.explain_churn):
    a row rejected in review or of a cluster excluded since counts as review's, one the LLM judge
    scored low (now or in an earlier refresh: `judged_low`) as the judge's (rule llm_judge)."""
    current = set(build.frame["generation_id"])
    decisions = with_columns(review_decisions, {"generation_id": object, "state": object})
    rejected = set(decisions.loc[decisions["state"] == "rejected", "generation_id"].astype(str))
    rejected |= excluded_cluster_ids(dataset_dir, cluster_decisions)
    return explain_churn(churn(previous, current), previous, current, pool_ids, rejected,
                         {h.generation_id for h in build.duplicates}, judged_low)


def dataset_manifest(build: DatasetBuild, *, name: str, created_at: str, run_id: str, config: dict, change: dict,
                     review: dict, diversity: dict | None, progress: dict, judge: dict | None = None) -> dict:
    """manifest.json: what the version holds (rows per split, `split_grouping`: how they were grouped,
    sha256 of each file, source days, templates, clusters and cells), how it was made (config, run,
    topic model) and what it is worth (review, the LLM judge, diversity, progress, changes since the
    previous version)."""
    df = build.frame
    return {
        "dataset": name,
        "changes_since_previous": change,
        "format": "openai-chat-jsonl",
        "created_at": created_at,
        "run_id": run_id,
        "rows": {**build.counts, "total": len(df)},
        "split_grouping": build.grouping,
        "files": build.file_digests(),
        "config": config,
        "source_partitions": build.days,
        "review": review,
        "judge": judge,
        "duplicates_removed_at_export": len(build.duplicates),
        "clusters": int(df["cluster_id"].nunique()) if len(df) else 0,
        "sampling_cells": int(df["cell_id"].nunique()) if "cell_id" in df.columns else None,
        "topic_model_version": topic_model_version(df),
        "diversity": diversity,
        "progress": progress,
        "templates": df["template_id"].value_counts().sort_index().to_dict() if len(df) else {},
    }


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def topic_model_version(df: pd.DataFrame) -> str:
    """The topic model the rows were sampled with ("" for rows from before versions were recorded)."""
    return str(df["model_version"].iloc[0]) if "model_version" in df.columns and len(df) else ""
