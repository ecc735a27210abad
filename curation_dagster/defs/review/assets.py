"""What people should review first: the sampled examples ranked by the pipeline's uncertainty."""

import dagster as dg
import pandas as pd
from pydantic import Field

from curation_dagster.defs.metadata import preview
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND
from curation_dagster.lib.review import uncertainty


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
