import hashlib
import json
from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from curation_dagster.defs.export.config import ExportConfig
from curation_dagster.defs.export.validation import validate_dataset
from curation_dagster.defs.partitions import OWNERS
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.lib.export import (assign_splits, churn, jsonl_bytes, publish_directory, published_ids,
                                         to_chat_record)
from curation_dagster.lib.frames import with_columns
from curation_dagster.lib.progress import dataset_progress
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
                "the rate examples were added over the last 7 source days.",
)


@dg.asset(group_name="curation", owners=OWNERS, kinds={"json", "openai"}, check_specs=[PROGRESS_CHECK])
def finetuning_dataset(context: dg.AssetExecutionContext, config: ExportConfig, dataset_store: DatasetStore,
                       sampled_examples: pd.DataFrame, review_decisions: pd.DataFrame,
                       review_annotations: pd.DataFrame, cluster_decisions: pd.DataFrame):
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
    # churn is measured against what is on disk now, i.e. the last published version
    change = churn(published_ids(target), set(df["generation_id"]))
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
        "clusters": int(df["cluster_id"].nunique()) if len(df) else 0,
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
    progress = dataset_progress(df["created_at"], config.target_examples)
    on_track = progress.projected_date is not None and (
        config.target_date is None or progress.projected_date.isoformat() <= config.target_date)
    progress_md = {
        "examples": progress.count, "target_examples": progress.target, "progress": round(progress.share, 4),
        "daily_rate": progress.daily_rate,
        "projected_date": progress.projected_date.isoformat() if progress.projected_date else "never",
        "target_date": config.target_date or "none",
    }
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
    })
    yield dg.AssetCheckResult(check_name="dataset_progress_to_target", passed=on_track,
                              severity=dg.AssetCheckSeverity.WARN, metadata=progress_md)
