"""In what order a sampling cell gives its rows (WITHIN_CELL_ORDERS): the cell's quota takes the first q.

`diverse` (the default): farthest-point order on the words of the whole example. The first row is
the cell's most typical one (highest mean similarity to the rest of the cell, scaled by its quality
weight); each next row is the one least like every row already ordered (1 - its highest cosine
similarity to them, scaled by its quality weight). Rows already shipped come first in key order and
count as ordered, so the picks added next differ from what shipped. Ties go to the smaller priority
key, then the id: the order is a function of the cell's content, not of row order.

"The words" are hashed TF-IDF of character 3-5-grams inside word boundaries over the instruction,
input message and output (first `max_chars` characters), the IDF fitted on a seeded-by-id sample of
the pool. Hashing needs no vocabulary, works for any language and for code, and costs one pass
(`char_wb_counts`: scikit-learn's char_wb n-grams, hashed in numpy over many texts at once); cut cells
are vectorised a batch at a time, so memory follows the batch, not the pool.

Why words, not the clustering embedding: the cells are already cut on the embedding, and on the
real ShareGPT development half farthest-point order on the embedding won on the embedding (Vendi
1.10x random) and lost on a lexical instrument (0.95x, z -4), picking odd short prompts that the
embedding puts far apart; on character n-grams it beat random on both (lexical 1.04x, z +4;
embedding 1.05x, z +7). See README, "Does it beat random on real conversations?".

`random`: the priority key alone (Efraimidis-Spirakis, quality-weighted; lib.sampling.priority_keys),
the rule before issue 17's measurement.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from curation_dagster.lib.files import write_atomic
from curation_dagster.lib.text import stable_unit_hash

TEXT_COLUMNS = ("instruction", "input_message", "output")


_POLY = np.uint64(0x100000001B3)  # rolling polynomial hash of an n-gram's code points
_FIB = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of h * this pick the feature


def char_wb_counts(texts: Sequence[str], n_features: int = 2 ** 20, min_n: int = 3, max_n: int = 5):
    """Counts of the hashed character n-grams (min_n..max_n) inside word boundaries of each text, as
    scipy CSR rows: the n-grams of scikit-learn's HashingVectorizer(analyzer="char_wb") (lower-cased,
    every word padded with a space each side, a word shorter than n gives no n-gram of that size) with
    another hash, computed over all texts at once in numpy instead of a Python loop per word: 4x faster
    on the real development half, where this was most of sampled_examples' time."""
    import scipy.sparse as sp

    if n_features & (n_features - 1):
        raise ValueError(f"n_features must be a power of two, got {n_features}")
    padded = [" " + "  ".join(words) + " " if (words := t.lower().split()) else "" for t in texts]
    lens = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    total = len(codes)
    if total == 0:
        return sp.csr_matrix((len(texts), n_features), dtype=np.float32)
    # padded words are " w " runs separated by nothing: each starts at a space followed by a letter and
    # ends after a space preceded by one; `room` is how many characters are left in the word from here
    space = codes == 32
    before = np.r_[True, space[:-1]]
    after = np.r_[space[1:], True]
    ends = np.flatnonzero(space & ~before) + 1
    room = ends[np.cumsum(space & ~after) - 1] - np.arange(total)
    cp = np.zeros(total + max_n, np.uint64)
    cp[:total] = codes
    h = np.zeros(total, np.uint64)
    bounds = np.r_[0, np.cumsum(lens)]
    shift = np.uint64(64 - (n_features.bit_length() - 1))
    rows, cols = [], []
    with np.errstate(over="ignore"):  # the hashes wrap around 2^64 on purpose
        for n in range(1, max_n + 1):
            h *= _POLY
            h += cp[n - 1:n - 1 + total]
            if n < min_n:
                continue
            ok = room >= n  # positions are in text order, so each text's n-grams of size n are contiguous
            seen = np.r_[0, np.cumsum(ok)]
            rows.append(np.repeat(np.arange(len(texts), dtype=np.int32), seen[bounds[1:]] - seen[bounds[:-1]]))
            cols.append((((h[ok] + np.uint64(n)) * _FIB) >> shift).astype(np.int32))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    # COO to CSR sorts by row in one counting pass and sums repeated n-grams
    return sp.coo_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(texts), n_features)).tocsr()


@dataclass(frozen=True)
class TextView:
    """Hashed character n-gram TF-IDF: `vectors(texts)` gives unit rows (scipy sparse)."""

    idf: np.ndarray
    max_chars: int
    n_features: int

    def counts(self, texts: Sequence[str]):
        return char_wb_counts([t[:self.max_chars] for t in texts], self.n_features)

    def vectors(self, texts: Sequence[str]):
        from sklearn.preprocessing import normalize
        m = self.counts(texts)
        m.data = 1.0 + np.log(m.data)  # sublinear tf: a repeated n-gram is evidence, not a vote per repeat
        return normalize(m.multiply(self.idf).tocsr())


def example_texts(df: pd.DataFrame) -> list[str]:
    """Instruction, input message and output of each row, newline-joined (missing columns are empty)."""
    cols = [df[c].where(df[c].notna(), "").astype(str) if c in df.columns else pd.Series("", index=df.index)
            for c in TEXT_COLUMNS]
    return ["\n".join(parts) for parts in zip(*cols)]


def fit_text_view(texts: Sequence[str], ids: Sequence[object], seed: int, fit_cap: int = 20_000,
                  max_chars: int = 2000, n_features: int = 2 ** 20, state: Path | None = None) -> TextView:
    """IDF from the `fit_cap` rows with the lowest seeded hash of their id: the same rows in any order.
    `state` (one .npz): the fit rows' texts and document frequencies are kept there, and the next fit
    counts only the rows that joined or left the fit since (a day moves a few hundred of 20,000): the
    same integer frequencies, so the same IDF, as counting every row again."""
    view = TextView(np.ones(n_features, np.float32), max_chars, n_features)
    order = sorted(range(len(ids)), key=lambda i: (stable_unit_hash(seed, "text_view", ids[i]), str(ids[i])))
    fit = [texts[i][:max_chars] for i in order[:fit_cap]]
    if not fit:
        return view
    keys = [hashlib.blake2b(repr((seed, n_features, str(ids[i]), t)).encode("utf-8", "surrogatepass"),
                            digest_size=16).digest() for i, t in zip(order, fit)]
    df = _document_frequencies(view, keys, fit, state)
    idf = np.log((1 + len(fit)) / (1 + df)) + 1.0  # sklearn's smoothed idf
    return TextView(idf.astype(np.float32), max_chars, n_features)


def _presence(view: TextView, texts: Sequence[str]) -> np.ndarray:
    # CSR rows hold each n-gram once (COO -> CSR sums repeats): a bincount of the columns counts documents
    return np.bincount(view.counts(texts).indices, minlength=view.n_features).astype(np.int64)


def _document_frequencies(view: TextView, keys: list[bytes], fit: list[str], state: Path | None) -> np.ndarray:
    old = _load_frequencies(state, view.n_features)
    df = None
    if old is not None and len(set(keys)) == len(keys) and len(set(old[0])) == len(old[0]):
        old_keys, old_texts, old_df = old
        now = set(keys)
        was = dict(zip(old_keys, range(len(old_keys))))
        left = [old_texts[j] for k, j in was.items() if k not in now]
        joined = [t for k, t in zip(keys, fit) if k not in was]
        if not left and not joined:  # the same fit rows: nothing to count, nothing to write
            return old_df.astype(np.float64)
        if len(left) + len(joined) < len(fit):  # else counting the fit afresh is as cheap
            df = old_df - _presence(view, left) + _presence(view, joined)
    if df is None:
        df = _presence(view, fit)
    if state is not None:
        _save_frequencies(Path(state), keys, fit, df)
    return df.astype(np.float64)


def _load_frequencies(state: Path | None, n_features: int):
    if state is None:
        return None
    try:
        with np.load(state, allow_pickle=False) as z:
            keys = [k.tobytes() for k in z["keys"]]
            blob, ends = z["texts"].tobytes(), z["ends"]
            df = z["df"]
        if len(df) != n_features or len(ends) != len(keys):
            return None
        starts = np.r_[0, ends[:-1]]
        return keys, [blob[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends)], df.astype(np.int64)
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None  # unreadable: the fit is counted afresh


def _save_frequencies(state: Path, keys: list[bytes], texts: list[str], df: np.ndarray) -> None:
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=np.frombuffer(b"".join(keys), np.uint8).reshape(-1, 16),
                     texts=np.frombuffer(b"".join(encoded), np.uint8),
                     ends=np.cumsum([len(e) for e in encoded], dtype=np.int64), df=df.astype(np.int32))

    write_atomic(state, write)


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


def _random_order(group: pd.DataFrame, vectors, quality_weight: float) -> np.ndarray:
    return np.arange(len(group))


def _diverse_order(group: pd.DataFrame, vectors, quality_weight: float) -> np.ndarray:
    if len(group) <= 1 or vectors is None:
        return np.arange(len(group))
    x = vectors
    # a dense block over the n-grams the cell uses (x @ x.T on a million columns would first transpose
    # into a million-row matrix for every cell), in float64 so that equal similarities come out equal
    # whatever order BLAS sums them in, and ties go to the key as farthest_point_order says
    used, inv = np.unique(x.indices, return_inverse=True)
    block = type(x)((x.data.astype(np.float64), inv.ravel(), x.indptr), shape=(x.shape[0], len(used))).toarray()
    sim = block @ block.T
    q = np.clip(group["_quality"].to_numpy(dtype=float), 1e-3, None) ** quality_weight
    return farthest_point_order(sim, q / q.max(), np.arange(len(group)), int((~group["_new"]).sum()))


#: name -> function(one cell's rows in priority order, shipped first, with `_quality` and `_new`; their
#: TextView.vectors (CSR unit rows, aligned) or None; quality_weight) -> positions in the order the cell
#: gives them. NEEDS_TEXT: the orders that read the vectors.
WITHIN_CELL_ORDERS: dict[str, Callable[[pd.DataFrame, object, float], np.ndarray]] = {
    "diverse": _diverse_order,
    "random": _random_order,
}
NEEDS_TEXT = {"diverse"}
