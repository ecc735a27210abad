"""Human review: what people should look at first, and what their reviews decide.

The loop: `review_queue` and `cluster_review_queue` push tasks to Label Studio (one project per
reviewer), reviewers answer there (or in a spreadsheet: `curation review export/import`), the
`label_studio_annotations` sensor sees new answers and materializes `review_annotations` and the
decisions, and the next pool refresh applies them to the dataset.
"""

import dagster as dg
import pandas as pd
from pydantic import Field

from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND
from curation_dagster.defs.resources import SourceWarehouse
from curation_dagster.defs.review.resources import LabelStudioResource
from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.label_studio import (CLUSTER_KEY, EXAMPLE_KEY, annotation_rows, cluster_task,
                                               example_task)
from curation_dagster.lib.frames import with_columns
from curation_dagster.lib.text import sha256_hex
from curation_dagster.lib.review import STATES, item_fleiss_kappa, pairwise_kappa, reviewer_rates
from curation_dagster.lib.review_tables import (CLUSTER_DECISION_COLUMNS, DECISION_COLUMNS, USABLE, QueueSettings,
                                                cluster_decisions_table, example_decisions_table,
                                                review_queue_table, short_of_reviews)

ANNOTATION_TABLE = {"reviewer": object, "verdict": object, "reasons": object, "edited_output": object,
                    "adjudicator": bool, "source": object, "reviewed_at": object, "project_reviewer": object,
                    "raw_result": object, "created_day": object}


class ReviewConfig(dg.Config):
    min_quality: float = Field(0.4, description="The filter's quality threshold: scores near it are uncertain.")
    quality_band: float = Field(0.2, description="Distance from the threshold at which quality stops adding doubt.")
    max_items: int = Field(200, description="Queue length: the most uncertain examples first.")
    near_threshold_band: float = Field(0.0, description=(
        "Also queue pool rows that were NOT sampled whose quality score is within this distance above "
        "the threshold (0 = sampled examples only): reviewing them checks the threshold, and a rejection "
        "removes them like any other (human_review)."))


ReviewConfig = team_defaults(ReviewConfig, "review")  # curation.yaml: review: (min_quality from filter:)


POOL_COLUMNS = ["generation_id", "template_id", "instruction", "identity", "input_message", "output", "quality_score",
                "created_at"]


def _push(label_studio: LabelStudioResource, kind: str, reviewers: list[str], key: str,
          tasks: list[dict]) -> dict[str, int]:
    """Add the tasks each reviewer's project does not hold yet; existing tasks and their annotations
    are never touched. Returns tasks added per reviewer."""
    client = label_studio.client()
    added = {}
    for reviewer in reviewers:
        pid = label_studio.ensure_project(kind, reviewer, client)
        have = {str(t["data"].get(key)) for t in label_studio.tasks(pid, client)}
        new = [t for t in tasks if str(t["data"][key]) not in have]
        added[reviewer] = label_studio.add_tasks(pid, new, client)
    return added


@dg.asset(group_name="review", owners=OWNERS, kinds={STORAGE_KIND, "pandas", "labelstudio"},
          ins={"deduplicated_generations": dg.AssetIn(metadata={"columns": POOL_COLUMNS}),
               "generation_clusters": dg.AssetIn(metadata={"columns": ["generation_id", "cluster_id", "cluster_name",
                                                                       "probability", "is_outlier"]}),
               "judged_examples": dg.AssetIn(metadata={"columns": ["generation_id", "verdict", "verdict_reason"]})})
def review_queue(context: dg.AssetExecutionContext, config: ReviewConfig, label_studio: LabelStudioResource,
                 sampled_examples: pd.DataFrame, review_decisions: pd.DataFrame,
                 deduplicated_generations: pd.DataFrame, generation_clusters: pd.DataFrame,
                 judged_examples: pd.DataFrame):
    """The sampled examples people should review, in order: items in adjudication (reviewers split),
    then items the LLM judge found `uncertain` (its two samples disagree, or a middle score: the
    verdict and why are in `judge_verdict` / `judge_reason`), then items still short of their minimum
    reviews, then the rest by `uncertainty` (lib/review.py:
    distance from the cluster centroid, outliers fully, and closeness of the quality score to the
    filter's threshold). Items with a final decision are not queued again. `candidate` says where an
    item comes from: `sampled`, or `near_threshold` (unsampled pool rows just above the quality
    threshold, when `near_threshold_band` > 0). Items the judge scored low are not queued: they leave
    the dataset with the rule llm_judge.

    With Label Studio configured, each reviewer's project receives the items it does not hold yet
    (re-materializing never duplicates a task or touches an answer); adjudication items go to the
    adjudicator's project. Without it, `curation review export` writes the queue for a spreadsheet."""
    settings = QueueSettings(config.min_quality, config.quality_band, config.max_items, config.near_threshold_band)
    pool = (deduplicated_generations.merge(generation_clusters, on="generation_id", how="inner")
            if config.near_threshold_band > 0 else None)
    queue, candidates = review_queue_table(sampled_examples, review_decisions, pool, settings, judged_examples)
    decisions = with_columns(review_decisions, DECISION_COLUMNS)
    pushed: dict = {}
    if label_studio.configured:
        rows = queue.to_dict("records")
        pushed = _push(label_studio, "examples", label_studio.reviewer_list, EXAMPLE_KEY,
                       [example_task(r, r["rank"]) for r in rows if r["review_state"] != "adjudication"])
        split = [example_task(r, r["rank"]) for r in rows if r["review_state"] == "adjudication"]
        if label_studio.adjudicator and split:
            pushed.update({f"{k} (adjudication)": v for k, v in _push(
                label_studio, "adjudication", [label_studio.adjudicator], EXAMPLE_KEY, split).items()})
    return dg.Output(queue, metadata={
        "dagster/row_count": len(queue),
        "candidates": candidates,
        "already_decided": int(sampled_examples["generation_id"].isin(
            decisions.loc[decisions["state"].isin(USABLE), "generation_id"]).sum()),
        "in_adjudication": int((queue["review_state"] == "adjudication").sum()),
        "judge_uncertain_in_queue": int((queue["judge_verdict"] == "uncertain").sum()),
        "near_threshold_in_queue": int((queue["candidate"] == "near_threshold").sum()),
        "mean_uncertainty": round(float(queue["uncertainty"].mean()), 4) if len(queue) else 0.0,
        "outliers_in_queue": int(queue["is_outlier"].sum()) if len(queue) else 0,
        "label_studio": ("not configured (LABEL_STUDIO_URL): use `curation review export`"
                         if not label_studio.configured else label_studio.url),
        "tasks_added": counts_table(pushed, "reviewer", "tasks") if pushed else "none",
        "preview": preview(queue, ["rank", "generation_id", "review_state", "uncertainty", "cluster_name"]),
    })


class ClusterQueueConfig(dg.Config):
    members: int = Field(5, description="Example members shown with each cluster.")


ClusterQueueConfig = team_defaults(ClusterQueueConfig, "cluster_review")  # curation.yaml: cluster_review:


@dg.asset(group_name="review", owners=OWNERS, kinds={STORAGE_KIND, "pandas", "labelstudio"})
def cluster_review_queue(context: dg.AssetExecutionContext, config: ClusterQueueConfig,
                         label_studio: LabelStudioResource, cluster_summaries: pd.DataFrame,
                         generation_clusters: pd.DataFrame, sampled_examples: pd.DataFrame,
                         cluster_decisions: pd.DataFrame):
    """The current topic model's clusters for review: name, keywords, size and a few members each;
    reviewers include or exclude a cluster and may rename it. Keyed by `<model_version>:<cluster_id>`,
    so a refit starts a fresh round. Clusters already decided are not queued again."""
    decided = with_columns(cluster_decisions, CLUSTER_DECISION_COLUMNS)
    decided = set(decided.loc[decided["state"].isin(USABLE), "cluster_key"])
    version = str(generation_clusters["model_version"].iloc[0]) if len(generation_clusters) else "none"
    members = {cid: [f"{r['instruction']} → {str(r['output'])[:240]}" for r in grp.head(config.members).to_dict("records")]
               for cid, grp in sampled_examples.sort_values("generation_id").groupby("cluster_id")}
    summaries = cluster_summaries[cluster_summaries["cluster_id"] != -1].sort_values("cluster_id")
    tasks = [cluster_task(s, members.get(s["cluster_id"], []), version) for s in summaries.to_dict("records")]
    tasks = [t for t in tasks if t["data"][CLUSTER_KEY] not in decided]
    out = pd.DataFrame({
        CLUSTER_KEY: pd.Series([t["data"][CLUSTER_KEY] for t in tasks], dtype=object),
        "cluster_id": pd.Series([t["data"]["cluster_id"] for t in tasks], dtype="int64"),
        "cluster_name": pd.Series([t["data"]["cluster_name"] for t in tasks], dtype=object),
        "summary": pd.Series([t["data"]["summary"] for t in tasks], dtype=object),
    })
    pushed = (_push(label_studio, "clusters", label_studio.reviewer_list, CLUSTER_KEY, tasks)
              if label_studio.configured else {})
    return dg.Output(out, metadata={
        "dagster/row_count": len(out), "model_version": version, "already_decided": len(decided),
        "tasks_added": counts_table(pushed, "reviewer", "tasks") if pushed else "none",
    })


review_imports = dg.AssetSpec(
    key="review_imports",
    description=("Spreadsheet reviews in the warehouse's `review_imports` table (generation_id, reviewer, verdict, "
                 "reasons, edited_output, adjudicator, source, reviewed_at), written by `curation review import`; "
                 "not materialized by Dagster. `review_annotations` gathers them with Label Studio's answers."),
    group_name="review", owners=OWNERS, kinds={STORAGE_KIND},
)


@dg.multi_asset(
    outs={
        "review_annotations": dg.AssetOut(
            description="Every answer reviewers gave on examples: Label Studio annotations pulled from all of "
                        "the pipeline's projects (reviewer = the account that submitted, raw result kept) and "
                        "imported spreadsheet rows. One row per answer; the latest per reviewer counts.",
            owners=OWNERS, kinds={STORAGE_KIND, "pandas", "labelstudio"}),
        "cluster_annotations": dg.AssetOut(
            description="Every answer reviewers gave on clusters (include = accept, exclude = reject, a new "
                        "name = edited_output), keyed by cluster_key = <model_version>:<cluster_id>.",
            owners=OWNERS, kinds={STORAGE_KIND, "pandas", "labelstudio"}),
    },
    deps=[review_imports], group_name="review",
)
def pull_review_annotations(context: dg.AssetExecutionContext, label_studio: LabelStudioResource,
                            warehouse: SourceWarehouse):
    """Step `pull_review_annotations` (no run config): every reviewer answer, from Label Studio and
    from imported spreadsheets, published as review_annotations (examples) and cluster_annotations
    (clusters)."""
    examples, clusters = [], []
    outside = 0
    if label_studio.configured:
        client = label_studio.client()
        users = label_studio.users(client)
        for pid, kind, reviewer in label_studio.owned_projects(client):
            rows = annotation_rows(label_studio.tasks(pid, client), kind, users, pid, reviewer)
            outside += sum(r["reviewer"] != reviewer for r in rows)
            (clusters if kind == "clusters" else examples).extend(rows)
    for rec in warehouse.read_reviews().to_dict("records"):
        examples.append({**{k: v for k, v in rec.items() if k != EXAMPLE_KEY}, "item_key": rec[EXAMPLE_KEY],
                         "project_reviewer": rec["reviewer"], "adjudicator": bool(rec.get("adjudicator")),
                         "reviewed_at": str(rec.get("reviewed_at")), "raw_result": None})
    ex = with_columns(pd.DataFrame(examples).rename(columns={"item_key": EXAMPLE_KEY}),
                      {EXAMPLE_KEY: object, **ANNOTATION_TABLE})
    cl = with_columns(pd.DataFrame(clusters).rename(columns={"item_key": CLUSTER_KEY}),
                      {CLUSTER_KEY: object, **ANNOTATION_TABLE})
    ls_rows = int(ex["source"].astype(str).str.startswith("label-studio").sum())
    yield dg.Output(ex, "review_annotations", metadata={
        "dagster/row_count": len(ex),
        "from_label_studio": ls_rows,
        "from_spreadsheets": len(ex) - ls_rows,
        "per_reviewer": counts_table(ex["reviewer"].value_counts().to_dict(), "reviewer", "answers"),
        "answers_outside_own_project": outside,
        "label_studio": label_studio.url if label_studio.configured else "not configured",
    })
    yield dg.Output(cl, "cluster_annotations", metadata={
        "dagster/row_count": len(cl),
        "per_reviewer": counts_table(cl["reviewer"].value_counts().to_dict(), "reviewer", "answers"),
    })


class DecisionConfig(dg.Config):
    min_reviews: int = Field(2, description="Reviews an example needs before its decision is used.")
    cluster_min_reviews: int = Field(1, description="Reviews a cluster needs before its decision is used.")
    min_kappa: float = Field(0.4, description="WARN when reviewers agree less than this (Cohen's / Fleiss' kappa).")


DecisionConfig = team_defaults(DecisionConfig, "review_decisions")  # curation.yaml: review_decisions:


AGREEMENT_CHECK = dg.AssetCheckSpec(
    name="reviewers_agree", asset="review_decisions",
    description="[WARN] Reviewers' accept/reject verdicts agree at kappa >= `min_kappa`: Cohen's kappa of the two "
                "most active reviewers on their shared items, and Fleiss' kappa where three or more reviewed the "
                "same items (no verdict with fewer than two shared items).",
)
MIN_REVIEWS_CHECK = dg.AssetCheckSpec(
    name="decisions_have_min_reviews", asset="review_decisions", blocking=True,
    description="[ERROR] Every decision the dataset would act on (accepted, rejected, edited) has at least "
                "`min_reviews` reviews or an adjudicator's; otherwise the export must not use it.",
)


@dg.multi_asset(
    outs={
        "review_decisions": dg.AssetOut(
            description="One decision per reviewed example: pending (too few reviews), accepted, rejected (with "
                        "the reviewers' reasons), edited (with the reply to ship) or adjudication (a split or "
                        "competing edits), by the consensus rule in lib/review.py, with the share of reviews "
                        "that gave the majority verdict.",
            owners=OWNERS, kinds={STORAGE_KIND, "pandas"}),
        "cluster_decisions": dg.AssetOut(
            description="One decision per reviewed cluster: accepted (include), rejected (exclude: contributes "
                        "nothing to the sample), edited (include under `new_name`), pending or adjudication.",
            owners=OWNERS, kinds={STORAGE_KIND, "pandas"}),
    },
    group_name="review", check_specs=[AGREEMENT_CHECK, MIN_REVIEWS_CHECK],
)
def decide_reviews(context: dg.AssetExecutionContext, config: DecisionConfig, review_annotations: pd.DataFrame,
                   cluster_annotations: pd.DataFrame):
    """Step `decide_reviews` (run-config key; settings-file section `review_decisions`): the consensus
    rule applied to every reviewed item, published as review_decisions (examples) and
    cluster_decisions (clusters)."""
    out, decisions, by_item = example_decisions_table(review_annotations, config.min_reviews)
    kappa, fleiss = pairwise_kappa(by_item), item_fleiss_kappa(by_item)
    states = out["state"].value_counts().to_dict()
    rates = reviewer_rates(by_item, decisions)
    rejected = out[out["state"] == "rejected"]
    rejected_days = sorted({str(d) for d in rejected["created_day"] if d})
    yield dg.Output(out, "review_decisions", metadata={
        "dagster/row_count": len(out),
        "states": counts_table({s: states.get(s, 0) for s in STATES}, "state", "items"),
        "cohen_kappa": round(kappa, 4) if kappa is not None else "n/a",
        "fleiss_kappa": round(fleiss, 4) if fleiss is not None else "n/a",
        "rejected": len(rejected),
        # read by the human_review_refilter sensor: the days whose partitions must drop these rows
        "rejected_days": ",".join(rejected_days),
        "rejected_fingerprint": sha256_hex("\n".join(sorted(rejected["generation_id"])))[:16],
        "reviewers": dg.MetadataValue.md(pd.DataFrame(rates).T.to_markdown() if rates else "_no reviews yet_"),
    })

    cl = cluster_decisions_table(cluster_annotations, config.cluster_min_reviews)
    cstates = cl["state"].value_counts().to_dict()
    yield dg.Output(cl, "cluster_decisions", metadata={
        "dagster/row_count": len(cl),
        "states": counts_table({s: cstates.get(s, 0) for s in STATES}, "state", "clusters"),
    })

    measured = [k for k in (kappa, fleiss) if k is not None]
    yield dg.AssetCheckResult(check_name="reviewers_agree", asset_key="review_decisions",
                              passed=all(k >= config.min_kappa for k in measured),
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"cohen_kappa": round(kappa, 4) if kappa is not None else "n/a",
                                        "fleiss_kappa": round(fleiss, 4) if fleiss is not None else "n/a",
                                        "min_kappa": config.min_kappa})
    short = short_of_reviews(out, config.min_reviews)
    yield dg.AssetCheckResult(check_name="decisions_have_min_reviews", asset_key="review_decisions",
                              passed=short.empty, severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"min_reviews": config.min_reviews, "short_decisions": len(short),
                                        "examples": ", ".join(short["generation_id"].head(10)) or "none"})
