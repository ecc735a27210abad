import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, gx_check, spec, vector_geometry

CHECK_SPECS = [
    spec("embeddings_valid", "generation_embeddings",
         "Exactly one vector per kept generation of the day, of the model's dimension, with finite values "
         "and unit length (the clustering assumes cosine = dot product).", ERROR),
]


def vector_frame(embeddings: pd.DataFrame) -> pd.DataFrame:
    return vector_geometry(embeddings["embedding"]).assign(generation_id=embeddings["generation_id"].to_numpy())


def embedding_checks(embeddings: pd.DataFrame, kept: pd.DataFrame, dimension: int) -> list[dg.AssetCheckResult]:
    frame = vector_frame(embeddings)
    missing = sorted(set(kept["generation_id"]) - set(frame["generation_id"]))
    return [gx_check([
        (frame, [
            gxe.ExpectTableRowCountToEqual(value=len(kept)),
            gxe.ExpectColumnValuesToBeUnique(column="generation_id"),
            gxe.ExpectColumnValuesToBeInSet(column="generation_id", value_set=list(kept["generation_id"])),
            gxe.ExpectColumnValuesToBeBetween(column="dimension", min_value=dimension, max_value=dimension),
            gxe.ExpectColumnValuesToBeInSet(column="finite", value_set=[True]),
            gxe.ExpectColumnValuesToBeBetween(column="norm", min_value=0.999, max_value=1.001),
        ]),
    ], "embeddings_valid", "generation_embeddings", ERROR,
        extra={"vectors": len(frame), "kept_rows": len(kept), "expected_dimension": dimension,
               "kept_rows_without_vector": len(missing)})]
