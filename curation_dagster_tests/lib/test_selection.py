"""The order a sampling cell gives its rows: farthest point on the words of the example."""

import numpy as np
import pandas as pd

from curation_dagster.lib.sampling import SampleSettings, sample_to_target
from curation_dagster.lib.selection import example_texts, farthest_point_order, fit_text_view


def test_farthest_point_order_on_a_constructed_similarity():
    # rows 0-2 are one kind (0 the most typical of them), 3 and 4 two other kinds, 4 halfway to 0-2
    sim = np.array([
        [1.00, 0.95, 0.95, 0.10, 0.50],
        [0.95, 1.00, 0.90, 0.10, 0.50],
        [0.95, 0.90, 1.00, 0.10, 0.50],
        [0.10, 0.10, 0.10, 1.00, 0.20],
        [0.50, 0.50, 0.50, 0.20, 1.00],
    ])
    ones, ties = np.ones(5), np.arange(5)
    # mean similarity: row 0 = 3.5/5 is the highest (1 and 2: 3.45/5) -> first; then 3 (0.90 from row 0),
    # then 4 (0.50), then 1 and 2 tie at 0.05 from row 0: the tie goes to the smaller key, 1
    assert farthest_point_order(sim, ones, ties).tolist() == [0, 3, 4, 1, 2]
    # the tie-break order decides ties: with row 2 ranked before row 1, 2 comes first
    assert farthest_point_order(sim, ones, np.array([0, 1, 0, 3, 4])).tolist()[3:] == [2, 1]
    # row 3 shipped already (fixed first, counted as picked): 0, 1 and 2 are 0.90 from it, 4 only 0.80,
    # so 0 comes next (first of the tie); then 4 (0.50 from row 0) before 1 and 2 (0.05)
    moved = [3, 0, 1, 2, 4]
    order = farthest_point_order(sim[np.ix_(moved, moved)], ones, ties, n_fixed=1)
    assert [moved[i] for i in order] == [3, 0, 4, 1, 2]
    # a quality weight of 0.01 on row 3 makes it the last pick however far it is
    w = np.array([1, 1, 1, 0.01, 1.0])
    assert farthest_point_order(sim, w, ties).tolist()[-1] == 3
    assert farthest_point_order(np.zeros((0, 0)), np.ones(0), np.arange(0)).tolist() == []


def cell(texts, prefix="r", cell_id=0, quality=0.5):
    return pd.DataFrame([{"generation_id": f"{prefix}{i:02d}", "cluster_id": 0, "cell_id": cell_id,
                          "template_id": "general", "instruction": t, "input_message": None,
                          "output": "Here is the answer you asked for.", "quality_score": quality}
                         for i, t in enumerate(texts)])


PASSWORD = [f"How do I reset my account password{p}" for p in ("?", "??", " please?", " now?", " today?", "!")]
OTHERS = ["Write a haiku about the autumn sea and the gulls over it",
          "Explain the SQL window function ROW_NUMBER with an example query"]


def test_a_cell_of_one_question_in_six_wordings_and_two_others_gives_one_of_each():
    df = cell(PASSWORD + OTHERS)  # 8 rows: picks 3 -> one password wording, the haiku and the SQL question
    out, _ = sample_to_target(df, SampleSettings(target_examples=3, general_share=1.0, max_per_prompt=0,
                                                 max_pool_share=1.0))
    picked = set(out["instruction"])
    assert set(OTHERS) <= picked and len(picked & set(PASSWORD)) == 1
    # the random order, same seed: the two others are only 2 of 8 rows; count how often random picks
    # both, over seeds, to show the diverse order is not luck (3 of 8 picks hold both in 3/28 of draws)
    both = sum(set(OTHERS) <= set(sample_to_target(df, SampleSettings(
        target_examples=3, general_share=1.0, max_per_prompt=0, max_pool_share=1.0, within_cell="random",
        seed=seed))[0]["instruction"]) for seed in range(40))
    assert both < 15


def test_the_diverse_order_is_deterministic_and_independent_of_row_order():
    df = pd.concat([cell(PASSWORD + OTHERS, "a", 0), cell(OTHERS + PASSWORD[:3], "b", 1)], ignore_index=True)
    s = SampleSettings(target_examples=6, general_share=1.0, max_per_prompt=0, max_pool_share=1.0)
    first, _ = sample_to_target(df, s)
    shuffled, _ = sample_to_target(df.sample(frac=1, random_state=3).reset_index(drop=True), s)
    assert first["generation_id"].tolist() == shuffled["generation_id"].tolist()
    assert len(first) == 6


def test_shipped_rows_stay_and_the_next_pick_differs_from_them():
    df = cell(PASSWORD + OTHERS)
    shipped = {"r00", "r01"}  # two password wordings shipped: the third pick is a new kind, not a third wording
    s = SampleSettings(target_examples=3, general_share=1.0, max_per_prompt=0, max_pool_share=1.0)
    out, _ = sample_to_target(df, s, shipped=shipped)
    assert shipped <= set(out["generation_id"]) and len(out) == 3
    assert (set(out["instruction"]) - {PASSWORD[0], PASSWORD[1]}) <= set(OTHERS)


def test_quality_weight_scales_the_farthest_point_score():
    low = cell(OTHERS[:1], "lo", quality=0.05)
    high = cell(["Write a haiku about the autumn sea and the gulls above it"], "hi", quality=0.9)
    df = pd.concat([cell(PASSWORD[:1], "p"), low, high], ignore_index=True)
    # the two haiku rows are near-identical; of them the higher-quality one is picked
    out, _ = sample_to_target(df, SampleSettings(target_examples=2, general_share=1.0, max_per_prompt=0,
                                                 max_pool_share=1.0))
    assert "hi00" in set(out["generation_id"]) and "lo00" not in set(out["generation_id"])


def test_text_view_is_unit_length_and_reads_every_example_column():
    df = pd.DataFrame({"instruction": ["a question", None], "input_message": [None, "context"],
                       "output": ["an answer", "reply"]})
    assert example_texts(df) == ["a question\n\nan answer", "\ncontext\nreply"]
    view = fit_text_view(example_texts(df), ["x", "y"], seed=1)
    x = view.vectors(example_texts(df))
    assert np.allclose(np.sqrt(x.multiply(x).sum(axis=1)).A1, 1.0)
    same = fit_text_view(list(reversed(example_texts(df))), ["y", "x"], seed=1)
    assert np.array_equal(view.idf, same.idf)  # the fit does not depend on row order


def test_char_wb_counts_are_scikit_learns_char_wb_ngrams_under_another_hash():
    from sklearn.feature_extraction.text import HashingVectorizer

    from curation_dagster.lib.selection import char_wb_counts

    texts = ["Hello world", "a b  c", "", "   ", "ab", "The quick brown fox jumps over the lazy dog",
             "x\ty\nz", "ÜBER straße 代码 ok", "def f(x):\n    return x ** 2  # square", "last"]
    ref = HashingVectorizer(n_features=2 ** 20, analyzer="char_wb", ngram_range=(3, 5), alternate_sign=False,
                            norm=None).transform(texts)
    ours = char_wb_counts(texts)
    assert ours.shape == (10, 2 ** 20)
    # the same n-grams with the same multiplicities in every row (only the feature numbers differ):
    # "a b  c" is three padded one-letter words, one 3-gram each; "ab" is " ab" and "ab " and " ab "
    for i in range(len(texts)):
        assert sorted(ours[i].data.tolist()) == sorted(ref[i].data.tolist()), texts[i]
    assert ours[1].sum() == 3 and ours[4].sum() == 3 and ours[2].nnz == 0 and ours[3].nnz == 0
    # "hello world": 5+4+3 n-grams of " hello " (7 chars) and the same of " world "
    assert ours[0].sum() == 24
    # a repeated word counts its n-grams twice
    assert char_wb_counts(["echo echo"]).data.tolist() == [2.0] * 9  # " echo ": 4 + 3 + 2
