"""Duplicates across days: the pool is de-duplicated as a whole, so the result never depends on the
order in which partitions were materialized."""

import time

import dagster as dg
import numpy as np
import pandas as pd

from curation_dagster.defs.dedup.checks import CHECK_SPECS, dedup_checks
from curation_dagster.defs.dedup.config import DedupConfig
from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.resources import DedupCacheResource
from curation_dagster.lib.dedup_cache import cached_row_signatures
from curation_dagster.lib.dedup_tables import DUPLICATE_RULES, across_days, deduplicate_pool_frame, pool_frame
from curation_dagster.lib.files import write_atomic
from curation_dagster.lib.frames import embedding_matrix
from curation_dagster.lib.pool_pairs import PairIndex
from curation_dagster.lib.semantic_pairs import find_pairs


def pool_semantic_pairs(pool: pd.DataFrame, config: DedupConfig, dedup_cache: DedupCacheResource
                        ) -> tuple[PairIndex | None, int]:
    """(the pool's pairs at the semantic threshold, rows reused from the last refresh): with the cache on,
    only rows not seen before are multiplied against the pool, and the pairs are kept for the next one."""
    if config.semantic_threshold > 1.0 or len(pool) < 2:
        return None, 0
    path = dedup_cache.pairs_path("semantic") if config.use_cache else None
    known = PairIndex.load(path) if path is not None and path.exists() else None
    pairs = find_pairs(pool["generation_id"].astype(str).tolist(), embedding_matrix(pool), config.semantic_threshold,
                       known=known)
    reused = 0
    if known is not None and known.floor <= config.semantic_threshold:  # same id, same vector: not multiplied again
        was = dict(zip(known.ids.tolist(), known.digests.tolist()))
        reused = sum(was.get(g) == d for g, d in zip(pairs.ids.tolist(), pairs.digests.tolist()))
    if path is not None:
        write_atomic(path, pairs.save)
    return pairs, reused


@dg.multi_asset(
    outs={
        "deduplicated_generations": dg.AssetOut(
            description=(
                "The pool of kept generations, every day together, with exact, near and semantic "
                "duplicates across days removed. Of each duplicate group the row with the highest quality "
                "score stays (ties: the earliest, then the smallest id). Its vectors stay in "
                "generation_embeddings: the stages that need them join them by generation_id."
            ),
            owners=OWNERS, kinds={STORAGE_KIND, "pandas"},
        ),
        "duplicate_generations": dg.AssetOut(
            description=(
                "Rows removed from the pool as duplicates: `rule` (exact_duplicate, near_duplicate or "
                "semantic_duplicate), `duplicate_of` (the row that stayed), `similarity` and `reason`. "
                "Same-day copies are already in rejected_generations; these are the ones across days or "
                "found only by meaning."
            ),
            owners=OWNERS, kinds={STORAGE_KIND, "pandas"},
        ),
    },
    group_name="dedup",
    pool=WAREHOUSE_POOL,
    check_specs=CHECK_SPECS,
)
def deduplicate_generations(context: dg.AssetExecutionContext, config: DedupConfig, dedup_cache: DedupCacheResource,
                            filtered_generations: pd.DataFrame, generation_embeddings: pd.DataFrame):
    """Step `deduplicate_generations` (run-config key; settings-file section `dedup`): every day's
    kept rows with duplicates across days removed (by text and by vector), published as
    deduplicated_generations (the pool) and duplicate_generations (what left, and why)."""
    pool = pool_frame(filtered_generations, generation_embeddings)
    # kept rows whose day has no embeddings yet (filtered_generations materialized alone) miss the pool
    unembedded = int((~filtered_generations["generation_id"].isin(generation_embeddings["generation_id"])).sum())
    if unembedded:
        context.log.warning(f"{unembedded:,} kept rows have no embedding and are not in the pool: "
                            "materialize generation_embeddings for their days")
    if pool.empty:
        context.log.warning("the pool is empty (no kept row with an embedding): topic_model and "
                            "generation_clusters will fail naming the cause; the export is left as it is")
    t0 = time.perf_counter()
    known, hits, misses = cached_row_signatures(
        pool["instruction"].tolist(), pool["input_message"].tolist(), pool["output"].tolist(),
        dedup_cache.open() if config.use_cache else None, seed=config.seed)
    pairs, pairs_reused = pool_semantic_pairs(pool, config, dedup_cache)
    kept, removed = deduplicate_pool_frame(pool, config.near_duplicate_threshold, config.semantic_threshold,
                                           config.seed, known, pairs,
                                           dedup_cache.pairs_path("near") if config.use_cache else None)
    elapsed = time.perf_counter() - t0
    by_rule = removed["rule"].value_counts().to_dict()
    # the vectors are generation_embeddings' already: writing all of them again each refresh cost more
    # than the rest of this table (100,000 rows: 4.7 s of insert and checkpoint)
    yield dg.Output(kept.drop(columns="embedding", errors="ignore"), "deduplicated_generations", metadata={
        "dagster/row_count": len(kept),
        "pool_rows": len(pool),
        "kept_rows_in": len(filtered_generations),
        "kept_rows_without_embedding": unembedded,
        "removed_rows": len(removed),
        "dedup_seconds": round(elapsed, 2),
        # rows whose dedup hashes came from earlier refreshes / were hashed now
        "signature_cache_hits": hits,
        "signature_cache_misses": misses,
        # rows whose semantic pairs came from earlier refreshes (not multiplied against each other again)
        "semantic_pairs_rows_reused": pairs_reused,
        "semantic_pairs": len(pairs.a) if pairs is not None else 0,
        "rows_per_second": round(len(pool) / elapsed, 1) if elapsed > 0 else 0.0,
    })
    yield dg.Output(removed, "duplicate_generations", metadata={
        "dagster/row_count": len(removed),
        "removed_by_rule": counts_table({r: by_rule.get(r, 0) for r in DUPLICATE_RULES}),
        "across_days": across_days(removed, pool),
        "preview": preview(removed, ["generation_id", "rule", "duplicate_of", "similarity"]),
    })
    stayed = np.flatnonzero(~pool["generation_id"].isin(removed["generation_id"]).to_numpy())
    yield from dedup_checks(pool, kept, removed, [known.exact_keys[i] for i in stayed])
