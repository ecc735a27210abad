import json

import numpy as np
import pytest

from curation_dagster.lib.diversity import (DiversitySettings, compare_to_random, coverage, diversity_report,
                                            fit_cells, mean_pairwise_distance, tfidf_svd_instrument,
                                            vendi_score)

COOKING = [
    "Preheat the oven to 200 degrees and roast the potatoes until golden.",
    "Chop the onions finely and fry them in butter until soft.",
    "Season the chicken with salt, pepper and a little paprika before roasting.",
    "Simmer the tomato sauce for twenty minutes, stirring occasionally.",
    "Whisk the eggs with sugar until the mixture is pale and fluffy.",
    "Knead the bread dough for ten minutes and let it rise in a warm place.",
    "Add a pinch of salt to the boiling water before adding the pasta.",
    "Fold the flour gently into the batter so the cake stays light.",
    "Marinate the beef overnight in garlic, soy sauce and ginger.",
    "Roast the vegetables with olive oil, rosemary and garlic.",
    "Melt the chocolate slowly over a pot of simmering water.",
    "Grate the cheese and sprinkle it over the baked pasta.",
    "Let the soup simmer gently and season it with salt at the end.",
    "Brown the minced meat in a hot pan before adding the onions.",
    "Bake the cookies for twelve minutes until the edges are golden.",
    "Peel and dice the carrots, then add them to the stew.",
    "Stir the risotto constantly and add the stock one ladle at a time.",
    "Squeeze fresh lemon juice over the grilled fish before serving.",
    "Toast the spices in a dry pan to release their aroma.",
    "Beat the butter and sugar together until creamy for the cake.",
    "Slice the garlic thinly and fry it in olive oil over low heat.",
    "Cover the dough and let it rest in the fridge for an hour.",
    "Blanch the green beans in boiling salted water for two minutes.",
    "Reduce the wine sauce until it coats the back of a spoon.",
    "Sprinkle fresh herbs over the roasted chicken just before serving.",
    "Pour the batter into a greased tin and bake for forty minutes.",
    "Fry the eggs in butter and season them with pepper.",
    "Simmer the beans with onions, garlic and a bay leaf.",
    "Whip the cream until soft peaks form and sweeten it with sugar.",
    "Grill the vegetables until charred and drizzle them with olive oil.",
    "Add the chopped tomatoes to the pan and cook the sauce down.",
    "Roll out the pastry dough and line the tart tin with it.",
    "Season the soup with salt, pepper and a splash of cream.",
    "Caramelise the onions slowly in butter for thirty minutes.",
    "Boil the potatoes until tender, then mash them with butter and milk.",
    "Mix the flour, yeast and water to make a soft bread dough.",
    "Sear the steak in a very hot pan and let it rest before slicing.",
    "Stir the chocolate into the warm cream until the sauce is smooth.",
    "Bake the bread until the crust is golden and sounds hollow.",
    "Garnish the pasta with basil leaves and grated cheese.",
]

PROGRAMMING = [
    "Define a function that parses the configuration file and returns a dictionary.",
    "The compiler raises a type error when the variable is not declared.",
    "Write a unit test for the function before fixing the bug.",
    "Use a hash map to look up each key in constant time.",
    "The recursive function overflows the stack on very deep input.",
    "Refactor the class so that each method has a single responsibility.",
    "Commit the changes to a new branch and open a pull request.",
    "The loop iterates over the list and appends each item to the result.",
    "Catch the exception and log the error message with the stack trace.",
    "Install the package with pip and import the module in your script.",
    "The database query returns too many rows, so add an index on the column.",
    "Return early from the function when the input list is empty.",
    "The test fails because the function returns None instead of a list.",
    "Profile the program to find which function uses the most memory.",
    "Declare the variable as a constant so the compiler can optimise it.",
    "Merge the feature branch after the code review and the tests pass.",
    "Serialize the object to JSON before sending it over the network.",
    "The API returns a status code of 404 when the resource is missing.",
    "Use a generator to stream the file line by line instead of loading it.",
    "The class inherits from the base class and overrides the method.",
    "Run the test suite in the continuous integration pipeline on every commit.",
    "Pass the callback function as an argument to the event handler.",
    "The thread pool runs the tasks concurrently and joins them at the end.",
    "Sort the array with quicksort and then run a binary search on it.",
    "Add type hints to the function signature so the linter can check it.",
    "The null pointer exception comes from an uninitialised variable.",
    "Split the module into smaller files and import them in the package.",
    "Cache the result of the expensive function call in a dictionary.",
    "The compiler warns that the variable is unused in the loop.",
    "Write a script that reads the log file and counts the error lines.",
    "Deploy the service in a container and expose the port to the network.",
    "The function mutates its argument, which causes a subtle bug in the caller.",
    "Use version control to track every change in the source code.",
    "The query builder escapes the input to prevent SQL injection.",
    "Debug the program by setting a breakpoint inside the loop.",
    "The method returns a new list instead of modifying the original.",
    "Wrap the database call in a transaction and roll back on error.",
    "Lint the code and fix the warnings before the pull request is merged.",
    "The iterator raises StopIteration when there are no more items.",
    "Benchmark both implementations of the function and keep the faster one.",
]


def one_hots(n, d=None):
    return np.eye(d or n)[:n]


def clustered_pool(seed=0, big=500, small=20, n_small=9, dim=32, noise=0.02):
    """Tight, well-separated clusters (orthogonal centres); returns vectors and the true cluster of each row."""
    rng = np.random.default_rng(seed)
    sizes = [big] + [small] * n_small
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = np.eye(dim)[labels] + noise * rng.standard_normal((len(labels), dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def first_k_per_cluster(labels, k):
    mask = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        mask[np.flatnonzero(labels == c)[:k]] = True
    return mask


# --- Vendi and mean distance: values known from their definitions --------------------------------

def test_vendi_of_identical_rows_is_one():
    assert vendi_score(np.tile([0.6, 0.8, 0.0], (50, 1))) == pytest.approx(1.0, abs=1e-9)


def test_vendi_of_four_equal_groups_of_orthogonal_rows_is_four():
    x = np.repeat(one_hots(4, 10), 25, axis=0)
    assert vendi_score(x) == pytest.approx(4.0, abs=1e-9)


@pytest.mark.parametrize("n,d", [(7, 7), (3, 50)])  # d >= n and d > n both reach the n x n spectrum
def test_vendi_of_distinct_one_hots_is_n(n, d):
    assert vendi_score(one_hots(n, d)) == pytest.approx(n, abs=1e-9)


def test_vendi_ignores_scale_and_zero_rows_and_empty_is_zero():
    x = np.vstack([3 * one_hots(5), np.zeros((4, 5))])
    assert vendi_score(x) == pytest.approx(5.0, abs=1e-9)
    assert vendi_score(np.zeros((0, 8))) == 0.0
    assert vendi_score(np.zeros((6, 8))) == 0.0


def test_vendi_of_unequal_groups_is_exp_entropy_of_group_shares():
    # groups of 90 and 10 orthogonal rows: exp(-(0.9 ln 0.9 + 0.1 ln 0.1)) ~= 1.384
    x = np.vstack([np.tile([1.0, 0.0], (90, 1)), np.tile([0.0, 1.0], (10, 1))])
    assert vendi_score(x) == pytest.approx(1.3842, abs=1e-3)


def test_mean_pairwise_distance_identical_zero_one_hots_one():
    assert mean_pairwise_distance(np.tile([0.0, 1.0, 0.0], (20, 1))) == pytest.approx(0.0, abs=1e-12)
    assert mean_pairwise_distance(one_hots(12)) == pytest.approx(1.0, abs=1e-12)
    assert mean_pairwise_distance(one_hots(1)) == 0.0
    assert mean_pairwise_distance(np.zeros((0, 3))) == 0.0


def test_mean_pairwise_distance_matches_brute_force():
    x = np.random.default_rng(3).standard_normal((30, 6))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = u @ u.T
    brute = 1 - (cos.sum() - np.trace(cos)) / (30 * 29)
    assert mean_pairwise_distance(x) == pytest.approx(brute, abs=1e-10)


def test_coverage_is_share_of_cells_touched():
    assert coverage(np.array([0, 0, 3, 3, 5]), 10) == 0.3
    assert coverage(np.array([], dtype=int), 4) == 0.0
    assert coverage(np.array([1]), 0) == 0.0


# --- compare_to_random on constructed clusters ----------------------------------------------------

def test_fit_cells_recover_well_separated_clusters():
    x, labels = clustered_pool()
    cells = fit_cells(x, [f"r{i}" for i in range(len(x))], DiversitySettings(cells=10))
    # each true cluster falls in exactly one cell and no two clusters share one
    assert all(len(np.unique(cells[labels == c])) == 1 for c in range(10))
    assert len(np.unique(cells)) == 10


def test_stratified_sample_beats_random_on_unequal_clusters():
    x, labels = clustered_pool()
    cells = fit_cells(x, [f"r{i}" for i in range(len(x))], DiversitySettings(cells=10))
    out = compare_to_random(x, cells, first_k_per_cluster(labels, 10), DiversitySettings(cells=10))
    # 10 equal groups -> Vendi ~10; random draws are ~74% big cluster -> Vendi ~3
    assert out["vendi"]["export"] > 8
    assert out["vendi"]["ratio"] > 1 and out["vendi"]["z"] > 3
    assert out["coverage"]["export"] == 1.0 and out["coverage"]["ratio"] >= 1
    assert out["mean_distance"]["ratio"] > 1
    assert set(out["vendi"]) == {"export", "random_mean", "random_std", "ratio", "z"}


def test_sample_from_the_big_cluster_only_loses_to_random():
    x, labels = clustered_pool()
    cells = fit_cells(x, [f"r{i}" for i in range(len(x))], DiversitySettings(cells=10))
    mask = np.zeros(len(x), dtype=bool)
    mask[np.flatnonzero(labels == 0)[:100]] = True
    out = compare_to_random(x, cells, mask, DiversitySettings(cells=10))
    assert out["vendi"]["ratio"] < 1 and out["vendi"]["z"] < 0
    assert out["coverage"]["ratio"] < 1


def test_random_draws_follow_the_seeds():
    x, labels = clustered_pool()
    cells = labels
    mask = first_k_per_cluster(labels, 3)
    a = compare_to_random(x, cells, mask, DiversitySettings(random_samples=5, seed=1))
    b = compare_to_random(x, cells, mask, DiversitySettings(random_samples=5, seed=1))
    c = compare_to_random(x, cells, mask, DiversitySettings(random_samples=5, seed=2))
    assert a == b
    assert a["vendi"]["random_mean"] != c["vendi"]["random_mean"]



def test_each_draw_is_measured_as_the_public_metrics_measure_it():
    # the pool is normalised once for every draw; each figure must still be vendi_score / mean_pairwise_distance
    # of that draw's rows as given (scaled rows, zero rows included), to the last bit
    x, labels = clustered_pool()
    x = x * np.linspace(0.5, 3.0, len(x))[:, None]
    x[::7] = 0.0
    mask = first_k_per_cluster(labels, 3)
    s = DiversitySettings(random_samples=3, seed=5)
    out = compare_to_random(x, labels, mask, s)
    assert out["vendi"]["export"] == round(vendi_score(x[mask]), 4)
    assert out["mean_distance"]["export"] == round(mean_pairwise_distance(x[mask]), 4)
    draws = [np.random.default_rng(s.seed + i).choice(len(x), size=int(mask.sum()), replace=False) for i in range(3)]
    vendi = np.array([vendi_score(x[idx]) for idx in draws])
    distance = np.array([mean_pairwise_distance(x[idx]) for idx in draws])
    assert out["vendi"]["random_mean"] == round(float(vendi.mean()), 4)
    assert out["vendi"]["random_std"] == round(float(vendi.std(ddof=1)), 4)
    assert out["mean_distance"]["random_mean"] == round(float(distance.mean()), 4)


def test_draws_of_most_of_the_pool_measure_the_same_through_the_rows_left_out():
    # an export of 80% of the pool: each draw is measured as the pool minus the rows it leaves out
    # (its Gram matrix and sums), which must give vendi_score / mean_pairwise_distance of the draw itself
    x, labels = clustered_pool()
    x = x * np.linspace(0.5, 3.0, len(x))[:, None]
    x[::7] = 0.0
    mask = np.random.default_rng(0).random(len(x)) < 0.8
    s = DiversitySettings(random_samples=4, seed=9)
    out = compare_to_random(x, labels, mask, s)
    draws = [np.random.default_rng(s.seed + i).choice(len(x), size=int(mask.sum()), replace=False) for i in range(4)]
    vendi = np.array([vendi_score(x[idx]) for idx in draws])
    distance = np.array([mean_pairwise_distance(x[idx]) for idx in draws])
    assert 2 * mask.sum() > len(x) and vendi.std() > 0
    assert abs(out["vendi"]["random_mean"] - vendi.mean()) <= 5e-5 + 1e-9
    assert abs(out["vendi"]["random_std"] - vendi.std(ddof=1)) <= 5e-5 + 1e-9
    assert abs(out["mean_distance"]["random_mean"] - distance.mean()) <= 5e-5 + 1e-9
    assert out["vendi"]["export"] == round(vendi_score(x[mask]), 4)


# --- the lexical instrument -----------------------------------------------------------------------

def test_tfidf_instrument_separates_topics():
    texts = COOKING + PROGRAMMING
    x = tfidf_svd_instrument(texts, [f"t{i}" for i in range(len(texts))], DiversitySettings())
    assert x.dtype == np.float32 and len(x) == 80
    assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    a, b = x[:40], x[40:]

    def mean_within(m):
        s = m @ m.T
        return (s.sum() - np.trace(s)) / (len(m) * (len(m) - 1))

    across = float((a @ b.T).mean())
    assert mean_within(a) > 1.5 * across and mean_within(b) > 1.5 * across
    # and a sentence's most similar other sentence is nearly always on its own topic
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    same_topic = (sim.argmax(axis=1) < 40) == (np.arange(80) < 40)
    assert same_topic.mean() >= 0.85


def test_tfidf_instrument_empty_text_is_a_zero_row():
    texts = COOKING[:10] + [""]
    x = tfidf_svd_instrument(texts, [f"t{i}" for i in range(11)], DiversitySettings())
    assert not x[-1].any()
    assert np.allclose(np.linalg.norm(x[:-1], axis=1), 1, atol=1e-5)


def test_tfidf_instrument_rows_do_not_depend_on_input_order_with_a_fit_cap():
    texts = COOKING + PROGRAMMING
    ids = [f"t{i}" for i in range(80)]
    s = DiversitySettings(fit_cap=30)
    x = tfidf_svd_instrument(texts, ids, s)
    perm = np.random.default_rng(5).permutation(80)
    y = tfidf_svd_instrument([texts[i] for i in perm], [ids[i] for i in perm], s)
    assert np.allclose(y, x[perm], atol=1e-5)


@pytest.mark.parametrize("fit_cap", [20_000, 50])
def test_lexical_model_is_that_of_fitting_then_counting_the_fit_texts_again(fit_cap):
    # the recipe written out with scikit-learn itself: fit the vectorizer, transform the fit texts, fit
    # the SVD on that matrix. The instrument keeps the fit's own matrix instead: the same model, bit for bit
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from curation_dagster.lib.diversity import _cut, _fit_lexical, fit_sample

    rng = np.random.default_rng(3)
    words = (" ".join(COOKING + PROGRAMMING)).lower().replace(".", "").replace(",", "").split()
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 40))) for _ in range(120)] + COOKING + PROGRAMMING
    ids = [f"t{i}" for i in range(len(texts))]
    s = DiversitySettings(fit_cap=fit_cap, svd_components=16)
    cut = _cut(texts, s)
    fit_texts = [cut[i] for i in fit_sample(ids, s.seed, s.fit_cap)]
    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), max_features=50_000, strip_accents="unicode",
                          dtype=np.float32, min_df=2).fit(fit_texts)
    svd = TruncatedSVD(n_components=16, random_state=s.seed).fit(vec.transform(fit_texts))
    model = _fit_lexical(cut, ids, s)
    assert model.terms.tolist() == vec.get_feature_names_out().tolist()
    assert np.array_equal(model.idf, vec.idf_.astype(np.float32))
    assert np.array_equal(model.components, svd.components_.astype(np.float32))


def test_a_refit_places_its_fit_rows_from_the_fit_matrix_exactly_as_projecting_them(tmp_path, monkeypatch):
    from curation_dagster.lib import diversity
    from curation_dagster.lib.diversity import _cut, _fit_lexical_rows, fit_sample, lexical_vectors_kept

    rng = np.random.default_rng(11)
    words = (" ".join(COOKING + PROGRAMMING)).lower().replace(".", "").replace(",", "").split()
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 40))) for _ in range(100)] + COOKING + PROGRAMMING
    ids = [f"t{i}" for i in range(len(texts))]
    s = DiversitySettings(fit_cap=60, svd_components=16)
    cut = _cut(texts, s)
    model, fit_rows = _fit_lexical_rows(cut, ids, s)
    assert sorted(fit_rows) == sorted(fit_sample(ids, s.seed, 60).tolist())
    every = model.vectors(cut, s)  # each row projected from its text with the stored model
    assert all(np.array_equal(v, every[i]) for i, v in fit_rows.items())

    projected = []
    real = diversity.LexicalModel.vectors
    monkeypatch.setattr(diversity.LexicalModel, "vectors", lambda self, c, st: projected.append(len(c)) or real(self, c, st))
    got, read_back = lexical_vectors_kept(model, cut, s, tmp_path / "rows.npz", known=fit_rows)
    assert np.array_equal(got, every) and read_back == 0
    assert projected == [len(cut) - 60]  # only the rows outside the fit were counted again


@pytest.mark.parametrize("texts", [[], ["hello"], ["a b", "c d"], ["", "", "", ""], ["!!!", "?", "..."]])
def test_tfidf_instrument_tiny_inputs_give_zeros(texts):
    x = tfidf_svd_instrument(texts, [str(i) for i in range(len(texts))], DiversitySettings())
    assert x.shape == (len(texts), 1) and not x.any()


def test_tfidf_instrument_all_distinct_words_falls_back_to_min_df_one():
    x = tfidf_svd_instrument(["apple pie", "quantum field", "river stone"], ["a", "b", "c"], DiversitySettings())
    assert x.shape[0] == 3 and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)


# --- the report -----------------------------------------------------------------------------------

def topic_pool(seed=0, big=300, small=15, n_small=9):
    """Lexically tight clusters, one big and several small: each text is its cluster's 10 core words
    plus 2 of its 6 slot words, and no word is shared between clusters."""
    rng = np.random.default_rng(seed)
    sizes = [big] + [small] * n_small
    ids, texts, labels = [], [], []
    for c, size in enumerate(sizes):
        core = [f"core{c}w{j}" for j in range(10)]
        slots = [f"slot{c}w{j}" for j in range(6)]
        for i in range(size):
            ids.append(f"c{c:02d}-{i:03d}")
            texts.append(" ".join(core + list(rng.choice(slots, size=2, replace=False))))
            labels.append(c)
    return ids, texts, np.array(labels)


def test_report_says_a_stratified_export_beats_random():
    ids, texts, labels = topic_pool()
    sample = [i for i, keep in zip(ids, first_k_per_cluster(labels, 8)) if keep]
    sem = np.eye(16)[labels] + 0.01 * np.random.default_rng(1).standard_normal((len(ids), 16))
    r = diversity_report(ids, texts, sample + ["not-in-pool"], DiversitySettings(cells=20), semantic_vectors=sem)
    assert r["pool_rows"] == len(ids) and r["export_rows"] == 80 and r["export_rows_not_in_pool"] == 1
    assert r["random_samples"] == 10
    lex, semb = r["instruments"]["lexical"], r["instruments"]["semantic"]
    assert lex["name"] == "tfidf_svd" and semb["name"] == "embedding" and "not independent" in semb["note"]
    assert semb["dim"] == 16 and lex["cells"] <= 20
    assert lex["vendi"]["ratio"] > 1 and lex["vendi"]["z"] >= 2
    assert r["beats_random"] is True
    assert r["verdict"].startswith("beats random") and "lexical Vendi" in r["verdict"]
    json.dumps(r)  # JSON-ready


def test_report_says_a_one_cluster_export_does_not_beat_random():
    ids, texts, labels = topic_pool()
    sample = [i for i, c in zip(ids, labels) if c == 0][:80]
    r = diversity_report(ids, texts, sample, DiversitySettings(cells=20))
    assert r["beats_random"] is False and "semantic" not in r["instruments"]
    assert r["instruments"]["lexical"]["vendi"]["ratio"] < 1
    assert r["verdict"].startswith("does not beat random")


def test_report_does_not_depend_on_row_order():
    ids, texts, labels = topic_pool(big=200, small=10)
    sem = np.random.default_rng(2).standard_normal((len(ids), 8))
    sample = [i for i, keep in zip(ids, first_k_per_cluster(labels, 5)) if keep]
    s = DiversitySettings(cells=15, fit_cap=150, random_samples=5)
    a = diversity_report(ids, texts, sample, s, semantic_vectors=sem)
    perm = np.random.default_rng(9).permutation(len(ids))
    b = diversity_report([ids[i] for i in perm], [texts[i] for i in perm], sample[::-1], s,
                         semantic_vectors=sem[perm])
    assert a == b


def test_report_whole_pool_has_nothing_to_compare():
    ids, texts, _ = topic_pool(big=40, small=5, n_small=3)
    r = diversity_report(ids, texts, ids, DiversitySettings(cells=10))
    assert r["beats_random"] is False
    assert r["verdict"] == "the export is the whole pool: nothing to compare"
    for metric in ("vendi", "coverage", "mean_distance"):
        assert r["instruments"]["lexical"][metric]["ratio"] == 1.0
        assert r["instruments"]["lexical"][metric]["z"] == 0.0


@pytest.mark.parametrize("pool_ids,pool_texts,sample_ids,reason", [
    ([], [], [], "pool is empty"),
    ([], [], ["a"], "pool is empty"),
    (["a", "b"], ["x y", "y z"], [], "export is empty"),
    (["a", "b"], ["x y", "y z"], ["q"], "in the pool"),
])
def test_report_empty_inputs_explain_instead_of_raising(pool_ids, pool_texts, sample_ids, reason):
    r = diversity_report(pool_ids, pool_texts, sample_ids)
    assert r["beats_random"] is False and reason in r["verdict"]
    json.dumps(r)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_report_tiny_pools_do_not_raise(n):
    ids = [f"i{k}" for k in range(n)]
    r = diversity_report(ids, ["some words here"] * n, ids[:1], DiversitySettings(random_samples=3))
    assert r["pool_rows"] == n and r["export_rows"] == 1 and r["beats_random"] is False
    json.dumps(r)


def test_report_drops_duplicate_pool_ids_deterministically():
    r1 = diversity_report(["a", "a", "b", "c"], ["one two", "three four", "two three", "four one"], ["a"],
                          DiversitySettings(random_samples=3))
    r2 = diversity_report(["c", "b", "a", "a"], ["four one", "two three", "three four", "one two"], ["a"],
                          DiversitySettings(random_samples=3))
    assert r1["pool_rows"] == 3 and r1["pool_duplicate_ids"] == 1
    assert r1 == r2


def test_pool_texts_read_prompt_input_and_reply_with_a_missing_input_as_empty():
    import pandas as pd

    from curation_dagster.lib.diversity import pool_texts

    df = pd.DataFrame({"instruction": ["Sum", "Name"], "input_message": ["1 2", None], "output": ["3", "Ada"]})
    assert pool_texts(df) == ["Sum\n1 2\n3", "Name\n\nAda"]
    assert pool_texts(df.drop(columns="input_message")) == ["Sum\n\n3", "Name\n\nAda"]


def test_kept_instruments_give_the_same_report_and_are_refitted_when_they_no_longer_fit(tmp_path):
    from curation_dagster.lib.diversity import REFIT_GROWTH, Instruments, compare_to_pool

    ids, texts, labels = topic_pool()
    sample = [i for i, keep in zip(ids, first_k_per_cluster(labels, 8)) if keep]
    sem = np.eye(16)[labels] + 0.01 * np.random.default_rng(1).standard_normal((len(ids), 16))
    s = DiversitySettings(cells=20)
    fresh, kept = compare_to_pool(ids, texts, sample, s, sem, kept=None, key="model-a")
    assert fresh["instruments_fit"] == {"fitted_now": True, "pool_rows": len(ids)}
    assert fresh["instruments"] == diversity_report(ids, texts, sample, s, semantic_vectors=sem)["instruments"]
    # stored and read back (a .npz, no pickle), then used on the same pool: the same figures, no fit
    kept.save(tmp_path / "instruments.npz")
    back = Instruments.load(tmp_path / "instruments.npz")
    assert back.key == "model-a" and back.pool_rows == len(ids)
    again, same = compare_to_pool(ids, texts, sample, s, sem, kept=back, key="model-a")
    assert again["instruments_fit"] == {"fitted_now": False, "pool_rows": len(ids)}
    assert same is back
    assert again["instruments"] == fresh["instruments"] and again["verdict"] == fresh["verdict"]
    # each row's lexical vector kept by its text: the first export writes them, the next reads every
    # one back and reports the same figures; a pool with 5 new texts projects only those
    rows = tmp_path / "lexical_rows.npz"
    first, _ = compare_to_pool(ids, texts, sample, s, sem, kept=back, key="model-a", lexical_rows=rows)
    assert first["instruments_fit"]["lexical_rows_reused"] == 0 and first["instruments"] == fresh["instruments"]
    second, _ = compare_to_pool(ids, texts, sample, s, sem, kept=back, key="model-a", lexical_rows=rows)
    assert second["instruments_fit"]["lexical_rows_reused"] == len(ids) and second["instruments"] == fresh["instruments"]
    edited = texts[:-5] + [t + " with a new ending" for t in texts[-5:]]
    third, _ = compare_to_pool(ids, edited, sample, s, sem, kept=back, key="model-a", lexical_rows=rows)
    assert third["instruments_fit"]["lexical_rows_reused"] == len(ids) - 5
    assert third["instruments"] == compare_to_pool(ids, edited, sample, s, sem, kept=back, key="model-a")[0]["instruments"]
    # a refit on other texts is another lexical model: none of the kept rows is read back
    refit_report, _ = compare_to_pool(ids, edited, sample, s, sem, kept=None, key="model-a", lexical_rows=rows)
    assert refit_report["instruments_fit"]["fitted_now"] and refit_report["instruments_fit"]["lexical_rows_reused"] == 0
    # another topic model, a report without semantic vectors, or a pool grown past REFIT_GROWTH: fitted afresh
    assert compare_to_pool(ids, texts, sample, s, sem, kept=back, key="model-b")[0]["instruments_fit"]["fitted_now"]
    assert compare_to_pool(ids, texts, sample, s, None, kept=back, key="model-a")[0]["instruments_fit"]["fitted_now"]
    extra = int(len(ids) * (REFIT_GROWTH - 1)) + 1
    more_ids = ids + [f"new-{i}" for i in range(extra)]
    more_texts = texts + texts[:extra]
    more_sem = np.vstack([sem, sem[:extra]])
    grown, refit = compare_to_pool(more_ids, more_texts, sample, s, more_sem, kept=back, key="model-a")
    assert grown["instruments_fit"] == {"fitted_now": True, "pool_rows": len(more_ids)}
    assert refit is not back
    # a missing or broken file is no instruments
    assert Instruments.load(tmp_path / "missing.npz") is None
    (tmp_path / "broken.npz").write_bytes(b"not an npz")
    assert Instruments.load(tmp_path / "broken.npz") is None


def test_kept_lexical_rows_survive_digests_ending_in_zero_bytes(tmp_path):
    from curation_dagster.lib import diversity as D

    ids, texts, labels = topic_pool()
    s = DiversitySettings(cells=20)
    model = D._fit_lexical(D._cut(texts, s), ids, s)
    cut = D._cut(texts, s)
    # find texts whose 16-byte digest ends in a zero byte (about 1 in 256) by varying a suffix
    extra = [t for t in (f"padding text number {i}" for i in range(3000)) if D._text_digest(t).endswith(b"\0")][:2]
    assert extra, "no digest ending in a zero byte among 3,000 texts"
    rows = tmp_path / "rows.npz"
    first, _ = D.lexical_vectors_kept(model, cut + extra, s, rows)
    again, reused = D.lexical_vectors_kept(model, cut + extra, s, rows)
    assert reused == len(cut) + len(extra) and np.array_equal(first, again)
