import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, WARN, gx_check, spec
from curation_dagster.lib.sampling import GENERAL, SampleInfo, SampleSettings

CHECK_SPECS = [
    spec("sample_within_quota", "sampled_examples",
         "No generation sampled twice and no more than the quota: target mode, at most target_examples "
         "and at most q + 1 per sampling cell and category (q: the cell's level in the water-filling of "
         "its topic's share with balance 'topics' or 'topics_sqrt', of every cell with 'cells'), or the "
         "examples of the published dataset the cell already holds when that is more; per_cluster mode, "
         "at most N per cluster.", ERROR),
    spec("category_mix_on_target", "sampled_examples",
         "The share of the general template is within `mix_tolerance` of the target share.", WARN),
]


def sampling_checks(sampled: pd.DataFrame, s: SampleSettings, info: SampleInfo,
                    tolerance: float) -> list[dg.AssetCheckResult]:
    target_share = s.general_share
    if s.mode == "target":
        groups = sampled.groupby(["cell_id", "category"]).size().rename("examples").reset_index()
        bound = info.cell_bound or {}
        groups["quota"] = [bound.get((c, cat), 0) for c, cat in zip(groups["cell_id"], groups["category"])]
        groups["over_quota"] = groups["examples"] > groups["quota"]
        expectations = [
            (sampled, [gxe.ExpectColumnValuesToBeUnique(column="generation_id")]),
            (groups, [gxe.ExpectColumnValuesToBeInSet(column="over_quota", value_set=[False])]),
            (pd.DataFrame({"examples": [len(sampled)]}), [gxe.ExpectColumnValuesToBeBetween(
                column="examples", min_value=0, max_value=s.target_examples)]),
        ]
        extra = {"examples": len(sampled), "target_examples": s.target_examples,
                 "largest_cell_sample": int(groups["examples"].max()) if len(groups) else 0,
                 "quota_level": ", ".join(f"{k} {v}" for k, v in (info.quota or {}).items())}
    else:
        per_cluster = sampled.groupby("cluster_id").size().rename("examples").reset_index()
        expectations = [
            (sampled, [gxe.ExpectColumnValuesToBeUnique(column="generation_id")]),
            (per_cluster, [gxe.ExpectColumnValuesToBeBetween(column="examples", min_value=1,
                                                             max_value=s.n_per_cluster)]),
        ]
        extra = {"examples": len(sampled), "n_per_cluster": s.n_per_cluster,
                 "largest_cluster_sample": int(per_cluster["examples"].max()) if len(per_cluster) else 0}
    quota = gx_check(expectations, "sample_within_quota", "sampled_examples", ERROR, extra=extra)
    share = float((sampled["category"] == GENERAL).mean()) if len(sampled) else 0.0
    mix = gx_check([
        (pd.DataFrame({"general_share": [share]}), [gxe.ExpectColumnValuesToBeBetween(
            column="general_share", min_value=target_share - tolerance, max_value=target_share + tolerance)]),
    ], "category_mix_on_target", "sampled_examples", WARN,
        extra={"general_share": round(share, 4), "target": target_share, "tolerance": tolerance})
    return [quota, mix]
