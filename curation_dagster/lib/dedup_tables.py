"""Pool-wide dedup as tables: the pool that stays and the rows removed, each with its rule, the row
it duplicates and a reason. Pure pandas over lib.dedup."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curation_dagster.lib.dedup import RowSignatures, deduplicate_pool
from curation_dagster.lib.frames import embedding_matrix

REMOVED_COLUMNS = ["generation_id", "created_at", "template_id", "quality_score", "instruction", "output"]
DUPLICATE_RULES = ("exact_duplicate", "near_duplicate", "semantic_duplicate")


def pool_frame(filtered: pd.DataFrame, embeddings: pd.DataFrame) -> pd.DataFrame:
    """Kept rows joined to their vectors, sorted by id so results never depend on load order."""
    pool = filtered.merge(embeddings[["generation_id", "embedding"]], on="generation_id", how="inner")
    return pool.sort_values("generation_id", kind="mergesort").reset_index(drop=True)


def deduplicate_pool_frame(pool: pd.DataFrame, near_threshold: float, semantic_threshold: float,
                           seed: int, known: RowSignatures | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, removed): `pool` without its exact, near and semantic duplicates, and the removed rows
    (REMOVED_COLUMNS + rule, duplicate_of, similarity, reason). A generation_id seen twice is a broken
    upstream, not a duplicate: such rows are left in for the clusters_cover_pool check to name.
    `known`: the pool's rows' dedup hashes (lib.dedup_cache), aligned with `pool`."""
    repeated = pool["generation_id"].duplicated(keep=False).to_numpy()
    candidates = pool[~repeated]
    if known is not None:
        keep = np.flatnonzero(~repeated)
        known = RowSignatures([known.exact_keys[i] for i in keep], known.signatures[keep])
    hits = deduplicate_pool(
        ids=candidates["generation_id"].tolist(), created_at=candidates["created_at"].tolist(),
        quality=candidates["quality_score"].tolist(), instructions=candidates["instruction"].tolist(),
        input_messages=candidates["input_message"].tolist(), outputs=candidates["output"].tolist(),
        vectors=embedding_matrix(candidates), near_threshold=near_threshold,
        semantic_threshold=semantic_threshold, seed=seed, known=known)
    by_id = {h.generation_id: h for h in hits}
    gone = pool["generation_id"].isin(by_id).to_numpy()
    removed = pool.loc[gone, REMOVED_COLUMNS].reset_index(drop=True)
    found = [by_id[g] for g in removed["generation_id"]]
    removed["rule"] = [h.kind for h in found]
    removed["duplicate_of"] = [h.duplicate_of for h in found]
    removed["similarity"] = [h.similarity for h in found]
    removed["reason"] = [f"{h.kind.replace('_', ' ')} of {h.duplicate_of} (similarity {h.similarity:.2f})"
                         for h in found]
    return pool[~gone].reset_index(drop=True), removed


def across_days(removed: pd.DataFrame, pool: pd.DataFrame) -> int:
    """How many removed rows duplicate a row of another day (same-day copies are the filter's)."""
    if not len(removed):
        return 0
    day = dict(zip(pool["generation_id"], pool["created_at"].astype(str).str[:10]))
    return int((removed["created_at"].astype(str).str[:10].to_numpy()
                != removed["duplicate_of"].map(day).to_numpy()).sum())
