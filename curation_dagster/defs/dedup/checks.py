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


def dedup_checks(pool: pd.DataFrame, kept: pd.DataFrame, duplicates: pd.DataFrame,
                 kept_exact_keys: list[str] | None = None) -> list[dg.AssetCheckResult]:
    """`kept_exact_keys`: the kept rows' exact keys when already known (the signature cache's), in order."""
    if kept_exact_keys is None:
        kept_exact_keys = [exact_key(*r) for r in zip(kept["instruction"], kept["input_message"], kept["output"])]
    keys = pd.DataFrame({"generation_id": kept["generation_id"].to_numpy(), "exact_key": kept_exact_keys})
    # a set membership done here, not a value_set of every kept id handed to GX (73,000 ids cost 22 s of
    # its configuration handling); a removed row whose duplicate_of did not stay shows that id
    stayed = duplicates["duplicate_of"].isin(kept["generation_id"])
    orphans = pd.DataFrame({"duplicate_of_not_kept": duplicates["duplicate_of"].where(~stayed, None)})
    reconcile = pd.DataFrame({"kept_plus_removed": [len(kept) + len(duplicates)], "pool": [len(pool)]})
    result = gx_check([
        (keys, [gxe.ExpectColumnValuesToBeUnique(column="generation_id"),
                gxe.ExpectColumnValuesToBeUnique(column="exact_key")]),
        (duplicates, [gxe.ExpectColumnValuesToNotBeNull(column="duplicate_of")]),
        (orphans, [gxe.ExpectColumnValuesToBeNull(column="duplicate_of_not_kept")]),
        (reconcile, [gxe.ExpectColumnPairValuesToBeEqual(column_A="kept_plus_removed", column_B="pool")]),
    ], "pool_has_no_exact_duplicates", "deduplicated_generations", ERROR,
        extra={"pool_rows": len(pool), "kept_rows": len(kept), "removed_rows": len(duplicates)})
    return [result]
