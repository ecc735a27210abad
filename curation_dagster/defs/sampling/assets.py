import dagster as dg
import pandas as pd

from curation_dagster.defs.metadata import counts_table
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.defs.sampling.checks import CHECK_SPECS, sampling_checks
from curation_dagster.defs.sampling.config import SamplingConfig
from curation_dagster.lib.sampling import GENERAL, achieved_mix, sample_per_cluster


@dg.asset(group_name="curation", owners=OWNERS, kinds={"pandas", STORAGE_KIND}, pool=WAREHOUSE_POOL,
          check_specs=CHECK_SPECS)
def sampled_examples(context: dg.AssetExecutionContext, config: SamplingConfig,
                     filtered_generations: pd.DataFrame, generation_clusters: pd.DataFrame):
    """The examples chosen for fine-tuning: at most N per cluster, with the configured share of the
    general template. Selection is a seeded hash of each id (bottom-k per cluster and category), so it
    depends only on the data and config, never on the order partitions were materialized in."""
    pool = filtered_generations.merge(
        generation_clusters[["generation_id", "cluster_id", "cluster_name", "probability", "is_outlier"]],
        on="generation_id", how="inner",
    )
    s = config.to_settings()
    chosen = sample_per_cluster(pool, s)
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
        "per_cluster": counts_table(per_cluster, "cluster", "examples"),
    })
    yield from sampling_checks(chosen, s.n_per_cluster, s.general_share, config.mix_tolerance)
