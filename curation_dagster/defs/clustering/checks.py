import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd

from curation_dagster.defs.checks import ERROR, WARN, gx_check, spec, vector_geometry

CHECK_SPECS = [
    spec("clusters_cover_pool", "generation_clusters",
         "Every kept generation of the pool appears exactly once with a cluster id and a non-empty cluster "
         "name. Duplicate ids here mean two partitions carry the same generation (a broken upstream).", ERROR),
    spec("outlier_share_below_threshold", "generation_clusters",
         "HDBSCAN left at most `max_outlier_share` of the pool unassigned. More means the topic model does "
         "not fit the data (tune min_cluster_size, or try kmeans).", WARN),
    spec("topic_model_fits_new_rows", "generation_clusters",
         "Rows generated after the topic model was fit are outliers no more often than "
         "`refit_outlier_share`. Failing is the drift signal: the sensor topic_model_drift requests a refit.",
         WARN),
    spec("no_dominant_cluster", "cluster_summaries",
         "No single cluster holds more than `max_cluster_share` of the pool: one giant cluster makes the "
         "per-cluster sample unrepresentative.", WARN),
]


def cluster_checks(clusters: pd.DataFrame, summaries: pd.DataFrame, kept_ids: pd.Series,
                   max_outlier_share: float, max_cluster_share: float, new_rows_outlier_share: float = 0.0,
                   rows_since_fit: int = 0, refit_outlier_share: float = 1.0) -> list[dg.AssetCheckResult]:
    cover = gx_check([
        (clusters, [
            gxe.ExpectTableRowCountToEqual(value=int(kept_ids.nunique())),
            gxe.ExpectColumnValuesToBeUnique(column="generation_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="cluster_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="cluster_name"),
            gxe.ExpectColumnValueLengthsToBeBetween(column="cluster_name", min_value=1),
        ]),
    ], "clusters_cover_pool", "generation_clusters", ERROR,
        extra={"pool_rows": int(kept_ids.nunique()), "assigned_rows": len(clusters)})
    share = float(clusters["is_outlier"].mean()) if len(clusters) else 0.0
    outliers = gx_check([
        (pd.DataFrame({"outlier_share": [share]}),
         [gxe.ExpectColumnValuesToBeBetween(column="outlier_share", min_value=0, max_value=max_outlier_share)]),
    ], "outlier_share_below_threshold", "generation_clusters", WARN,
        extra={"outlier_share": round(share, 4), "threshold": max_outlier_share})
    drift = gx_check([
        (pd.DataFrame({"new_rows_outlier_share": [new_rows_outlier_share]}),
         [gxe.ExpectColumnValuesToBeBetween(column="new_rows_outlier_share", min_value=0,
                                            max_value=refit_outlier_share)]),
    ], "topic_model_fits_new_rows", "generation_clusters", WARN,
        extra={"new_rows_outlier_share": round(new_rows_outlier_share, 4), "rows_since_fit": rows_since_fit,
               "threshold": refit_outlier_share})
    top = summaries.sort_values("share", ascending=False).head(1)
    dominant = gx_check([
        (summaries[summaries["cluster_id"] != -1],
         [gxe.ExpectColumnValuesToBeBetween(column="share", min_value=0, max_value=max_cluster_share)]),
    ], "no_dominant_cluster", "cluster_summaries", WARN, extra={
        "largest_cluster": str(top["cluster_name"].iloc[0]) if len(top) else "none",
        "largest_share": float(top["share"].iloc[0]) if len(top) else 0.0, "threshold": max_cluster_share})
    return [cover, outliers, drift, dominant]


TOPIC_MODEL_SPECS = [
    spec("topic_model_well_formed", "topic_model",
         "One row per cluster with a unique id, a non-empty name, a finite unit-length centroid of one "
         "dimension, and a positive number of fitted rows. Assignment and sampling rely on all of it.", ERROR),
]


def topic_model_checks(frame: pd.DataFrame) -> list[dg.AssetCheckResult]:
    geometry = vector_geometry(frame["centroid"])
    dim = int(geometry["dimension"].iloc[0]) if len(geometry) else 0
    return [gx_check([
        (frame, [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            gxe.ExpectColumnValuesToBeUnique(column="cluster_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="cluster_name"),
            gxe.ExpectColumnValueLengthsToBeBetween(column="cluster_name", min_value=1),
            gxe.ExpectColumnValuesToBeBetween(column="fit_rows", min_value=1),
        ]),
        (geometry, [
            gxe.ExpectColumnValuesToBeBetween(column="dimension", min_value=dim, max_value=dim),
            gxe.ExpectColumnValuesToBeBetween(column="norm", min_value=0.999, max_value=1.001),
        ]),
    ], "topic_model_well_formed", "topic_model", ERROR, extra={"clusters": len(frame), "dimension": dim})]
