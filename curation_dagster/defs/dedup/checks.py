import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, gx_check, spec
from curation_dagster.lib.dedup import exact_key

CHECK_SPECS = [
    spec("pool_has_no_exact_duplicates", "deduplicated_generations",
         "No two rows left in the pool have the same generation_id (two partitions carrying the same "
         "generation is a broken upstream) or the same normalised instruction, input and output; every "
         "removed row names a row that stayed (`duplicate_of`), and kept + removed = the pool.", ERROR),
]


def dedup_checks(pool: pd.DataFrame, kept: pd.DataFrame, duplicates: pd.DataFrame) -> list[dg.AssetCheckResult]:
    keys = pd.DataFrame({"generation_id": kept["generation_id"].to_numpy(), "exact_key": [exact_key(r.get("instruction"), r.get("input_message"), r.get("output"))
                                       for r in kept.to_dict("records")]})
    kept_ids = kept["generation_id"].tolist()
    reconcile = pd.DataFrame({"kept_plus_removed": [len(kept) + len(duplicates)], "pool": [len(pool)]})
    result = gx_check([
        (keys, [gxe.ExpectColumnValuesToBeUnique(column="generation_id"),
                gxe.ExpectColumnValuesToBeUnique(column="exact_key")]),
        (duplicates, [gxe.ExpectColumnValuesToBeInSet(column="duplicate_of", value_set=kept_ids),
                      gxe.ExpectColumnValuesToNotBeNull(column="duplicate_of")]),
        (reconcile, [gxe.ExpectColumnPairValuesToBeEqual(column_A="kept_plus_removed", column_B="pool")]),
    ], "pool_has_no_exact_duplicates", "deduplicated_generations", ERROR,
        extra={"pool_rows": len(pool), "kept_rows": len(kept), "removed_rows": len(duplicates)})
    return [result]
