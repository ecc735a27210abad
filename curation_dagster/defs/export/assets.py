import hashlib
import json
from datetime import datetime, timezone

import dagster as dg
import numpy as np
import pandas as pd

from curation_dagster.defs.export.config import ExportConfig
from curation_dagster.defs.export.validation import validate_dataset
from curation_dagster.defs.partitions import OWNERS
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.lib.diversity import DiversitySettings, diversity_report, pool_texts
from curation_dagster.lib.export import (assign_splits, churn, drop_chat_duplicates, excluded_cluster_ids, explain_churn,
                                         jsonl_bytes, publish_directory, published_ids, to_chat_record)
from curation_dagster.lib.frames import with_columns
from curation_dagster.lib.progress import dataset_progress, projected_progress
from curation_dagster.lib.review import decide_all, item_fleiss_kappa, pairwise_kappa

def review_summary(annotations: pd.DataFrame, decisions: pd.DataFrame, cluster_decisions: pd.DataFrame) -> dict:
    """How well reviewers agreed (kappa over every answer) and what cluster review decided."""
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


def apply_reviews(sampled: pd.DataFrame, decisions: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The sample with reviewers' rejections removed and their edits applied, and review counts:
    `decisions` over every reviewed example, the rest over the sample as it ships."""
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


PROGRESS_CHECK = dg.AssetCheckSpec(
    name="dataset_progress_to_target", asset="finetuning_dataset",
    description="[WARN] The dataset is on course to reach `target_examples` (by `target_date` when set) at "
                "the rate the sampler really grows it (sampled_examples' `daily_growth`: the sample of the pool "
                "as it was 7 source days earlier against today's), and the sampling mode can reach it.",
)
DIVERSITY_CHECK = dg.AssetCheckSpec(
    name="export_more_diverse_than_random", asset="finetuning_dataset",
    description="[WARN] The export is more diverse than same-size random samples of the pool on a lexical "
                "instrument fitted apart from the selection (word TF-IDF + SVD): Vendi ratio above 1 with z >= `diversity_min_z`. "
                "Coverage, mean distance and the embedding's figures are in the metadata and the manifest.",
)
CHURN_CHECK = dg.AssetCheckSpec(
    name="dataset_churn_within_bound", asset="finetuning_dataset",
    description="[WARN] The selection kept what shipped: of the previous version's examples still in the pool, "
                "at most `max_churn` were dropped (`max_refit_churn` after a topic model refit). Examples a "
                "rule, dedup or a reviewer removed do not count.",
)


def export_diversity(pool: pd.DataFrame, shipped_ids, config: ExportConfig) -> dict | None:
    if not config.diversity_random_samples:
        return None
    vectors = (np.stack(pool["embedding"].to_numpy()).astype(np.float32)
               if "embedding" in pool.columns and len(pool) else None)
    return diversity_report(pool["generation_id"].astype(str).tolist(), pool_texts(pool), list(shipped_ids),
                            DiversitySettings(random_samples=config.diversity_random_samples,
                                              min_z=config.diversity_min_z, seed=config.seed),
                            semantic_vectors=vectors)


def _latest_metadata(context: dg.AssetExecutionContext, key: str) -> dict:
    event = context.instance.get_latest_materialization_event(dg.AssetKey(key))
    mat = event.asset_materialization if event else None
    return {k: getattr(v, "value", v) for k, v in (mat.metadata if mat else {}).items()}


def _previous_manifest(folder) -> dict:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


@dg.asset(group_name="export", owners=OWNERS, kinds={"json", "openai"},
          check_specs=[PROGRESS_CHECK, DIVERSITY_CHECK, CHURN_CHECK])
def finetuning_dataset(context: dg.AssetExecutionContext, config: ExportConfig, dataset_store: DatasetStore,
                       sampled_examples: pd.DataFrame, review_decisions: pd.DataFrame,
                       review_annotations: pd.DataFrame, cluster_decisions: pd.DataFrame,
                       deduplicated_generations: pd.DataFrame):
    """The fine-tuning dataset on disk: OpenAI chat-format `train.jsonl` and `validation.jsonl`
    (split stratified by cluster, seeded), `provenance.jsonl` (which generation each line came from)
    and `manifest.json` (row counts, sha256 of each file, config, source partitions).

    The same rows are also a `finetuning_dataset` table in the warehouse storage (DuckDB locally,
    Snowflake in prod): one row per example with its split, line, `messages` (the JSONL line) and
    provenance, for SQL over what was shipped.

    Human review applies here (`review_decisions`): examples reviewers rejected are left out (and
    leave the pool as `human_review` rejections when their day is re-materialized), edited replies
    replace the assistant message (the original stays in provenance), and the manifest's `review`
    block says how much was reviewed, the counts per state and how well reviewers agreed. Pending and
    adjudication items ship as sampled. Excluded clusters never reach the sample.

    Whether curation helped: the manifest's `diversity` block compares the export with same-size
    random samples of the pool (`deduplicated_generations`) on a word TF-IDF + SVD instrument fitted
    apart from the selection (which reads character n-grams of the same text: related, not blind) (Vendi score, cell coverage, mean distance: ratio and z), with the embedding's
    figures beside it; the WARN check `export_more_diverse_than_random` fails when it is not. The
    manifest's `changes_since_previous` splits dropped examples by cause (left the pool, review,
    duplicate at export, selection) and `dataset_churn_within_bound` bounds the selection's share.

    Before writing, sampled examples whose chat record (last user turn + reply) is an exact or near
    duplicate of another's are left out (`duplicates_removed_at_export`): the user turn joins the
    instruction and the input message, which can make two rows the pool's dedup kept apart near
    duplicates here. Of a pair, the one already shipped stays.

    Files are written to a temp folder and swapped in with a rename, so a failed run never leaves a
    half-written dataset, and no rows to ship (an empty sample, or every example rejected in review)
    fail the run saying why, leaving the last published dataset in place. The same source and config
    always give byte-identical JSONL files.
    """
    target = dataset_store.path(config.dataset_name)
    df, review = apply_reviews(sampled_examples, review_decisions)
    if df.empty:  # never replace a dataset with an empty one
        why = ("sampled_examples is empty (see its empty_reason metadata; an empty pool fails "
               "generation_clusters with the cause)" if sampled_examples.empty else
               f"reviewers rejected all {len(sampled_examples):,} sampled examples")
        raise dg.Failure(
            description=f"no rows to export: {why}; the previous dataset in {target} was left in place",
            metadata={"sampled_rows": len(sampled_examples),
                      "review_rejected": review["rejected_removed_at_export"], "target": str(target)},
        )
    review.update(review_summary(review_annotations, review_decisions, cluster_decisions))
    previous = published_ids(target)  # what is on disk now: the last published version
    df, duplicates = drop_chat_duplicates(df, previous)
    if duplicates:
        context.log.info(f"{len(duplicates)} sampled examples left out as duplicates of another's chat record: "
                         + ", ".join(f"{h.generation_id} ({h.kind} of {h.duplicate_of})" for h in duplicates[:5]))
    df = df.sort_values(["cluster_id", "generation_id"], kind="mergesort").reset_index(drop=True)
    df["split"] = assign_splits(df, config.validation_fraction, config.seed)
    files: dict[str, bytes] = {}
    provenance = []
    counts = {}
    messages = []
    for split in ("train", "validation"):
        part = df[df["split"] == split]
        records = [to_chat_record(r) for r in part.to_dict("records")]
        files[f"{split}.jsonl"] = jsonl_bytes(records)
        counts[split] = len(part)
        messages += [json.dumps(rec["messages"], ensure_ascii=False) for rec in records]
        provenance += [
            {"split": split, "line": i + 1, "generation_id": r["generation_id"], "cluster_id": int(r["cluster_id"]),
             "cluster_name": r["cluster_name"], "template_id": r["template_id"],
             "quality_score": float(r["quality_score"]),
             **({"review_state": r["review_state"]} if r["review_state"] else {}),
             **({"original_output": r["original_output"]} if r["original_output"] else {})}
            for i, r in enumerate(part.to_dict("records"))
        ]
    files["provenance.jsonl"] = jsonl_bytes(provenance)
    days = sorted({str(d)[:10] for d in df["created_at"]}) if len(df) else []
    current = set(df["generation_id"])
    rejected_in_review = set(with_columns(review_decisions, {"generation_id": object, "state": object})
                             .query("state == 'rejected'")["generation_id"].astype(str))
    rejected_in_review |= excluded_cluster_ids(target, cluster_decisions)  # their cluster was excluded
    change = explain_churn(churn(previous, current), previous, current,
                           set(deduplicated_generations["generation_id"].astype(str)), rejected_in_review,
                           {h.generation_id for h in duplicates})
    before = _previous_manifest(target)
    version = str(df["model_version"].iloc[0]) if "model_version" in df.columns else ""
    refit = bool(previous) and before.get("topic_model_version") != version
    diversity = export_diversity(deduplicated_generations, df["generation_id"].astype(str), config)
    sampled_md = _latest_metadata(context, "sampled_examples")
    if "daily_growth" in sampled_md:  # the rate the sampler really grows at (see PROGRESS_CHECK)
        pool_days = pd.to_datetime(deduplicated_generations["created_at"]) if len(deduplicated_generations) else None
        ceiling = int(sampled_md.get("size_ceiling", -1))
        progress = projected_progress(len(df), config.target_examples, float(sampled_md["daily_growth"]),
                                      pool_days.max().date() if pool_days is not None else None,
                                      ceiling if ceiling >= 0 else None)
    else:  # sampled_examples materialized elsewhere, without its growth figures
        progress = dataset_progress(df["created_at"], config.target_examples)
    on_track = progress.projected_date is not None and (
        config.target_date is None or progress.projected_date.isoformat() <= config.target_date)
    progress_md = {
        "examples": progress.count, "target_examples": progress.target, "progress": round(progress.share, 4),
        "daily_rate": progress.daily_rate,
        "projected_date": progress.projected_date.isoformat() if progress.projected_date else "never",
        "target_date": config.target_date or "none",
        **({"why_never": sampled_md.get("below_target_because", "")} if progress.projected_date is None else {}),
    }
    manifest = {
        "dataset": config.dataset_name,
        "changes_since_previous": change,
        "format": "openai-chat-jsonl",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_id": context.run_id,
        "rows": {**counts, "total": len(df)},
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in sorted(files.items())},
        "config": config.model_dump(),
        "source_partitions": days,
        "review": review,
        "duplicates_removed_at_export": len(duplicates),
        "clusters": int(df["cluster_id"].nunique()) if len(df) else 0,
        "sampling_cells": int(df["cell_id"].nunique()) if "cell_id" in df.columns else None,
        "topic_model_version": version,
        "diversity": diversity,
        "progress": {**progress_md, "summary": progress.summary()},
        "templates": df["template_id"].value_counts().sort_index().to_dict() if len(df) else {},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    # Gate before publishing: a dataset that fails validation never replaces the last good one.
    gate = validate_dataset(files, manifest, config.max_tokens_per_example, config.tokenizer)
    if not gate.passed:
        raise dg.Failure(
            description=f"export validation failed ({gate.metadata['failed_expectations'].value}); "
                        f"the previous dataset in {target} was left in place",
            metadata=gate.metadata,
        )
    publish_directory(files, target)
    # the shipped rows as a table too (warehouse storage), one row per JSONL line
    shipped = pd.DataFrame(provenance, columns=["split", "line", "generation_id", "cluster_id", "cluster_name",
                                                "template_id", "quality_score"])
    shipped["messages"] = messages
    shipped["created_at"] = shipped["generation_id"].map(dict(zip(df["generation_id"], df["created_at"])))
    yield dg.Output(shipped, metadata={
        "progress_to_target": progress.summary(),
        "examples_added": change["added"],
        "examples_dropped": change["dropped"],
        "churn_rate": change["churn_rate"],
        "projected_target_date": progress_md["projected_date"],
        "dagster/row_count": len(df),
        "train_rows": counts["train"],
        "validation_rows": counts["validation"],
        "train_path": dg.MetadataValue.path(str(target / "train.jsonl")),
        "validation_path": dg.MetadataValue.path(str(target / "validation.jsonl")),
        "manifest_path": dg.MetadataValue.path(str(target / "manifest.json")),
        # written by the dataset_report asset right after this one (pool_refresh_job)
        "dataset_report": dg.MetadataValue.path(str(target.parent / "reports" / "dataset_report.html")),
        "train_sha256": manifest["files"]["train.jsonl"]["sha256"],
        "source_partitions": len(days),
        "reviewed_share": review["reviewed_share"],
        "review_rejected": review["decisions"]["rejected"],
        "review_edited": review["shipped"]["edited"],
        "dropped_by_selection": change["dropped_by_selection"],
        "duplicates_removed_at_export": len(duplicates),
        **(diversity_metadata(diversity) if diversity else {}),
    })
    yield dg.AssetCheckResult(check_name="dataset_progress_to_target", passed=on_track,
                              severity=dg.AssetCheckSeverity.WARN, metadata=progress_md)
    yield dg.AssetCheckResult(
        check_name="export_more_diverse_than_random", severity=dg.AssetCheckSeverity.WARN,
        passed=bool(diversity and diversity["beats_random"]),
        metadata=diversity_metadata(diversity) if diversity else {"verdict": "diversity_random_samples is 0: not measured"})
    bound = config.max_refit_churn if refit else config.max_churn
    yield dg.AssetCheckResult(
        check_name="dataset_churn_within_bound", severity=dg.AssetCheckSeverity.WARN,
        passed=change["selection_churn_rate"] <= bound,
        metadata={**{k: change[k] for k in ("previous_examples", "dropped", "dropped_left_pool", "dropped_in_review",
                                            "dropped_as_duplicate", "dropped_by_selection", "selection_churn_rate")},
                  "bound": bound, "topic_model_refit": refit})


def diversity_metadata(d: dict) -> dict:
    """The diversity block as flat metadata the UI can plot over materializations."""
    out = {"diversity_verdict": d["verdict"], "beats_random": d["beats_random"]}
    for inst, block in d.get("instruments", {}).items():
        for metric in ("vendi", "coverage", "mean_distance"):
            if metric in block:
                out[f"{inst}_{metric}_ratio"] = block[metric]["ratio"]
                out[f"{inst}_{metric}_z"] = block[metric]["z"]
    return out
