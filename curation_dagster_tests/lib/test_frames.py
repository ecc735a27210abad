"""lib.frames.with_embeddings: the pool joined to generation_embeddings' vectors by id."""

import numpy as np
import pandas as pd

from curation_dagster.lib.frames import embedding_matrix, with_embeddings


def test_each_pool_row_gets_its_own_vector_in_the_pool_order():
    pool = pd.DataFrame({"generation_id": ["c", "a", "b"], "instruction": ["third", "first", "second"]})
    # every day's vectors, in another order, with a row the pool no longer holds (removed as a duplicate)
    vectors = pd.DataFrame({"generation_id": ["a", "b", "c", "gone"],
                            "embedding": [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [9.0, 9.0]]})
    out = with_embeddings(pool, vectors)
    assert out["generation_id"].tolist() == ["c", "a", "b"]
    assert out["instruction"].tolist() == ["third", "first", "second"]
    assert np.allclose(embedding_matrix(out), [[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])


def test_a_row_without_a_vector_is_left_out_and_an_id_stored_twice_repeats_no_row():
    pool = pd.DataFrame({"generation_id": ["a", "b", "c"]})
    vectors = pd.DataFrame({"generation_id": ["a", "a", "c"], "embedding": [[1.0], [2.0], [3.0]]})
    out = with_embeddings(pool, vectors)
    assert out["generation_id"].tolist() == ["a", "c"]  # b's day was re-materialized since the refresh
    assert embedding_matrix(out).ravel().tolist() == [1.0, 3.0]  # the first of a's two


def test_a_stored_embedding_column_is_replaced_and_an_empty_pool_stays_empty():
    pool = pd.DataFrame({"generation_id": ["a"], "embedding": [[0.0]]})
    assert embedding_matrix(with_embeddings(pool, pd.DataFrame({"generation_id": ["a"], "embedding": [[5.0]]}))
                            ).ravel().tolist() == [5.0]
    empty = with_embeddings(pd.DataFrame({"generation_id": pd.Series(dtype=object)}), pd.DataFrame())
    assert len(empty) == 0 and "embedding" in empty.columns
