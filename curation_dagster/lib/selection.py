"""In what order a sampling cell gives its rows (WITHIN_CELL_ORDERS): the cell's quota takes the first q.

`diverse` (the default): farthest-point order on the words of the whole example. The first row is
the cell's most typical one (highest mean similarity to the rest of the cell, scaled by its quality
weight); each next row is the one least like every row already ordered (1 - its highest cosine
similarity to them, scaled by its quality weight). Rows already shipped come first in key order and
count as ordered, so the picks added next differ from what shipped. Ties go to the smaller priority
key, then the id: the order is a function of the cell's content, not of row order.

"The words" are hashed TF-IDF of character 3-5-grams inside word boundaries over the instruction,
input message and output (first `max_chars` characters), the IDF fitted on a seeded-by-id sample of
the pool. Hashing needs no vocabulary, works for any language and for code, and costs one pass; only
one cell's rows are ever held as vectors, so memory follows the largest cell, not the pool.

Why words, not the clustering embedding: the cells are already cut on the embedding, and on the
real ShareGPT development half farthest-point order on the embedding won on the embedding (Vendi
1.10x random) and lost on a lexical instrument (0.95x, z -4), picking odd short prompts that the
embedding puts far apart; on character n-grams it beat random on both (lexical 1.04x, z +4;
embedding 1.05x, z +7). See README, "Does it beat random on real conversations?".

`random`: the priority key alone (Efraimidis-Spirakis, quality-weighted; lib.sampling.priority_keys),
the rule before issue 17's measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from curation_dagster.lib.text import stable_unit_hash

TEXT_COLUMNS = ("instruction", "input_message", "output")


@dataclass(frozen=True)
class TextView:
    """Hashed character n-gram TF-IDF: `vectors(texts)` gives unit rows (scipy sparse)."""

    idf: np.ndarray
    max_chars: int
    n_features: int

    def _vectorizer(self):
        from sklearn.feature_extraction.text import HashingVectorizer
        return HashingVectorizer(n_features=self.n_features, analyzer="char_wb", ngram_range=(3, 5),
                                 alternate_sign=False, norm=None, dtype=np.float32)

    def vectors(self, texts: Sequence[str]):
        from sklearn.preprocessing import normalize
        m = self._vectorizer().transform([t[:self.max_chars] for t in texts])
        m.data = 1.0 + np.log(m.data)  # sublinear tf: a repeated n-gram is evidence, not a vote per repeat
        return normalize(m.multiply(self.idf).tocsr())


def example_texts(df: pd.DataFrame) -> list[str]:
    """Instruction, input message and output of each row, newline-joined (missing columns are empty)."""
    cols = [df[c].where(df[c].notna(), "").astype(str) if c in df.columns else pd.Series("", index=df.index)
            for c in TEXT_COLUMNS]
    return ["\n".join(parts) for parts in zip(*cols)]


def fit_text_view(texts: Sequence[str], ids: Sequence[object], seed: int, fit_cap: int = 20_000,
                  max_chars: int = 2000, n_features: int = 2 ** 20) -> TextView:
    """IDF from the `fit_cap` rows with the lowest seeded hash of their id: the same rows in any order."""
    view = TextView(np.ones(n_features, np.float32), max_chars, n_features)
    order = sorted(range(len(ids)), key=lambda i: (stable_unit_hash(seed, "text_view", ids[i]), str(ids[i])))
    fit = [texts[i] for i in order[:fit_cap]]
    if not fit:
        return view
    m = view._vectorizer().transform([t[:max_chars] for t in fit])
    df = np.bincount(m.indices, minlength=n_features).astype(np.float64)
    idf = np.log((1 + len(fit)) / (1 + df)) + 1.0  # sklearn's smoothed idf
    return TextView(idf.astype(np.float32), max_chars, n_features)


def farthest_point_order(sim: np.ndarray, weight: np.ndarray, tiebreak: np.ndarray, n_fixed: int = 0) -> np.ndarray:
    """Positions 0..n-1 in farthest-point order. sim: n x n cosine similarities; weight: per-row
    quality factor (> 0); tiebreak: ascending order among equal scores; the first `n_fixed` rows
    (already shipped) stay first in the given order and count as picked."""
    n = len(sim)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = list(range(n_fixed))
    left = np.ones(n, dtype=bool)
    left[:n_fixed] = False
    rank = np.empty(n, dtype=np.float64)
    rank[np.lexsort((np.arange(n), tiebreak))] = np.arange(n)
    if n_fixed:
        nearest = sim[:n_fixed].max(axis=0)
    else:
        first = _best(sim.mean(axis=1) * weight, left, rank)
        order.append(first)
        left[first] = False
        nearest = sim[first].copy()
    while left.any():
        j = _best((1.0 - nearest) * weight, left, rank)
        order.append(j)
        left[j] = False
        np.maximum(nearest, sim[j], out=nearest)
    return np.asarray(order, dtype=np.int64)


def _best(score: np.ndarray, left: np.ndarray, rank: np.ndarray) -> int:
    # the highest score among rows left; scores equal to float noise tie and go to the lower rank
    s = np.where(left, np.round(score, 9), -np.inf)
    cand = np.flatnonzero(s == s.max())
    return int(cand[np.argmin(rank[cand])])


def _random_order(group: pd.DataFrame, view: TextView | None, quality_weight: float) -> np.ndarray:
    return np.arange(len(group))


def _diverse_order(group: pd.DataFrame, view: TextView | None, quality_weight: float) -> np.ndarray:
    if len(group) <= 1 or view is None:
        return np.arange(len(group))
    x = view.vectors(example_texts(group))
    sim = (x @ x.T).toarray()
    q = np.clip(group["_quality"].to_numpy(dtype=float), 1e-3, None) ** quality_weight
    return farthest_point_order(sim, q / q.max(), np.arange(len(group)), int((~group["_new"]).sum()))


#: name -> function(one cell's rows in priority order, shipped first, with `_quality` and `_new`;
#: the text view or None; quality_weight) -> positions in the order the cell gives them
WITHIN_CELL_ORDERS: dict[str, Callable[[pd.DataFrame, TextView | None, float], np.ndarray]] = {
    "diverse": _diverse_order,
    "random": _random_order,
}
NEEDS_TEXT = {"diverse"}
