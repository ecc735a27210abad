import dagster as dg
import pandas as pd

from curation_dagster.defs.metadata import counts_table
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.sampling.checks import CHECK_SPECS, sampling_checks
from curation_dagster.defs.sampling.config import SamplingConfig
from curation_dagster.lib.sampling import GENERAL, achieved_mix, sample_per_cluster


def apply_cluster_decisions(pool: pd.DataFrame, decisions: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """The pool without rows of clusters reviewers excluded and with renamed clusters' new names;
    only decisions about the topic model the pool is assigned with count (a refit starts over)."""
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


@dg.asset(group_name="curation", owners=OWNERS, kinds={"pandas", STORAGE_KIND}, pool=WAREHOUSE_POOL,
          check_specs=CHECK_SPECS)
def sampled_examples(context: dg.AssetExecutionContext, config: SamplingConfig,
                     filtered_generations: pd.DataFrame, generation_clusters: pd.DataFrame,
                     cluster_decisions: pd.DataFrame):
    """The examples chosen for fine-tuning: at most N per cluster, with the configured share of the
    general template. Selection is a seeded hash of each id (bottom-k per cluster and category), so it
    depends only on the data and config, never on the order partitions were materialized in.

    Cluster review applies here (`cluster_decisions` of the current topic model): an excluded cluster
    contributes nothing, a renamed one carries its new name."""
    pool = filtered_generations.merge(
        generation_clusters[["generation_id", "cluster_id", "cluster_name", "probability", "is_outlier",
                             "model_version"]],
        on="generation_id", how="inner",
    )
    clustered = len(pool)
    pool, excluded, renamed = apply_cluster_decisions(pool, cluster_decisions)
    s = config.to_settings()
    chosen = sample_per_cluster(pool, s)
    empty_reason = ""
    if chosen.empty:  # an empty sample is a result; the export refuses to publish it
        empty_reason = ("generation_clusters is empty" if generation_clusters.empty else
                        f"none of the {len(generation_clusters):,} clustered rows is in filtered_generations "
                        "(refresh generation_clusters)" if not clustered else
                        f"reviewers excluded every cluster ({excluded}) of the {clustered:,} clustered rows")
        context.log.warning(f"no example sampled: {empty_reason}")
    mix = achieved_mix(chosen)
    per_cluster = chosen.groupby("cluster_name").size().to_dict() if len(chosen) else {}
    yield dg.Output(chosen, metadata={
        "dagster/row_count": len(chosen),
        "pool_rows": len(pool),
        "clusters_sampled": int(chosen["cluster_id"].nunique()) if len(chosen) else 0,
        "n_per_cluster": s.n_per_cluster,
        "target_general_share": s.general_share,
        "achieved_general_share": round(mix[GENERAL], 4),
        "mix_deviation_points": round(abs(mix[GENERAL] - s.general_share) * 100, 2),
        "outliers_sampled": int(chosen["is_outlier"].sum()) if len(chosen) else 0,
        "clusters_excluded_by_review": excluded,
        "clusters_renamed_by_review": renamed,
        "per_cluster": counts_table(per_cluster, "cluster", "examples"),
        **({"empty_reason": empty_reason} if empty_reason else {}),
    })
    yield from sampling_checks(chosen, s.n_per_cluster, s.general_share, config.mix_tolerance)
