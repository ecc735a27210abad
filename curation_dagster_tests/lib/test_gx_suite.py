"""GX suites on pandas frames: each expectation's outcome, without hashing the frame."""

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from curation_dagster.lib.gx_suite import run_suite


def _wide_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "generation_id": ["a", "b", "b", "c"],
        "quality_score": [0.1, 0.5, 0.9, 1.7],
        "category": ["general", "general", "x", None],
        "kept_plus_removed": [4, 4, 4, 4],
        "pool": [4, 4, 4, 5],
        "text": ["long text " * 50] * 4,
        "embedding": [np.ones(8, np.float32)] * 4,
    })


def test_a_batch_does_not_hash_its_frame(monkeypatch):
    # GX fingerprints a pandas batch by hashing every value (seconds on a pool with its embeddings): off
    from great_expectations.execution_engine import pandas_execution_engine

    def no_hashing(df):
        raise AssertionError("the frame was hashed")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", no_hashing)
    out = run_suite(_wide_frame(), [gxe.ExpectColumnValuesToNotBeNull(column="generation_id")], "no hash")
    assert out.success and out.evaluated == 1


def test_a_wide_frame_gives_each_expectation_its_outcome():
    df = _wide_frame()
    expectations = [
        gxe.ExpectColumnValuesToBeUnique(column="generation_id"),  # fails: b twice
        gxe.ExpectColumnValuesToBeBetween(column="quality_score", min_value=0, max_value=1),  # fails: 1.7
        gxe.ExpectColumnValuesToBeInSet(column="category", value_set=["general"]),  # fails: x (None is skipped)
        gxe.ExpectColumnPairValuesToBeEqual(column_A="kept_plus_removed", column_B="pool"),  # fails: 4 != 5
        gxe.ExpectTableRowCountToEqual(value=4),  # passes: the rows are all kept
        gxe.ExpectColumnValuesToNotBeNull(column="not_there"),  # fails: GX names the missing column
    ]
    out = run_suite(df, expectations, "wide")
    assert (out.evaluated, out.successful, out.success) == (6, 1, False)
    by_name = {o.expectation: o for o in out.outcomes}
    assert by_name["expect_column_values_to_be_unique(generation_id)"].unexpected_count == 2
    assert by_name["expect_column_values_to_be_between(quality_score)"].unexpected_count == 1
    assert by_name["expect_column_values_to_be_in_set(category)"].examples == ["x"]
    assert by_name["expect_column_pair_values_to_be_equal()"].unexpected_count == 1
    assert by_name["expect_table_row_count_to_equal(4)"].success
    assert not by_name["expect_column_values_to_not_be_null(not_there)"].success


def test_an_expectation_on_the_column_list_still_sees_every_column():
    df = _wide_frame()
    out = run_suite(df, [gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(df.columns)),
                         gxe.ExpectColumnValuesToNotBeNull(column="generation_id")], "columns")
    assert out.success and out.evaluated == 2
    out = run_suite(df, [gxe.ExpectTableRowCountToEqual(value=3)], "rows only")
    assert not out.success and out.outcomes[0].observed_value == 4
