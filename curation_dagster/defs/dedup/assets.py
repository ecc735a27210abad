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
from curation_dagster.lib.dedup import deduplicate_pool


def pool_frame(filtered: pd.DataFrame, embeddings: pd.DataFrame) -> pd.DataFrame:
    """Kept rows joined to their vectors, sorted by id so results never depend on load order."""
    pool = filtered.merge(embeddings[["generation_id", "embedding"]], on="generation_id", how="inner")
    return pool.sort_values("generation_id", kind="mergesort").reset_index(drop=True)


@dg.multi_asset(
    outs={
        "deduplicated_generations": dg.AssetOut(
            description=(
                "The pool of kept generations, every day together, with exact, near and semantic "
                "duplicates across days removed, joined to its embedding. Of each duplicate group the row "
                "with the highest quality score stays (ties: the earliest, then the smallest id)."
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
def deduplicate_generations(context: dg.AssetExecutionContext, config: DedupConfig,
                            filtered_generations: pd.DataFrame, generation_embeddings: pd.DataFrame):
    """Step `deduplicate_generations` (run-config key; settings-file section `dedup`): every day's
    kept rows joined to their vectors with duplicates across days removed, published as
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
    # a generation_id seen twice is a broken upstream, not a duplicate: leave it for clusters_cover_pool
    repeated = pool["generation_id"].duplicated(keep=False).to_numpy()
    candidates = pool[~repeated]
    vectors = (np.stack(candidates["embedding"].to_numpy()).astype(np.float32) if len(candidates)
               else np.zeros((0, 1), np.float32))
    t0 = time.perf_counter()
    hits = deduplicate_pool(
        ids=candidates["generation_id"].tolist(), created_at=candidates["created_at"].tolist(),
        quality=candidates["quality_score"].tolist(), instructions=candidates["instruction"].tolist(),
        input_messages=candidates["input_message"].tolist(), outputs=candidates["output"].tolist(),
        vectors=vectors, near_threshold=config.near_duplicate_threshold,
        semantic_threshold=config.semantic_threshold, seed=config.seed)
    elapsed = time.perf_counter() - t0
    by_id = {h.generation_id: h for h in hits}
    gone = pool["generation_id"].isin(by_id).to_numpy()
    kept = pool[~gone].reset_index(drop=True)
    removed = pool.loc[gone, ["generation_id", "created_at", "template_id", "quality_score", "instruction",
                              "output"]].reset_index(drop=True)
    removed["rule"] = [by_id[g].kind for g in removed["generation_id"]]
    removed["duplicate_of"] = [by_id[g].duplicate_of for g in removed["generation_id"]]
    removed["similarity"] = [by_id[g].similarity for g in removed["generation_id"]]
    removed["reason"] = [f"{by_id[g].kind.replace('_', ' ')} of {by_id[g].duplicate_of} "
                         f"(similarity {by_id[g].similarity:.2f})" for g in removed["generation_id"]]
    day = lambda s: s.astype(str).str[:10]  # noqa: E731
    cross_day = int((day(removed["created_at"]).to_numpy() != day(removed["duplicate_of"].map(
        dict(zip(pool["generation_id"], pool["created_at"])))).to_numpy()).sum()) if len(removed) else 0
    by_rule = removed["rule"].value_counts().to_dict()
    yield dg.Output(kept, "deduplicated_generations", metadata={
        "dagster/row_count": len(kept),
        "pool_rows": len(pool),
        "kept_rows_in": len(filtered_generations),
        "kept_rows_without_embedding": unembedded,
        "removed_rows": len(removed),
        "dedup_seconds": round(elapsed, 2),
        "rows_per_second": round(len(candidates) / elapsed, 1) if elapsed > 0 else 0.0,
    })
    yield dg.Output(removed, "duplicate_generations", metadata={
        "dagster/row_count": len(removed),
        "removed_by_rule": counts_table({r: by_rule.get(r, 0) for r in
                                         ("exact_duplicate", "near_duplicate", "semantic_duplicate")}),
        "across_days": cross_day,
        "preview": preview(removed, ["generation_id", "rule", "duplicate_of", "similarity"]),
    })
    yield from dedup_checks(pool, kept, removed)
