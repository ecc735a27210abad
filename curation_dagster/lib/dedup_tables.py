"""Pool-wide dedup as tables: the pool that stays and the rows removed, each with its rule, the row
it duplicates and a reason. Pure pandas over lib.dedup."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from curation_dagster.lib.dedup import RowSignatures, deduplicate_pool
from curation_dagster.lib.frames import embedding_matrix
from curation_dagster.lib.pool_pairs import PairIndex

REMOVED_COLUMNS = ["generation_id", "created_at", "template_id", "quality_score", "instruction", "output"]
DUPLICATE_RULES = ("exact_duplicate", "near_duplicate", "semantic_duplicate")


def pool_frame(filtered: pd.DataFrame, embeddings: pd.DataFrame) -> pd.DataFrame:
    """Kept rows joined to their vectors, sorted by id so results never depend on load order."""
    pool = filtered.merge(embeddings[["generation_id", "embedding"]], on="generation_id", how="inner")
    return pool.sort_values("generation_id", kind="mergesort").reset_index(drop=True)


def deduplicate_pool_frame(pool: pd.DataFrame, near_threshold: float, semantic_threshold: float,
                           seed: int, known: RowSignatures | None = None,
                           semantic_pairs: PairIndex | None = None, near_pairs_cache: Path | None = None
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, removed): `pool` without its exact, near and semantic duplicates, and the removed rows
    (REMOVED_COLUMNS + rule, duplicate_of, similarity, reason). A generation_id seen twice is a broken
    upstream, not a duplicate: such rows are left in for the clusters_cover_pool check to name.
    `known`: the pool's rows' dedup hashes (lib.dedup_cache), aligned with `pool`; `semantic_pairs`: the
    pool's pairs at or above the semantic threshold (lib.semantic_pairs), found from scratch when None;
    `near_pairs_cache`: the file keeping the pool's near pairs between refreshes (lib.pool_pairs)."""
    repeated = pool["generation_id"].duplicated(keep=False).to_numpy()
    candidates = pool[~repeated]
    if known is not None:
        keep = np.flatnonzero(~repeated)
        known = RowSignatures([known.exact_keys[i] for i in keep], known.signatures[keep])
    hits = deduplicate_pool(
        ids=candidates["generation_id"].tolist(), created_at=candidates["created_at"].tolist(),
        quality=candidates["quality_score"].tolist(), instructions=candidates["instruction"].tolist(),
        input_messages=candidates["input_message"].tolist(), outputs=candidates["output"].tolist(),
        vectors=embedding_matrix(candidates) if semantic_pairs is None else None, near_threshold=near_threshold,
        semantic_threshold=semantic_threshold, seed=seed, known=known, semantic_pairs=semantic_pairs,
        near_pairs_cache=near_pairs_cache)
    by_id = {h.generation_id: h for h in hits}
    gone = pool["generation_id"].isin(by_id).to_numpy()
    removed = pool.loc[gone, REMOVED_COLUMNS].reset_index(drop=True)
    found = [by_id[g] for g in removed["generation_id"]]
    # typed even when empty: a pool without duplicates must not make the stored table's `rule` a number
    removed["rule"] = pd.Series([h.kind for h in found], dtype=object)
    removed["duplicate_of"] = pd.Series([h.duplicate_of for h in found], dtype=object)
    removed["similarity"] = pd.Series([h.similarity for h in found], dtype="float64")
    removed["reason"] = pd.Series([f"{h.kind.replace('_', ' ')} of {h.duplicate_of} (similarity {h.similarity:.2f})"
                                   for h in found], dtype=object)
    return pool[~gone].reset_index(drop=True), removed


def across_days(removed: pd.DataFrame, pool: pd.DataFrame) -> int:
    """How many removed rows duplicate a row of another day (same-day copies are the filter's)."""
    if not len(removed):
        return 0
    day = dict(zip(pool["generation_id"], pool["created_at"].astype(str).str[:10]))
    return int((removed["created_at"].astype(str).str[:10].to_numpy()
                != removed["duplicate_of"].map(day).to_numpy()).sum())
