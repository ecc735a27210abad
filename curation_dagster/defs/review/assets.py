"""Human review: what people should look at first, and what their reviews decide."""

import dagster as dg
import pandas as pd
from pydantic import Field

from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND
from curation_dagster.defs.resources import SourceWarehouse
from curation_dagster.lib.review import STATES, decide_all, pairwise_kappa, reviewer_rates, uncertainty


class ReviewConfig(dg.Config):
    min_quality: float = Field(0.4, description="The filter's quality threshold: scores near it are uncertain.")
    quality_band: float = Field(0.2, description="Distance from the threshold at which quality stops adding doubt.")
    max_items: int = Field(200, description="Queue length: the most uncertain examples first.")


QUEUE_COLUMNS = ["rank", "generation_id", "uncertainty", "cluster_id", "cluster_name", "probability", "is_outlier",
                 "quality_score", "template_id", "instruction", "identity", "input_message", "output"]


@dg.asset(group_name="review", owners=OWNERS, kinds={STORAGE_KIND, "pandas"})
def review_queue(context: dg.AssetExecutionContext, config: ReviewConfig, sampled_examples: pd.DataFrame):
    """The sampled examples the pipeline is least sure about, most uncertain first, for human review.

    `uncertainty` (lib/review.py) mixes how far an example sits from its cluster's centroid (outliers
    count fully) and how close its quality score is to the filter's threshold. Materialize it on
    demand; `curation review export` writes it to CSV or JSONL for a spreadsheet review.
    """
    df = sampled_examples.copy()
    df["uncertainty"] = [
        uncertainty(p, bool(o), q, config.min_quality, quality_band=config.quality_band)
        for p, o, q in zip(df["probability"], df["is_outlier"], df["quality_score"])
    ]
    df = df.sort_values(["uncertainty", "generation_id"], ascending=[False, True], kind="mergesort")
    queue = df.head(config.max_items).reset_index(drop=True)
    queue.insert(0, "rank", range(1, len(queue) + 1))
    queue = queue[[c for c in QUEUE_COLUMNS if c in queue.columns]]
    return dg.Output(queue, metadata={
        "dagster/row_count": len(queue),
        "candidates": len(df),
        "mean_uncertainty": round(float(queue["uncertainty"].mean()), 4) if len(queue) else 0.0,
        "outliers_in_queue": int(queue["is_outlier"].sum()) if len(queue) else 0,
        "preview": preview(queue, ["rank", "generation_id", "uncertainty", "cluster_name", "quality_score"]),
    })


review_annotations = dg.AssetSpec(
    key="review_annotations",
    description=("Reviews people gave in the warehouse's `review_annotations` table: generation_id, reviewer, "
                 "verdict (accept / reject), reasons, edited_output, adjudicator, source, reviewed_at. Written by "
                 "`curation review import` from a reviewed spreadsheet; not materialized by Dagster."),
    group_name="review", owners=OWNERS, kinds={STORAGE_KIND},
)


class DecisionConfig(dg.Config):
    min_reviews: int = Field(2, description="Reviews an item needs before its decision is used.")
    min_kappa: float = Field(0.4, description="WARN when reviewers agree less than this (Cohen's kappa).")


AGREEMENT_CHECK = dg.AssetCheckSpec(
    name="reviewers_agree", asset="review_decisions",
    description="[WARN] The two most active reviewers' accept/reject verdicts agree at Cohen's kappa >= "
                "`min_kappa` on the items both reviewed (no verdict when fewer than two shared items).",
)


@dg.asset(deps=[review_annotations], group_name="review", owners=OWNERS, kinds={STORAGE_KIND, "pandas"},
          check_specs=[AGREEMENT_CHECK])
def review_decisions(context: dg.AssetExecutionContext, config: DecisionConfig, warehouse: SourceWarehouse):
    """One decision per reviewed example: pending (too few reviews), accepted, rejected (with the
    reviewers' reasons), edited (with the reply to use) or adjudication (a split or competing edits),
    by the consensus rule in lib/review.py. Metadata: counts per state, agreement, per-reviewer rates."""
    decisions, by_item = decide_all(warehouse.read_reviews().to_dict("records"), config.min_reviews)
    out = pd.DataFrame({
        "generation_id": pd.Series(list(decisions), dtype=object),
        "state": pd.Series([d.state for d in decisions.values()], dtype=object),
        "reviews": pd.Series([d.reviews for d in decisions.values()], dtype="int64"),
        "edited_output": pd.Series([d.text for d in decisions.values()], dtype=object),
        "reasons": pd.Series([", ".join(d.reasons) for d in decisions.values()], dtype=object),
    })
    kappa = pairwise_kappa(by_item)
    states = out["state"].value_counts().to_dict()
    rates = reviewer_rates(by_item, decisions)
    yield dg.Output(out, metadata={
        "dagster/row_count": len(out),
        "states": counts_table({s: states.get(s, 0) for s in STATES}, "state", "items"),
        "cohen_kappa": round(kappa, 4) if kappa is not None else "n/a",
        "reviewers": dg.MetadataValue.md(pd.DataFrame(rates).T.to_markdown() if rates else "_no reviews yet_"),
    })
    yield dg.AssetCheckResult(check_name="reviewers_agree", passed=kappa is None or kappa >= config.min_kappa,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"cohen_kappa": round(kappa, 4) if kappa is not None else "n/a",
                                        "min_kappa": config.min_kappa})
