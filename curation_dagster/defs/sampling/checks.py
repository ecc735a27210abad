import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, WARN, gx_check, spec
from curation_dagster.lib.sampling import GENERAL

CHECK_SPECS = [
    spec("sample_within_quota", "sampled_examples",
         "At most N examples per cluster and no generation sampled twice.", ERROR),
    spec("category_mix_on_target", "sampled_examples",
         "The share of the general template is within `mix_tolerance` of the target share.", WARN),
]


def sampling_checks(sampled: pd.DataFrame, n_per_cluster: int, target_share: float,
                    tolerance: float) -> list[dg.AssetCheckResult]:
    per_cluster = sampled.groupby("cluster_id").size().rename("examples").reset_index()
    quota = gx_check([
        (sampled, [gxe.ExpectColumnValuesToBeUnique(column="generation_id")]),
        (per_cluster, [gxe.ExpectColumnValuesToBeBetween(column="examples", min_value=1, max_value=n_per_cluster)]),
    ], "sample_within_quota", "sampled_examples", ERROR,
        extra={"examples": len(sampled), "largest_cluster_sample": int(per_cluster["examples"].max()) if len(per_cluster) else 0,
               "n_per_cluster": n_per_cluster})
    share = float((sampled["category"] == GENERAL).mean()) if len(sampled) else 0.0
    mix = gx_check([
        (pd.DataFrame({"general_share": [share]}), [gxe.ExpectColumnValuesToBeBetween(
            column="general_share", min_value=target_share - tolerance, max_value=target_share + tolerance)]),
    ], "category_mix_on_target", "sampled_examples", WARN,
        extra={"general_share": round(share, 4), "target": target_share, "tolerance": tolerance})
    return [quota, mix]
