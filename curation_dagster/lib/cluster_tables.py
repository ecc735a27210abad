"""The pool's assignment to a fitted topic model as tables: one row per generation, one per topic,
and the drift signal the refit sensor reads. Pure pandas/numpy over lib.topic_model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curation_dagster.lib.topic_model import TopicModel, assign, assign_cells

OUTLIER_NAME = "outliers"


def assignment_table(model: TopicModel, pool: pd.DataFrame, vectors: np.ndarray) -> pd.DataFrame:
    """generation_id, cluster_id, cluster_name, probability (cosine similarity, clipped to [0, 1]),
    is_outlier, cell_id and model_version for every pool row, in the pool's order."""
    labels, similarity, outlier = assign(model, vectors)
    cells = assign_cells(model, vectors, labels)
    names = {**model.names, -1: OUTLIER_NAME}
    return pd.DataFrame({
        "generation_id": pool["generation_id"].to_numpy(),
        "cluster_id": labels,
        "cluster_name": [names[c] for c in labels.tolist()],
        "probability": np.clip(similarity, 0.0, 1.0).round(6),
        "is_outlier": outlier,
        "cell_id": cells,
        "model_version": model.version,
    })


def cluster_summary_table(model: TopicModel, clusters: pd.DataFrame, template_ids) -> pd.DataFrame:
    """One row per assigned cluster: name, keywords, size, sampling cells, share of the pool,
    outliers, share of the general template and the three most common templates."""
    names = {**model.names, -1: OUTLIER_NAME}
    summ = clusters.assign(template_id=np.asarray(template_ids, dtype=object)).groupby("cluster_id")
    out = pd.DataFrame({"cluster_id": list(summ.groups.keys())})
    out["cluster_name"] = out["cluster_id"].map(names)
    out["keywords"] = out["cluster_id"].map(lambda c: ", ".join(model.keywords.get(c, [])))
    out["size"] = out["cluster_id"].map(summ.size())
    out["cells"] = out["cluster_id"].map(summ["cell_id"].nunique()).astype(int)
    out["share"] = (out["size"] / max(len(clusters), 1)).round(4)
    out["outliers"] = out["cluster_id"].map(summ["is_outlier"].sum()).astype(int)
    out["general_share"] = out["cluster_id"].map(
        summ["template_id"].apply(lambda s: float((s == "general").mean()))).round(4)
    out["top_templates"] = out["cluster_id"].map(
        summ["template_id"].apply(lambda s: ", ".join(f"{k} ({v})" for k, v in s.value_counts().head(3).items())))
    return out


def drift_since_fit(created_at, is_outlier, fitted_through: str | None) -> tuple[np.ndarray, float]:
    """Which rows were generated after the fit (created_at > fitted_through) and the share of them
    that are outliers: how well new rows still fit the clusters (0.0 with no new rows)."""
    is_outlier = np.asarray(is_outlier, dtype=bool)
    new = (pd.Series(created_at).astype(str) > fitted_through).to_numpy() if fitted_through \
        else np.zeros(len(is_outlier), bool)
    return new, float(is_outlier[new].mean()) if new.any() else 0.0
