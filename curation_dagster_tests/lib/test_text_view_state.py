"""The within-cell text view's IDF kept between refreshes: the same IDF as fitting afresh."""

import numpy as np

from curation_dagster.lib import selection
from curation_dagster.lib.selection import fit_text_view

WORDS = ("invoice", "meeting", "supplier", "drawings", "Lyon", "pricing", "warehouse", "thanks", "Thursday",
         "proposal", "scope", "timeline", "café", "naïve", "予定", "def", "return", "SELECT")


def texts(n: int, offset: int = 0) -> tuple[list[str], list[str]]:
    ids = [f"g{i + offset:04d}" for i in range(n)]
    out = [" ".join(WORDS[(i * k + offset) % len(WORDS)] for k in range(1, 2 + i % 9)) for i in range(n)]
    return ids, out


def fresh(ids, txt, cap):
    return fit_text_view(txt, ids, seed=3, fit_cap=cap, n_features=2 ** 12).idf


def test_kept_frequencies_give_the_idf_of_a_fresh_fit_as_the_pool_changes(tmp_path, monkeypatch):
    state = tmp_path / "text_view.npz"
    ids, txt = texts(300)
    first = fit_text_view(txt, ids, seed=3, fit_cap=120, n_features=2 ** 12, state=state).idf
    assert np.array_equal(first, fresh(ids, txt, 120)) and state.exists()
    # a day later: 40 rows joined (some displace fit rows), 5 left the pool, one text was edited
    more_ids, more_txt = texts(40, offset=1000)
    ids2, txt2 = ids[5:] + more_ids, txt[5:] + more_txt
    txt2[10] = txt2[10] + " edited by a reviewer"
    counted = []
    real = selection._presence
    monkeypatch.setattr(selection, "_presence", lambda view, t: counted.append(len(t)) or real(view, t))
    kept = fit_text_view(txt2, ids2, seed=3, fit_cap=120, n_features=2 ** 12, state=state).idf
    # only the rows that left the fit and those that joined it were counted, not the 120
    assert len(counted) == 2 and 0 < sum(counted) < 60
    monkeypatch.undo()
    expected = fresh(ids2, txt2, 120)
    assert np.array_equal(kept, expected) and not np.array_equal(expected, first)
    # same rows in another order: the same IDF, nothing counted and the file left as it was
    counted.clear()
    monkeypatch.setattr(selection, "_presence", lambda view, t: counted.append(len(t)) or real(view, t))
    written = state.stat().st_mtime_ns
    back = fit_text_view(txt2[::-1], ids2[::-1], seed=3, fit_cap=120, n_features=2 ** 12, state=state).idf
    assert np.array_equal(back, expected) and counted == [] and state.stat().st_mtime_ns == written


def test_idf_values_are_the_smoothed_document_frequencies(tmp_path):
    # three documents; "abc" is in all of them, "xyz" in one: idf = ln((1 + 3) / (1 + df)) + 1
    view = fit_text_view(["abc xyz", "abc", "abc abc"], ["a", "b", "c"], seed=0, n_features=2 ** 16,
                         state=tmp_path / "s.npz")
    counts = view.counts(["abc"])  # the 3-gram " ab", "abc", "bc " and longer ones of the padded word
    assert np.allclose(view.idf[counts.indices], np.log(4 / 4) + 1.0)
    only_xyz = set(view.counts(["xyz"]).indices) - set(counts.indices)
    assert only_xyz and np.allclose(view.idf[sorted(only_xyz)], np.log(4 / 2) + 1.0)


def test_an_unreadable_state_is_fitted_afresh(tmp_path):
    state = tmp_path / "text_view.npz"
    state.write_bytes(b"garbage")
    ids, txt = texts(50)
    assert np.array_equal(fit_text_view(txt, ids, seed=3, fit_cap=30, n_features=2 ** 12, state=state).idf,
                          fresh(ids, txt, 30))
