import json
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pandas as pd

from curation_dagster.defs.export.config import ExportConfig
from curation_dagster.defs.export.validation import validate_dataset
from curation_dagster.defs.partitions import OWNERS, POOL_VECTORS_IN
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.lib.diversity import DiversitySettings, Instruments, compare_to_pool, pool_texts
from curation_dagster.defs.judge.assets import judged_low_ids
from curation_dagster.lib.dataset import (DatasetBuild, apply_judge, apply_reviews, build_dataset, dataset_changes,
                                          dataset_manifest, manifest_bytes, nothing_to_export, review_summary,
                                          topic_model_version)
from curation_dagster.lib.doc_qa import mix_doc_qa
from curation_dagster.lib.variants import mix_variants
from curation_dagster.lib.export import publish_directory, published_ids
from curation_dagster.lib.files import state_path, write_atomic
from curation_dagster.lib.frames import embedding_matrix, with_embeddings
from curation_dagster.lib.progress import dataset_progress, projected_progress

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
                "rule, dedup, a reviewer or the LLM judge (rule llm_judge) removed do not count.",
)


def export_diversity(pool: pd.DataFrame, shipped_ids, config: ExportConfig, target: Path, model_version: str) -> dict | None:
    """The manifest's diversity block. The instruments (TF-IDF + SVD, the cells of both) are kept in
    the export's state folder (state_path(target, ...)) and used again while the topic model and
    settings stay and the pool has not grown past REFIT_GROWTH times the rows they were fitted on: a
    daily refresh then only applies them."""
    state = state_path(target, "diversity.npz")
    if not config.diversity_random_samples:
        return None
    vectors = embedding_matrix(pool) if "embedding" in pool.columns and len(pool) else None
    s = DiversitySettings(random_samples=config.diversity_random_samples, min_z=config.diversity_min_z, seed=config.seed)
    key = f"{model_version}|{s.seed}|{s.cells}|{s.svd_components}|{s.max_chars}|{s.fit_cap}"
    kept = Instruments.load(state)
    # each row's lexical vector is kept beside the instruments, so a refresh projects only new texts
    report, instruments = compare_to_pool(pool["generation_id"].astype(str).tolist(), pool_texts(pool),
                                          list(shipped_ids), s, vectors, kept=kept, key=key,
                                          lexical_rows=state_path(target, "diversity_rows.npz"))
    if instruments is not None and instruments is not kept:
        write_atomic(state, instruments.save)
    return report


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
          check_specs=[PROGRESS_CHECK, DIVERSITY_CHECK, CHURN_CHECK],
          ins={"generation_embeddings": POOL_VECTORS_IN})  # the pool's vectors: the semantic instrument
def finetuning_dataset(context: dg.AssetExecutionContext, config: ExportConfig, dataset_store: DatasetStore,
                       sampled_examples: pd.DataFrame, review_decisions: pd.DataFrame,
                       review_annotations: pd.DataFrame, cluster_decisions: pd.DataFrame,
                       deduplicated_generations: pd.DataFrame, generation_embeddings: pd.DataFrame,
                       judged_examples: pd.DataFrame,
                       doc_qa_pairs: pd.DataFrame, example_variants: pd.DataFrame):
    """The fine-tuning dataset on disk: OpenAI chat-format `train.jsonl` and `validation.jsonl`, and
    `test.jsonl` when `test_fraction` > 0 (split stratified by cluster, seeded, in whole split groups:
    rows with the same normalised prompt or `source_group` are on one side, lib/splits.py),
    `provenance.jsonl` (which generation and split group each line came from) and `manifest.json`
    (row counts, the `split_grouping` block, sha256 of each file, config, source partitions).

    The same rows are also a `finetuning_dataset` table in the warehouse storage (DuckDB locally,
    Snowflake in prod): one row per example with its split, line, `messages` (the JSONL line) and
    provenance, for SQL over what was shipped.

    Human review applies here (`review_decisions`): examples reviewers rejected are left out (and
    leave the pool as `human_review` rejections when their day is re-materialized), edited replies
    replace the assistant message (the original stays in provenance), and the manifest's `review`
    block says how much was reviewed, the counts per state and how well reviewers agreed. Pending and
    adjudication items ship as sampled. Excluded clusters never reach the sample.

    The LLM judge applies here (`judged_examples`): examples judged `low` are left out with the rule
    `llm_judge` (the manifest's `judge` block lists them; the churn counts them as `dropped_by_judge`)
    unless a reviewer accepted or edited them, and each exported example's provenance carries its
    verdict, mean scores, model and prompt version (`judge`). judge_error rows ship unjudged. Without
    verdicts (no endpoint) nothing changes but the manifest saying so.

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

    Question-answer pairs from the team's documents (`doc_qa_pairs`, template doc_qa) make up to
    `doc_qa_share` of the rows (default 0: none), filed under cluster -2; their provenance carries
    `doc_path` and `chunk_id`, and all pairs of one chunk share a split group. Variants and negatives
    (`example_variants`, already at their shares) are appended, those of a source only with it; their
    provenance carries `derived_from` and `derivation`, and each shares its source's split group.

    Files are written to a temp folder and swapped in with a rename, so a failed run never leaves a
    half-written dataset, and no rows to ship (an empty sample, or every example rejected in review)
    fail the run saying why, leaving the last published dataset in place. The same source and config
    always give byte-identical JSONL files.
    """
    target = dataset_store.path(config.dataset_name)
    df, review = apply_reviews(sampled_examples, review_decisions)
    if df.empty:  # never replace a dataset with an empty one
        raise dg.Failure(
            description=f"no rows to export: {nothing_to_export(len(sampled_examples))}; "
                        f"the previous dataset in {target} was left in place",
            metadata={"sampled_rows": len(sampled_examples),
                      "review_rejected": review["rejected_removed_at_export"], "target": str(target)})
    # question-answer pairs from the team's documents, up to doc_qa_share of the export (0: none); judged
    # with the sample, so a pair scored low leaves with the rule llm_judge like any example
    df, doc_qa = mix_doc_qa(df, doc_qa_pairs, config.doc_qa_share, config.seed)
    df, judge, judged_out = apply_judge(df, judged_examples)
    if df.empty:
        raise dg.Failure(
            description=f"no rows to export: the LLM judge scored all {len(judged_out):,} remaining examples low "
                        f"(rule llm_judge); the previous dataset in {target} was left in place",
            metadata={"sampled_rows": len(sampled_examples), "removed_by_llm_judge": len(judged_out),
                      "target": str(target)})
    df, variants = mix_variants(df, example_variants)  # variants and negatives (lib.variants), at their shares
    review.update(review_summary(review_annotations, review_decisions, cluster_decisions))
    previous = published_ids(target)  # what is on disk now: the last published version
    build = build_dataset(df, previous, config.validation_fraction, config.seed, config.test_fraction,
                          state_path(target, "chat_signatures.npz"), state_path(target, "chat_lines.parquet"))
    if build.duplicates:
        context.log.info(f"{len(build.duplicates)} sampled examples left out as duplicates of another's chat "
                         "record: " + ", ".join(f"{h.generation_id} ({h.kind} of {h.duplicate_of})"
                                                for h in build.duplicates[:5]))
    # judged low now, or in an earlier refresh (then the sampler already left them out)
    change = dataset_changes(build, previous, set(deduplicated_generations["generation_id"].astype(str)),
                             review_decisions, target, cluster_decisions,
                             judged_out | (judged_low_ids(dataset_store) & (previous or set())))
    refit = bool(previous) and _previous_manifest(target).get("topic_model_version") != topic_model_version(build.frame)
    diversity = export_diversity(with_embeddings(deduplicated_generations, generation_embeddings),
                                 build.frame["generation_id"].astype(str), config,
                                 target, topic_model_version(build.frame))
    progress, progress_md, on_track = export_progress(context, config, build.frame, deduplicated_generations)
    manifest = dataset_manifest(
        build, name=config.dataset_name, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        run_id=context.run_id, config=config.model_dump(), change=change, review=review, diversity=diversity,
        progress={**progress_md, "summary": progress.summary()}, judge=judge)
    files = {**build.files, "manifest.json": manifest_bytes(manifest)}
    # Gate before publishing: a dataset that fails validation never replaces the last good one.
    gate = validate_dataset(files, manifest, config.max_tokens_per_example, config.tokenizer, target, context.run_id)
    if not gate.passed:
        raise dg.Failure(description=f"export validation failed ({gate.metadata['failed_expectations'].value}); "
                                     f"the previous dataset in {target} was left in place", metadata=gate.metadata)
    publish_directory(files, target)
    yield dg.Output(build.shipped_table(), metadata={
        **export_metadata(build, manifest, target, progress, progress_md),
        "doc_qa_rows": int((build.frame["template_id"] == "doc_qa").sum()), "doc_qa_available": doc_qa["available"],
        "derived_rows_mixed": sum(variants["mixed"].values())})
    yield from export_checks(config, progress_md, on_track, diversity, change, refit)


def export_progress(context: dg.AssetExecutionContext, config: ExportConfig, df: pd.DataFrame,
                    pool: pd.DataFrame) -> tuple:
    """(progress, its metadata, on track): the dataset's course to `target_examples`, projected at the
    rate the sampler really grows (sampled_examples' daily_growth) when that was recorded."""
    sampled_md = _latest_metadata(context, "sampled_examples")
    if "daily_growth" in sampled_md:  # the rate the sampler really grows at (see PROGRESS_CHECK)
        pool_days = pd.to_datetime(pool["created_at"]) if len(pool) else None
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
    return progress, progress_md, on_track


def export_metadata(build: DatasetBuild, manifest: dict, target, progress, progress_md: dict) -> dict:
    """What the UI shows for a version: progress, churn, sizes and paths, review, diversity."""
    change, review, counts = manifest["changes_since_previous"], manifest["review"], build.counts
    return {
        "progress_to_target": progress.summary(),
        "examples_added": change["added"],
        "examples_dropped": change["dropped"],
        "churn_rate": change["churn_rate"],
        "projected_target_date": progress_md["projected_date"],
        "dagster/row_count": len(build.frame),
        **{f"{s}_rows": n for s, n in counts.items()},
        "split_groups": manifest["split_grouping"]["groups"],
        "split_groups_of_several_rows": manifest["split_grouping"]["groups_of_several_rows"],
        **{f"{s}_path": dg.MetadataValue.path(str(target / f"{s}.jsonl")) for s in counts},
        "manifest_path": dg.MetadataValue.path(str(target / "manifest.json")),
        # written by the dataset_report asset right after this one (pool_refresh_job)
        "dataset_report": dg.MetadataValue.path(str(target.parent / "reports" / "dataset_report.html")),
        "train_sha256": manifest["files"]["train.jsonl"]["sha256"],
        "source_partitions": len(build.days),
        "reviewed_share": review["reviewed_share"],
        "review_rejected": review["decisions"]["rejected"],
        "review_edited": review["shipped"]["edited"],
        "dropped_by_selection": change["dropped_by_selection"],
        "dropped_by_judge": change["dropped_by_judge"],
        "duplicates_removed_at_export": len(build.duplicates),
        # chat records built in this run; the rest were read back from the last one (lib.chat_lines)
        "chat_records_built": build.records_built,
        **judge_metadata(manifest["judge"]),
        **(diversity_metadata(manifest["diversity"]) if manifest["diversity"] else {}),
    }


def export_checks(config: ExportConfig, progress_md: dict, on_track: bool, diversity: dict | None, change: dict,
                  refit: bool):
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
                                            "dropped_by_judge", "dropped_as_duplicate", "dropped_by_selection",
                                            "selection_churn_rate")},
                  "bound": bound, "topic_model_refit": refit})


def judge_metadata(judge: dict | None) -> dict:
    """The manifest's judge block as flat metadata: removed by llm_judge, and what shipped uncertain or unjudged."""
    if not judge or not judge.get("judged"):
        return {"llm_judge": (judge or {}).get("skipped", "no verdicts")}
    return {"removed_by_llm_judge": judge["removed"], "judge_low_kept_by_review": judge["low_kept_by_review"],
            "shipped_judge_uncertain": judge["shipped_uncertain"],
            "shipped_judge_error": judge["shipped_judge_error"], "judge_model": judge["model"]}


def diversity_metadata(d: dict) -> dict:
    """The diversity block as flat metadata the UI can plot over materializations."""
    out = {"diversity_verdict": d["verdict"], "beats_random": d["beats_random"]}
    for inst, block in d.get("instruments", {}).items():
        for metric in ("vendi", "coverage", "mean_distance"):
            if metric in block:
                out[f"{inst}_{metric}_ratio"] = block[metric]["ratio"]
                out[f"{inst}_{metric}_z"] = block[metric]["z"]
    return out
