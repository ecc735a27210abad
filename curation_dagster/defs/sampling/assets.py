import dagster as dg
import pandas as pd

from curation_dagster.defs.metadata import counts_table
from curation_dagster.defs.judge.assets import judged_low_ids
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.defs.sampling.checks import CHECK_SPECS, sampling_checks
from curation_dagster.defs.sampling.config import SamplingConfig
from curation_dagster.lib.export import published_ids
from curation_dagster.lib.offline_judge import apply_judges
from curation_dagster.lib.review_tables import apply_cluster_decisions
from curation_dagster.lib.sampling import GENERAL, achieved_mix, daily_growth, prompt_keys, sample


GROWTH_WINDOW_DAYS = 7


@dg.asset(group_name="sampling", owners=OWNERS, kinds={"pandas", STORAGE_KIND}, pool=WAREHOUSE_POOL,
          check_specs=CHECK_SPECS)
def sampled_examples(context: dg.AssetExecutionContext, config: SamplingConfig, dataset_store: DatasetStore,
                     filtered_generations: pd.DataFrame, generation_clusters: pd.DataFrame,
                     cluster_decisions: pd.DataFrame, offline_judge: pd.DataFrame):
    """The examples chosen for fine-tuning, with the configured share of the general template.

    Default mode 'target': the sample grows with the pool toward `target_examples` (at most
    `max_pool_share` of the pool, 0.2 by default), its quota balanced across the named topics (by
    default each gives min(its rows, level x sqrt(its rows)): `balance`) and inside each topic across
    its sampling cells, picks inside a cell as unlike each other as their words allow and favouring
    the usage-based quality score (`within_cell`), a prompt asked many times counted once. Mode
    'per_cluster': at most N per cluster (the seed's recipe).
    Selection depends only on the rows' content, a seeded hash of each id and config, never on the
    order partitions were materialized in. What the published dataset holds stays picked while it
    stays in the pool (`keep_shipped`): a new day or a refit of the topic model only adds.

    Cluster review applies here (`cluster_decisions` of the current topic model): an excluded cluster
    contributes nothing, a renamed one carries its new name.

    The judges apply here too: rows the LLM judge scored low (judged_examples, in this or an earlier
    refresh: read from its verdict store, since the judge runs after the sampler) are not picked, and
    rows without usage signals take the offline judge's score as their quality (`quality_source`)."""
    cols = ["generation_id", "cluster_id", "cluster_name", "probability", "is_outlier", "model_version"]
    if "cell_id" in generation_clusters.columns:  # clusters assigned before cells existed: a cell per cluster
        cols.append("cell_id")
    pool = filtered_generations.merge(generation_clusters[cols], on="generation_id", how="inner")
    clustered = len(pool)
    version = str(pool["model_version"].iloc[0]) if len(pool) else ""
    pool, excluded, renamed = apply_cluster_decisions(pool, cluster_decisions)
    pool, judged = apply_judges(pool, offline_judge, judged_low_ids(dataset_store))
    s = config.to_settings()
    shipped = published_ids(dataset_store.path(config.keep_shipped)) if config.keep_shipped else None
    # the pool's prompt keys, kept by content so a refresh normalises only the prompts it has not seen; the
    # sample, the growth rate's sample and the export's split groups read them back in this run
    prompt_keys(pool, cache=dataset_store.state_path("sampled_examples", "prompt_keys.parquet"))
    # the within-cell text view's document frequencies, kept so a refresh counts only the rows that moved
    chosen, info = sample(pool, s, shipped, dataset_store.state_path("sampled_examples", "text_view.npz"))
    growth, size_before = daily_growth(pool, s, len(chosen), GROWTH_WINDOW_DAYS)
    # the export's churn check tells a refit (new cells) from a daily refresh by this column
    chosen["model_version"] = version
    empty_reason = ""
    if chosen.empty:  # an empty sample is a result; the export refuses to publish it
        empty_reason = ("generation_clusters is empty" if generation_clusters.empty else
                        f"none of the {len(generation_clusters):,} clustered rows is in filtered_generations "
                        "(refresh generation_clusters)" if not clustered else
                        f"reviewers excluded every cluster ({excluded}) of the {clustered:,} clustered rows")
        context.log.warning(f"no example sampled: {empty_reason}")
    yield dg.Output(chosen, metadata={
        **sampling_metadata(chosen, pool, s, info, shipped),
        # examples gained per source day over the last days, measured by sampling the pool as it was
        # GROWTH_WINDOW_DAYS days earlier: the rate dataset_progress_to_target projects with
        "daily_growth": round(growth, 2),
        "sample_size_window_ago": size_before,
        "clusters_excluded_by_review": excluded,
        "clusters_renamed_by_review": renamed,
        **judged,
        **({"empty_reason": empty_reason} if empty_reason else {}),
    })
    yield from sampling_checks(chosen, s, info, config.mix_tolerance)


def sampling_metadata(chosen: pd.DataFrame, pool: pd.DataFrame, s, info, shipped: set[str] | None) -> dict:
    """What the sample is, for the UI: its size against the target and the pool, the quota per cell,
    the mix achieved, and how much of the published dataset stayed picked."""
    mix = achieved_mix(chosen)
    per_cluster = chosen.groupby("cluster_name").size().to_dict() if len(chosen) else {}
    return {
        "dagster/row_count": len(chosen),
        "pool_rows": len(pool),
        "clusters_sampled": int(chosen["cluster_id"].nunique()) if len(chosen) else 0,
        "mode": s.mode,
        **({"target_examples": s.target_examples, "size_goal": info.size_goal,
            "sampling_cells": info.cells, "cells_sampled": int(chosen["cell_id"].nunique()) if len(chosen) else 0,
            "balance": s.balance,
            # the water-filling level per category: of the topics ('topics'; times sqrt(rows) with
            # 'topics_sqrt'), of the cells ('cells')
            "quota_level": ", ".join(f"{k} {v}" for k, v in (info.quota or {}).items()),
            "prompt_repeats_skipped": info.prompt_repeats_skipped,
            # rows of the published dataset still in the pool, and how many of them stayed picked
            "shipped_in_pool": info.shipped_in_pool,
            "shipped_kept": len(shipped & set(chosen["generation_id"].astype(str))) if shipped else 0}
           if s.mode == "target" else {"n_per_cluster": s.n_per_cluster}),
        "below_target_because": info.limit or "none",
        "size_ceiling": (int(pool["cluster_id"].nunique()) * s.n_per_cluster
                         if s.mode == "per_cluster" and len(pool) else -1),
        "target_general_share": s.general_share,
        "achieved_general_share": round(mix[GENERAL], 4),
        "mix_deviation_points": round(abs(mix[GENERAL] - s.general_share) * 100, 2),
        "outliers_sampled": int(chosen["is_outlier"].sum()) if len(chosen) else 0,
        "per_cluster": counts_table(per_cluster, "cluster", "examples"),
    }
