"""The judge stage: an LLM judge of the examples about to ship (`judged_examples`) and, for teams with
no endpoint, a quality model learned from the usage signals the data has (`offline_judge`).

Where their results go: finetuning_dataset drops the rows judged `low` (rule llm_judge, in the manifest
and the churn) and writes each example's verdict into its provenance; review_queue puts `uncertain`
rows first; sampled_examples reads the verdict store (not an asset dependency: the judge runs after
the sampler) so a row judged low is not picked again, and takes the offline judge's score as the
quality of rows without usage signals.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from curation_dagster.defs.judge.config import JudgeConfig, OfflineJudgeConfig
from curation_dagster.defs.llm import LLMEndpointResource, llm_metadata
from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, POOL_VECTORS_IN, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.lib.frames import embedding_matrix, with_embeddings
from curation_dagster.lib.judge import (CRITERION_NAMES, ERROR, LOW, PROMPT_VERSION, RULE, VerdictStore,
                                        empty_judged_frame, judge_rows, judgements_frame, score_table,
                                        verdict_counts)
from curation_dagster.lib.offline_judge import OFFLINE_COLUMNS, fit_offline_judge
from curation_dagster.lib.quality import SIGNAL_COLUMNS, usage_signal_mask

#: The example columns the judge reads (the pool is loaded with these only when scope='pool').
EXAMPLE_COLUMNS = ["generation_id", "template_id", "instruction", "identity", "input_message", "output"]
VERDICT_STORE = "judge_verdicts.duckdb"

JUDGE_ERRORS_CHECK = dg.AssetCheckSpec(
    name="judge_errors_within_bound", asset="judged_examples",
    description="[WARN] At most `max_error_share` of the judged rows ended as judge_error (an answer that "
                "stayed unparseable after a fresh sample, a timeout, an endpoint that stopped answering). "
                "Those rows ship unjudged; a high share means the model does not follow the JSON format or "
                "the endpoint is struggling. Passes when the judge was skipped (no endpoint).",
)


def verdict_store(dataset_store: DatasetStore) -> VerdictStore:
    """The verdicts kept across refreshes: <export dir>/state/judge_verdicts.duckdb."""
    return VerdictStore(Path(dataset_store.export_dir) / "state" / VERDICT_STORE)


def judged_low_ids(dataset_store: DatasetStore) -> set[str]:
    """Rows the LLM judge scored low under the current prompt version, in this or an earlier refresh."""
    return verdict_store(dataset_store).ids(LOW, PROMPT_VERSION)


def score_table_metadata(table: pd.DataFrame) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        [dg.TableRecord({"criterion": r["criterion"], "rows": int(r["rows"]), "mean": float(r["mean"]),
                         "share_low": float(r["share_low"])}) for r in table.to_dict("records")],
        schema=dg.TableSchema(columns=[dg.TableColumn("criterion", "string"), dg.TableColumn("rows", "int"),
                                       dg.TableColumn("mean", "float"), dg.TableColumn("share_low", "float")]))


@dg.asset(group_name="judge", owners=OWNERS, kinds={"pandas", STORAGE_KIND, "openai"}, pool=WAREHOUSE_POOL,
          check_specs=[JUDGE_ERRORS_CHECK],
          ins={"deduplicated_generations": dg.AssetIn(metadata={"columns": EXAMPLE_COLUMNS})})
def judged_examples(context: dg.AssetExecutionContext, config: JudgeConfig, llm: LLMEndpointResource,
                    dataset_store: DatasetStore, sampled_examples: pd.DataFrame,
                    deduplicated_generations: pd.DataFrame, doc_qa_pairs: pd.DataFrame):
    """An LLM judge's verdict on each sampled example (`scope`='pool': on every pool row) and each
    question-answer pair from the team's documents (doc_qa_pairs), from the
    OpenAI-compatible endpoint of the `llm` resource. Each example is scored 1-5 with a one-line reason
    on a rubric (lib/judge.py): follows the instruction and the identity settings; nothing contradicting
    or invented beyond the input message; structure and tone; for `doc_qa` rows, answerable from the
    passage. It is asked twice (temperature > 0, another seed each time) and its verdict is `low` (a
    criterion both samples put at or below `low_threshold`), `uncertain` (the samples disagree by 2 or
    more, or a middle mean score), `pass`, or `judge_error` (an answer that stayed unparseable after a
    fresh sample, a timeout, a failing endpoint: never a guessed score).

    Low rows leave the dataset at export with the rule `llm_judge` and are not sampled again;
    uncertain rows go to the top of the review queue; judge_error rows ship unjudged. Answers are
    cached (data/llm_cache.duckdb): a re-run asks nothing it asked before. Without an endpoint
    (CURATION_LLM_BASE_URL / CURATION_LLM_MODEL unset) the asset materializes an empty table and says
    why; the offline_judge asset still scores rows without usage signals."""
    s = config.to_settings()
    # the question-answer pairs from the team's documents are judged with the examples they may join
    # (answerable_from_passage applies to them); the export mixes in only those not judged low
    scope = pd.concat([sampled_examples if config.scope == "sampled" else deduplicated_generations,
                       doc_qa_pairs[[c for c in EXAMPLE_COLUMNS if c in doc_qa_pairs.columns]]
                       if len(doc_qa_pairs) else None], ignore_index=True)
    client, why = llm.client("the LLM judge (judged_examples)",
                             hint="the offline_judge asset scores rows without usage signals meanwhile",
                             timeout_s=config.timeout_s, max_retries=config.max_retries)
    base = {"scope": config.scope, "rows_in_scope": len(scope), "prompt_version": PROMPT_VERSION}
    if client is None:
        context.log.info(f"judged_examples skipped: {why}")
        yield dg.Output(empty_judged_frame(), metadata={
            **base, "dagster/row_count": 0, "judged": 0, "skipped_reason": why, **llm_metadata(None, why)})
        yield dg.AssetCheckResult(check_name=JUDGE_ERRORS_CHECK.name, passed=True, severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"judged": 0, "skipped_reason": why})
        return
    cols = [c for c in EXAMPLE_COLUMNS if c in scope.columns]
    rows = scope[cols].sort_values("generation_id", kind="mergesort").to_dict("records")
    judged = judgements_frame(judge_rows(rows, client, s), client.model)
    stored = verdict_store(dataset_store).put(judged)
    counts = verdict_counts(judged)
    errors = judged[judged["verdict"] == ERROR]
    error_share = round(counts[ERROR] / len(judged), 4) if len(judged) else 0.0
    table = score_table(judged, s.low_threshold)
    if counts[ERROR]:
        context.log.warning(f"{counts[ERROR]} of {len(judged)} rows are judge_error (they ship unjudged): "
                            + "; ".join(f"{g}: {r}" for g, r in zip(errors["generation_id"][:3],
                                                                    errors["verdict_reason"][:3])))
    yield dg.Output(judged, metadata={
        **base,
        "dagster/row_count": len(judged),
        "judged": len(judged) - counts[ERROR],
        **{f"verdict_{v}": n for v, n in counts.items()},
        "verdicts": counts_table(counts, "verdict", "rows"),
        # the judged sample's scores: mean per criterion and the share at or below low_threshold
        "score_table": score_table_metadata(table),
        **{f"mean_{r['criterion']}": float(r["mean"]) for r in table.to_dict("records")},
        "judge_error_share": error_share,
        "judge_retries": int(judged["judge_retries"].sum()) if len(judged) else 0,
        "judge_model": client.model,
        "low_rule": RULE,
        "verdicts_stored": stored,
        **llm_metadata(client),
        "preview": preview(judged.sort_values(["verdict", "generation_id"]),
                           ["generation_id", "verdict", "verdict_reason", "mean_score"]),
    })
    yield dg.AssetCheckResult(
        check_name=JUDGE_ERRORS_CHECK.name, passed=error_share <= config.max_error_share,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"judge_errors": counts[ERROR], "judged_rows": len(judged), "judge_error_share": error_share,
                  "bound": config.max_error_share,
                  "examples": preview(errors, ["generation_id", "verdict_reason"])})


OFFLINE_INPUT_COLUMNS = ["generation_id", "quality_score", *SIGNAL_COLUMNS]


@dg.asset(group_name="judge", owners=OWNERS, kinds={"pandas", "scikitlearn", STORAGE_KIND}, pool=WAREHOUSE_POOL,
          ins={"deduplicated_generations": dg.AssetIn(metadata={"columns": OFFLINE_INPUT_COLUMNS}),
               "generation_embeddings": POOL_VECTORS_IN})
def offline_judge(context: dg.AssetExecutionContext, config: OfflineJudgeConfig,
                  deduplicated_generations: pd.DataFrame, generation_embeddings: pd.DataFrame):
    """The offline judge: a quality model learned from the usage signals the data does have, for the
    rows that have none (imported data, a product without telemetry) and for teams with no LLM endpoint.

    Pool rows with usage signals are labelled good (usage-based quality score >= `good_at`) or bad; a
    logistic regression on their embeddings predicts P(good); its AUC on a held-out, seeded, stratified
    split is in the metadata (`held_out_auc`). One row per pool row WITHOUT usage signals: its
    `offline_quality`, which sampled_examples uses as its quality score (quality_source
    `offline_judge`, in the export's provenance). With fewer than `min_per_class` labelled rows of
    either class nothing is fitted and the table is empty, saying why (always so on a ShareGPT import,
    which has no usage signals at all)."""
    s = config.to_settings()
    pool = (with_embeddings(deduplicated_generations, generation_embeddings)
            .sort_values("generation_id", kind="mergesort").reset_index(drop=True))
    mask = usage_signal_mask(pool).to_numpy(dtype=bool)
    labelled, unlabelled = pool[mask], pool[~mask]
    result = fit_offline_judge(embedding_matrix(labelled) if len(labelled) else [],
                               labelled["quality_score"].to_numpy(dtype="float64"),
                               embedding_matrix(unlabelled) if len(unlabelled) else [], s)
    if result.skipped:
        context.log.info(f"offline_judge not fitted: {result.skipped}")
        out = pd.DataFrame({c: pd.Series(dtype=t) for c, t in OFFLINE_COLUMNS.items()})
    else:
        out = pd.DataFrame({"generation_id": unlabelled["generation_id"].astype(str).to_numpy(),
                            "offline_quality": result.scores}).astype(OFFLINE_COLUMNS)
    return dg.Output(out, metadata={
        "dagster/row_count": len(out),
        "pool_rows": len(pool),
        "rows_with_signals": int(mask.sum()),
        "rows_without_signals": int((~mask).sum()),
        "rows_scored": len(out),
        "good_at": s.good_at,
        **result.metadata(),
        **({"mean_offline_quality": round(float(out["offline_quality"].mean()), 4)} if len(out) else {}),
        "used_for": "quality_score of pool rows without usage signals (sampled_examples, quality_source offline_judge)",
    })
