import dagster as dg
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from curation_dagster.defs.checks import ERROR, gx_check, spec

CHECK_SPECS = [
    spec("embeddings_valid", "generation_embeddings",
         "Exactly one vector per kept generation of the day, of the model's dimension, with finite values "
         "and unit length (the clustering assumes cosine = dot product).", ERROR),
]


def vector_frame(embeddings: pd.DataFrame) -> pd.DataFrame:
    vecs = [np.asarray(v, dtype=np.float64) for v in embeddings["embedding"]]
    return pd.DataFrame({
        "generation_id": embeddings["generation_id"].to_numpy(),
        "dimension": [v.shape[0] for v in vecs],
        "finite": [bool(np.isfinite(v).all()) for v in vecs],
        "norm": [float(np.linalg.norm(v)) if np.isfinite(v).all() else -1.0 for v in vecs],
    })


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
