"""Review as tables: the queue people work through, the decisions their answers add up to, and what
cluster decisions do to the pool. Pure pandas over lib.review's rules; the review assets load their
inputs, call these and publish the frames."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from curation_dagster.lib.frames import with_columns
from curation_dagster.lib.label_studio import CLUSTER_KEY, EXAMPLE_KEY
from curation_dagster.lib.review import Decision, Review, decide_all, near_threshold, uncertainty

#: states a dataset acts on; anything else (pending, adjudication) ships as sampled
USABLE = ("accepted", "rejected", "edited")
DECISION_COLUMNS = {"generation_id": object, "state": object, "reviews": "int64", "edited_output": object,
                    "reasons": object, "adjudicated": bool, "agreement": "float64", "created_day": object}
CLUSTER_DECISION_COLUMNS = {"cluster_key": object, "model_version": object, "cluster_id": "int64",
                            "state": object, "reviews": "int64", "new_name": object, "adjudicated": bool}
QUEUE_COLUMNS = ["rank", "generation_id", "candidate", "review_state", "uncertainty", "cluster_id", "cluster_name",
                 "probability", "is_outlier", "quality_score", "template_id", "created_at", "instruction", "identity",
                 "input_message", "output", "judge_verdict", "judge_reason"]
# adjudication first (a person must settle it), then items still short of reviews, then new ones
STATE_ORDER = {"adjudication": 0, "pending": 1, "new": 2}
#: the LLM judge's verdict that sends an item to the top of the queue (after adjudication), and the
#: one that keeps it out (it leaves the dataset with the rule llm_judge)
JUDGE_FIRST, JUDGE_DROPPED = "uncertain", "low"


@dataclass(frozen=True)
class QueueSettings:
    min_quality: float = 0.4
    quality_band: float = 0.2
    max_items: int = 200
    near_threshold_band: float = 0.0


def review_queue_table(sampled: pd.DataFrame, decisions: pd.DataFrame, pool: pd.DataFrame | None,
                       s: QueueSettings, judged: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """The queue (rank 1 first: adjudication, then what the LLM judge found uncertain, then pending,
    then new, each by uncertainty, ties by id) and how many candidates it was cut from. `pool` (pool
    rows joined with their clusters) adds the unsampled rows just above the quality threshold when
    `near_threshold_band` > 0. `judged` (judged_examples) gives each item its `judge_verdict` and
    `judge_reason`; items judged low leave the dataset anyway and are not queued. Items with a usable
    decision are not queued again."""
    decisions = with_columns(decisions, DECISION_COLUMNS)
    state = dict(zip(decisions["generation_id"], decisions["state"]))
    df = sampled.assign(candidate="sampled")
    if s.near_threshold_band > 0 and pool is not None:
        near = pool[near_threshold(pool["quality_score"], pool["generation_id"].isin(df["generation_id"]),
                                   s.min_quality, s.near_threshold_band)]
        df = pd.concat([df, near.assign(candidate="near_threshold")], ignore_index=True)
    df["review_state"] = [state.get(g, "new") for g in df["generation_id"]]
    df = df[~df["review_state"].isin(USABLE)]
    judged = with_columns(judged if judged is not None else pd.DataFrame(),
                          {"generation_id": object, "verdict": object, "verdict_reason": object})
    verdicts = judged.drop_duplicates("generation_id", keep="last").set_index("generation_id")
    for col, src in (("judge_verdict", "verdict"), ("judge_reason", "verdict_reason")):
        values = df["generation_id"].map(verdicts[src])
        df[col] = values.astype(object).where(values.notna(), None)
    df = df[df["judge_verdict"] != JUDGE_DROPPED]
    df["uncertainty"] = [uncertainty(p, bool(o), q, s.min_quality, quality_band=s.quality_band)
                         for p, o, q in zip(df["probability"], df["is_outlier"], df["quality_score"])]
    df["_order"] = df["review_state"].map(STATE_ORDER) + 1
    df.loc[(df["judge_verdict"] == JUDGE_FIRST) & (df["review_state"] != "adjudication"), "_order"] = 1
    df.loc[df["review_state"] == "adjudication", "_order"] = 0
    df = df.sort_values(["_order", "uncertainty", "generation_id"], ascending=[True, False, True], kind="mergesort")
    queue = df.head(s.max_items).reset_index(drop=True)
    queue.insert(0, "rank", range(1, len(queue) + 1))
    return queue[[c for c in QUEUE_COLUMNS if c in queue.columns]], len(df)


def example_decisions_table(annotations: pd.DataFrame, min_reviews: int
                            ) -> tuple[pd.DataFrame, dict[str, Decision], dict[str, list[Review]]]:
    """One row per reviewed example (DECISION_COLUMNS) by the consensus rule, with the day of the row
    it is about (so the right partition can drop a rejected row); also the decisions and the reviews
    per item, for agreement figures."""
    decisions, by_item = decide_all(annotations.to_dict("records"), min_reviews)
    ann = with_columns(annotations, {EXAMPLE_KEY: object, "created_day": object})
    days = ann.dropna(subset=["created_day"]).groupby(EXAMPLE_KEY)["created_day"].first().to_dict()
    out = with_columns(pd.DataFrame({
        "generation_id": list(decisions),
        "state": [d.state for d in decisions.values()],
        "reviews": [d.reviews for d in decisions.values()],
        "edited_output": [d.text for d in decisions.values()],
        "reasons": [", ".join(d.reasons) for d in decisions.values()],
        "adjudicated": [d.adjudicated for d in decisions.values()],
        "agreement": [d.agreement for d in decisions.values()],
        "created_day": [days.get(g) or None for g in decisions],
    }), DECISION_COLUMNS)
    return out, decisions, by_item


def cluster_decisions_table(annotations: pd.DataFrame, min_reviews: int) -> pd.DataFrame:
    """One row per reviewed cluster (CLUSTER_DECISION_COLUMNS); cluster_key is
    `<model_version>:<cluster_id>`."""
    cdec, _ = decide_all(annotations.to_dict("records"), min_reviews, key=CLUSTER_KEY)
    return with_columns(pd.DataFrame({
        "cluster_key": list(cdec),
        "model_version": [k.rsplit(":", 1)[0] for k in cdec],
        "cluster_id": [int(k.rsplit(":", 1)[1]) for k in cdec],
        "state": [d.state for d in cdec.values()],
        "reviews": [d.reviews for d in cdec.values()],
        "new_name": [d.text for d in cdec.values()],
        "adjudicated": [d.adjudicated for d in cdec.values()],
    }), CLUSTER_DECISION_COLUMNS)


def short_of_reviews(decisions: pd.DataFrame, min_reviews: int) -> pd.DataFrame:
    """Decisions the dataset would act on that have fewer than min_reviews reviews and no adjudicator."""
    return decisions[decisions["state"].isin(USABLE) & (decisions["reviews"] < min_reviews)
                     & ~decisions["adjudicated"]]


def apply_cluster_decisions(pool: pd.DataFrame, decisions: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """The pool without rows of clusters reviewers excluded and with renamed clusters' new names, and
    how many clusters were excluded and renamed; only decisions about the topic model the pool is
    assigned with count (a refit starts over). The pool's `model_version` column is dropped."""
    if decisions.empty or pool.empty:
        return pool.drop(columns="model_version"), 0, 0
    current = decisions[decisions["model_version"].isin(set(pool["model_version"].astype(str)))]
    excluded = set(current.loc[current["state"] == "rejected", "cluster_id"].astype(int))
    names = {int(c): n for c, s, n in zip(current["cluster_id"], current["state"], current["new_name"])
             if s == "edited" and n}
    pool = pool[~pool["cluster_id"].isin(excluded)].copy()
    renamed = pool["cluster_id"].map(names)
    pool["cluster_name"] = renamed.where(renamed.notna(), pool["cluster_name"])
    return pool.drop(columns="model_version").reset_index(drop=True), len(excluded), len(names)
