"""Did curation beat random? The exported sample's diversity against same-size random samples.

Every export is compared with `random_samples` random draws of the same size from the pool it was
selected from. Diversity is measured on a lexical instrument fitted here, apart from the
selection: TF-IDF (words and word pairs) reduced by truncated SVD. It is not blind to the selection:
the default within-cell order (lib.selection) reads hashed character n-grams of the same text, so
the embedding's figures (the "semantic" instrument, the space the cells were cut in) are reported
beside it; neither alone should be trusted, and only the lexical one decides the verdict.

Three numbers per instrument, each as export vs. random mean, ratio and z-score:

* **vendi** - the effective number of distinct kinds of text (1 = all alike, n = n unrelated texts).
* **coverage** - share of the pool's regions (k-means cells on the instrument) the rows touch.
* **mean_distance** - average cosine distance between two rows (0 = identical, 1 = unrelated).

The export "beats random" when its lexical Vendi ratio is above 1 and its z-score reaches `min_z`.
Everything is deterministic: rows are sorted by id and every sample is chosen by a seeded hash of
ids or a seeded generator, so the same pool in any order gives the same report.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

METRICS = ("vendi", "coverage", "mean_distance")
SEMANTIC_NOTE = "the clustering embedding's space: not independent of the selection"
_MINIBATCH_ABOVE = 20_000
_ZERO_NORM = 1e-12


@dataclass(frozen=True)
class DiversitySettings:
    """How the export is compared with random samples of the pool.

    random_samples: how many same-size random samples are drawn (generator seeds seed..seed+R-1);
        their mean and spread are the yardstick.
    cells: k-means regions the pool is cut into on the instrument; coverage counts those touched.
    svd_components: dimensions kept from TF-IDF (fewer when the vocabulary or pool is smaller).
    max_chars: each text is cut to this many characters before TF-IDF, for speed.
    fit_cap: TF-IDF, SVD and the cells are fitted on at most this many pool rows (chosen by a seeded
        hash of their id), then applied to every row; bounds the cost on large pools.
    seed: seeds the fit sample, SVD, k-means and the random samples.
    min_z: how many standard deviations above the random mean the lexical Vendi must be to count.
    """

    random_samples: int = 10
    cells: int = 200
    svd_components: int = 128
    max_chars: int = 2000
    fit_cap: int = 20_000
    seed: int = 42
    min_z: float = 2.0


def _id_hash(seed: int, id_: object) -> int:
    # blake2b, not hash(): Python salts str hashes per process, which would change the fit sample
    # between runs
    key = f"{seed}:{id_}".encode("utf-8", errors="surrogatepass")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def fit_sample(ids: Sequence[object], seed: int, cap: int) -> np.ndarray:
    """Positions of the rows a model is fitted on: the `cap` lowest seeded id hashes, in hash order.

    The order is part of the contract: SVD and k-means depend on row order, so fitting in hash order
    (not input order) keeps the fitted model the same however the caller ordered the rows.
    """
    keys = sorted(((_id_hash(seed, id_), str(id_), i) for i, id_ in enumerate(ids)))
    return np.array([i for _, _, i in keys[:max(0, cap)]], dtype=np.int64)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        x = x.reshape(len(x), -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > _ZERO_NORM)


def _nonzero_unit_rows(x: np.ndarray) -> np.ndarray:
    u = _unit_rows(x)
    return u[np.linalg.norm(u, axis=1) > 0.5]


def pool_texts(pool: pd.DataFrame) -> list[str]:
    """What the diversity instrument reads of a row: the prompt and the reply, as the example shows them."""
    inp = pool["input_message"] if "input_message" in pool.columns else pd.Series("", index=pool.index)
    return [f"{i or ''}\n{m or ''}\n{o or ''}" for i, m, o in
            zip(pool["instruction"], inp.where(inp.notna(), ""), pool["output"])]


def tfidf_svd_instrument(texts: Sequence[str], ids: Sequence[object], s: DiversitySettings) -> np.ndarray:
    """Unit-length lexical vectors (float32, one row per text): TF-IDF of words and word pairs, reduced by SVD.

    Two texts point the same way when they use the same distinctive words. Independent of any
    embedding model. An empty text (or one with no word in the vocabulary) is a zero row. Inputs too
    small to fit on (0-2 rows, no vocabulary) give zeros of shape (n, 1) rather than an error.
    """
    n = len(texts)
    if len(ids) != n:
        raise ValueError(f"{n} texts but {len(ids)} ids")
    cut = _cut(texts, s)
    fitted = _fit_lexical(cut, ids, s)
    if isinstance(fitted, LexicalModel):
        return fitted.vectors(cut, s)
    return fitted


def _cut(texts: Sequence[str], s: DiversitySettings) -> list[str]:
    return ["" if t is None else str(t)[:s.max_chars] for t in texts]


@dataclass(frozen=True)
class LexicalModel:
    """The fitted lexical instrument: TF-IDF vocabulary (terms by column) and idf, SVD components."""

    terms: np.ndarray
    idf: np.ndarray
    components: np.ndarray  # (k, len(terms))

    def vectors(self, cut_texts: Sequence[str], s: DiversitySettings) -> np.ndarray:
        vec = _vectorizer(vocabulary={t: i for i, t in enumerate(self.terms.tolist())})
        vec.idf_ = self.idf
        return self.project(vec.transform(cut_texts))

    def project(self, tfidf_rows) -> np.ndarray:
        """Unit rows of TF-IDF rows (this vocabulary and idf) times the components. TruncatedSVD.transform
        is this product: the same numbers whether fitted now or stored; each row's depend on that row alone."""
        return _unit_rows(tfidf_rows @ self.components.T).astype(np.float32)


    @property
    def identity(self) -> str:
        """What a row's vector depends on besides its text: kept rows of another model are not reused."""
        h = hashlib.blake2b(digest_size=16)
        for a in (self.idf, self.components):
            h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
        h.update("\x1f".join(self.terms.tolist()).encode("utf-8", errors="surrogatepass"))
        return h.hexdigest()


def _text_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"), digest_size=16).digest()


def lexical_vectors_kept(model: LexicalModel, cut: list[str], s: DiversitySettings, path,
                         known: dict[int, np.ndarray] | None = None) -> tuple[np.ndarray, int]:
    """(model.vectors(cut), rows read back): rows whose text an earlier export already projected with
    this same model are read from `path` (an .npz of text digests and vectors), only the others are
    projected, and `path` is rewritten with this pool's rows. Each row's vector depends on its text and
    the model alone (a sparse row times the components), so the result is the one computed afresh; on a
    daily refresh the TF-IDF pass over the whole pool was most of the export's diversity time.
    `known`: vectors of some rows (index in cut -> vector) already projected with this model, such as a
    refit's fit rows (_fit_lexical_rows): not projected again."""
    digests = [_text_digest(t) for t in cut]
    found: dict[bytes, np.ndarray] = {}
    identity = model.identity
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["model"]) == identity:
                found = {d.tobytes(): v for d, v in zip(z["digests"], z["vectors"])}
    except (OSError, ValueError, KeyError):
        pass
    todo = [i for i, d in enumerate(digests) if d not in found]
    known = known or {}
    fresh_rows = [i for i in todo if i not in known]
    found.update({digests[i]: known[i] for i in todo if i in known})
    if fresh_rows:
        fresh = model.vectors([cut[i] for i in fresh_rows], s)
        found.update({digests[i]: fresh[j] for j, i in enumerate(fresh_rows)})
    dim = model.components.shape[0]
    out = np.stack([found[d] for d in digests]).astype(np.float32) if digests else np.zeros((0, dim), np.float32)
    from curation_dagster.lib.files import write_atomic

    def save(tmp):
        with open(tmp, "wb") as fh:
            # raw bytes as uint8 rows: a numpy "S16" array would drop a digest's trailing zero bytes
            np.savez(fh, model=np.array(identity), vectors=out,
                     digests=np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(digests), 16))
    write_atomic(Path(path), save)
    return out, len(cut) - len(todo)


def _vectorizer(**kw) -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), max_features=50_000,
                           strip_accents="unicode", dtype=np.float32, **kw)


def _fit_lexical(cut: list[str], ids: Sequence[object], s: DiversitySettings) -> "LexicalModel | np.ndarray":
    """A LexicalModel fitted on the seeded fit sample, or, when there is nothing to fit an SVD on,
    the instrument's vectors of `cut` themselves (zeros, or the one TF-IDF column)."""
    return _fit_lexical_rows(cut, ids, s)[0]


def _fit_lexical_rows(cut: list[str], ids: Sequence[object],
                      s: DiversitySettings) -> "tuple[LexicalModel | np.ndarray, dict[int, np.ndarray]]":
    """_fit_lexical, and with a LexicalModel the model's vectors of the fit rows (index in cut -> vector),
    projected from the fit's own TF-IDF matrix: on a pool under `fit_cap` rows, every row's, so a refit
    does not count the pool's texts again to place them."""
    n = len(cut)
    zeros = np.zeros((n, 1), dtype=np.float32)
    if n <= 2:
        return zeros, {}
    fit_idx = fit_sample(ids, s.seed, s.fit_cap)
    fit_texts = [cut[i] for i in fit_idx]
    tfidf = x_fit = None
    # min_df=2 drops one-off tokens (typos, ids) that would dominate SVD; a tiny or fully distinct
    # fit sample can have none, then every token counts
    for min_df in (2, 1):
        vec = _vectorizer(min_df=min_df)
        try:
            # the fit counts every text anyway: keep its matrix instead of counting the texts again for the
            # SVD (a third of a refit's time on the real half). Its row indices sorted, it is transform()'s
            # matrix entry for entry (same counts, same idf): the same SVD
            x_fit = vec.fit_transform(fit_texts)
        except ValueError:  # "empty vocabulary" / "no terms remain"
            continue
        x_fit.sort_indices()
        tfidf = vec
        break
    if tfidf is None:
        return zeros, {}
    vocab = len(tfidf.vocabulary_)
    k = min(s.svd_components, vocab - 1, len(fit_idx) - 1)
    if k < 1:
        # a one-word vocabulary: the TF-IDF column already is the whole (1-d) instrument
        return (_unit_rows(tfidf.transform(cut).toarray()).astype(np.float32) if vocab == 1 else zeros), {}
    svd = TruncatedSVD(n_components=k, random_state=s.seed)
    with np.errstate(divide="ignore", invalid="ignore"):  # identical texts: explained-variance ratio is 0/0
        svd.fit(x_fit)
    # idf_ is float32 already (the vectorizer's dtype): the stored model transforms these texts to x_fit
    model = LexicalModel(tfidf.get_feature_names_out(), tfidf.idf_.astype(np.float32),
                         svd.components_.astype(np.float32))
    return model, dict(zip(fit_idx.tolist(), model.project(x_fit)))


def vendi_score(x: np.ndarray) -> float:
    """Effective number of distinct kinds of rows: 1 when all rows are alike, n for n orthogonal rows.

    Vendi score with a cosine (linear kernel on unit rows) similarity: exp of the entropy of the
    eigenvalues of K/n. Rows are normalised here; all-zero rows (empty texts) are left out. Empty -> 0.0.
    """
    return _vendi_of_unit_rows(_nonzero_unit_rows(x))


def _vendi_of_unit_rows(u: np.ndarray) -> float:
    n, d = u.shape
    if n == 0:
        return 0.0
    # X^T X / n (d x d) has the same nonzero eigenvalues as the n x n kernel K/n, so 50,000 rows
    # cost a 128 x 128 eigenproblem; the smaller side is used either way
    return _vendi_of_gram((u.T @ u) if d <= n else (u @ u.T), n)


def _vendi_of_gram(gram: np.ndarray, n: int) -> float:
    if n == 0:
        return 0.0
    eig = np.clip(np.linalg.eigvalsh(gram / n), 0.0, None)
    total = eig.sum()
    if total <= 0:
        return 0.0
    p = eig[eig > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Average cosine distance between two different rows (0 = all identical, 1 = all orthogonal).

    1 - mean cosine similarity over ordered pairs i != j. Rows are normalised here; all-zero rows
    are left out. Fewer than 2 rows -> 0.0.
    """
    return _mean_distance_of_unit_rows(_nonzero_unit_rows(x))


def _mean_distance_of_unit_rows(u: np.ndarray) -> float:
    return _mean_distance_of_sums(u.sum(axis=0), float((u * u).sum()), len(u))


def _mean_distance_of_sums(total: np.ndarray, squares: float, n: int) -> float:
    if n < 2:
        return 0.0
    # the sum of all pairwise dot products is ||sum x||^2; removing the diagonal gives O(n d), not O(n^2)
    off_diagonal = float(total @ total) - squares
    return float(1.0 - off_diagonal / (n * (n - 1)))


def fit_cells(x: np.ndarray, ids: Sequence[object], s: DiversitySettings) -> np.ndarray:
    """Cell (region) label for every row: k-means with min(cells, fit rows) centres on the fit sample.

    The fit sample is the same seeded-by-id sample as the instrument's; every row is then assigned
    to its nearest centre. MiniBatchKMeans is used when the fit sample exceeds 20,000 rows.
    """
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if len(ids) != n:
        raise ValueError(f"{n} rows but {len(ids)} ids")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    x = x.reshape(n, -1)
    return nearest_centre(x, fit_centres(x, ids, s))


def fit_centres(x: np.ndarray, ids: Sequence[object], s: DiversitySettings) -> np.ndarray:
    """The k-means centres fit_cells assigns to (float32, (cells, dim))."""
    fit_idx = fit_sample(ids, s.seed, s.fit_cap)
    k = max(1, min(s.cells, len(fit_idx)))
    if len(fit_idx) > _MINIBATCH_ABOVE:
        km = MiniBatchKMeans(n_clusters=k, random_state=s.seed, n_init=3, batch_size=4096)
    else:
        km = KMeans(n_clusters=k, random_state=s.seed, n_init=3)
    with warnings.catch_warnings():
        # duplicate rows leave fewer distinct points than cells; fewer occupied cells is the answer
        warnings.simplefilter("ignore", ConvergenceWarning)
        km.fit(x[fit_idx])
    return km.cluster_centers_.astype(np.float32)


def nearest_centre(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Label of each row: the nearest centre by Euclidean distance (ties to the lower label), in blocks."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    c2 = (centres.astype(np.float64) ** 2).sum(axis=1)
    out = np.empty(len(x), dtype=np.int64)
    for a in range(0, len(x), 8192):
        block = x[a:a + 8192].astype(np.float64)
        out[a:a + 8192] = np.argmin(c2[None, :] - 2.0 * block @ centres.T.astype(np.float64), axis=1)
    return out


def coverage(cell_labels_of_rows: np.ndarray, n_cells: int) -> float:
    """Share of the cells holding at least one of the rows (0..1). No cells -> 0.0."""
    if n_cells <= 0:
        return 0.0
    return float(len(np.unique(np.asarray(cell_labels_of_rows))) / n_cells)


def _row_norms(x: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the norm _unit_rows divides by and whether _nonzero_unit_rows keeps the row, in blocks."""
    x = x if x.ndim == 2 else x.reshape(len(x), -1)
    norms, nonzero = np.zeros(len(x)), np.zeros(len(x), dtype=bool)
    for a in range(0, len(x), block):
        u = _unit_rows(x[a:a + block])
        norms[a:a + block] = np.linalg.norm(np.asarray(x[a:a + block], dtype=np.float64), axis=1)
        nonzero[a:a + block] = np.linalg.norm(u, axis=1) > 0.5
    return norms, nonzero


def _metrics(u: np.ndarray, labels: np.ndarray, n_cells: int) -> dict[str, float]:
    """vendi_score, coverage and mean_pairwise_distance of rows whose non-zero unit vectors
    (_nonzero_unit_rows) are `u` and cells `labels`."""
    return {"vendi": _vendi_of_unit_rows(u), "coverage": coverage(labels, n_cells),
            "mean_distance": _mean_distance_of_unit_rows(u)}


def compare_to_random(x: np.ndarray, cells: np.ndarray, sample_mask: np.ndarray, s: DiversitySettings) -> dict:
    """Each metric for the export vs. `random_samples` same-size random samples of the pool.

    x: instrument vectors of the pool; cells: their cell labels; sample_mask: True for exported rows.
    Per metric: export (the export's value), random_mean / random_std (over the random samples,
    sample std), ratio = export / random_mean (1.0 when both are 0), z = how many random_std the
    export lies above the random mean (0.0 when the random samples do not vary). Coverage is the
    share of the pool's occupied cells. Floats rounded to 4 decimals.
    """
    x = np.asarray(x)
    cells = np.asarray(cells)
    mask = np.asarray(sample_mask, dtype=bool)
    n, m = len(x), int(mask.sum())
    if len(cells) != n or len(mask) != n:
        raise ValueError(f"{n} rows, {len(cells)} cell labels, {len(mask)} mask entries")
    n_cells = len(np.unique(cells))
    # rows are normalised one by one, so the pool's norms taken once give each draw the unit rows
    # vendi_score would (a third of the time went to normalising every draw twice, in copies)
    norms, nonzero = _row_norms(x)
    rows_2d = x if x.ndim == 2 else x.reshape(n, -1)

    def unit_rows(rows: np.ndarray) -> np.ndarray:
        kept = rows[nonzero[rows]]
        u = np.array(rows_2d[kept], dtype=np.float64)
        u /= norms[kept, None]
        return u

    def moments(rows: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray, float, int]:
        """(Gram d x d, sum of rows, sum of squares, rows) of the non-zero unit rows among `rows`."""
        d = rows_2d.shape[1]
        gram, total, squares, count = np.zeros((d, d)), np.zeros(d), 0.0, 0
        for a in range(0, len(rows), block):
            u = unit_rows(rows[a:a + block])
            gram += u.T @ u
            total += u.sum(axis=0)
            squares += float((u * u).sum())
            count += len(u)
        return gram, total, squares, count

    export = _metrics(unit_rows(np.flatnonzero(mask)), cells[mask], n_cells)
    # a draw that takes most of the pool (a 50,000-row export of 74,000) is the pool minus the rows it
    # leaves out: its Gram matrix and sums are the pool's minus theirs, a third of the rows to multiply
    whole = moments(np.arange(n)) if s.random_samples and 2 * m > n and m < n else None
    draws: dict[str, list[float]] = {k: [] for k in METRICS}
    for i in range(s.random_samples):
        if m == n:
            # every draw is the whole pool: its values are the export's, without float reordering noise
            values = export
        else:
            idx = np.random.default_rng(s.seed + i).choice(n, size=m, replace=False)
            if whole is not None:
                left_out = np.ones(n, dtype=bool)
                left_out[idx] = False
                g, t, q, c = (a - b for a, b in zip(whole, moments(np.flatnonzero(left_out))))
                values = {"vendi": _vendi_of_gram(g, c), "coverage": coverage(cells[idx], n_cells),
                          "mean_distance": _mean_distance_of_sums(t, q, c)}
            else:
                values = _metrics(unit_rows(idx), cells[idx], n_cells)
        for k in METRICS:
            draws[k].append(values[k])
    out = {}
    for k in METRICS:
        v = export[k]
        r = np.asarray(draws[k], dtype=np.float64)
        mean = float(r.mean()) if len(r) else 0.0
        sd = float(r.std(ddof=1)) if len(r) > 1 else 0.0
        if mean > 0:
            ratio = v / mean
        else:
            ratio = 1.0 if v == 0 else 0.0
        # below this the spread is float noise (e.g. the same rows in another order), not sampling
        z = (v - mean) / sd if sd > 1e-9 * max(1.0, abs(mean)) else 0.0
        out[k] = {"export": round(v, 4), "random_mean": round(mean, 4), "random_std": round(sd, 4),
                  "ratio": round(ratio, 4), "z": round(z, 4)}
    return out


def _instrument_block(name: str, x: np.ndarray, cells: np.ndarray, mask: np.ndarray, s: DiversitySettings) -> dict:
    return {"name": name, "dim": int(x.shape[1]) if x.ndim == 2 else 1, "cells": int(len(np.unique(cells))),
            **compare_to_random(x, cells, mask, s)}


#: a kept instrument is fitted again once the pool has grown past this many times the rows it was fitted on
REFIT_GROWTH = 1.25


@dataclass(frozen=True)
class Instruments:
    """What diversity_report fitted on a pool, kept so the next export compares on the same rulers
    without fitting them again (the TF-IDF, SVD and two k-means fits are most of its time): the
    lexical model and the cell centres of both instruments. `key` says what they were fitted for
    (topic model version and settings); `pool_rows` how large the pool was."""

    key: str
    pool_rows: int
    lexical: LexicalModel
    lexical_centres: np.ndarray
    semantic_centres: np.ndarray  # (0, 0) when the report had no semantic vectors

    def fits(self, key: str, pool_rows: int, semantic: bool) -> bool:
        return (self.key == key and pool_rows <= REFIT_GROWTH * self.pool_rows
                and semantic == (self.semantic_centres.size > 0))

    def save(self, path) -> None:
        """One .npz file (no pickle): the arrays, the terms as unicode, key and pool size as 0-d arrays."""
        with open(path, "wb") as fh:
            np.savez(fh, key=np.array(self.key), pool_rows=np.array(self.pool_rows), terms=self.lexical.terms.astype(str),
                     idf=self.lexical.idf, components=self.lexical.components, lexical_centres=self.lexical_centres,
                     semantic_centres=self.semantic_centres)

    @classmethod
    def load(cls, path) -> "Instruments | None":
        """The saved instruments, or None when the file is missing or unreadable."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(str(z["key"]), int(z["pool_rows"]), LexicalModel(z["terms"], z["idf"], z["components"]),
                           z["lexical_centres"], z["semantic_centres"])
        except (OSError, ValueError, KeyError):
            return None


def _verdict(lexical: dict, beats: bool, s: DiversitySettings, semantic: dict | None) -> str:
    v, c = lexical["vendi"], lexical["coverage"]
    sentence = (f"lexical Vendi {v['ratio']:.2f}x random (z {v['z']:+.1f}), "
                f"coverage {c['export']:.3f} vs {c['random_mean']:.3f}")
    if semantic is not None:
        sv = semantic["vendi"]
        sentence += f"; embedding Vendi {sv['ratio']:.2f}x (z {sv['z']:+.1f}, not independent)"
    if beats:
        return f"beats random: {sentence}"
    return f"does not beat random (needs lexical Vendi ratio > 1 and z >= {s.min_z:g}): {sentence}"


def diversity_report(pool_ids: Sequence[object], pool_texts: Sequence[str], sample_ids: Sequence[object],
                     s: DiversitySettings = DiversitySettings(),
                     semantic_vectors: np.ndarray | None = None) -> dict:
    """compare_to_pool's report, fitting every instrument afresh."""
    return compare_to_pool(pool_ids, pool_texts, sample_ids, s, semantic_vectors)[0]


def compare_to_pool(pool_ids: Sequence[object], pool_texts: Sequence[str], sample_ids: Sequence[object],
                    s: DiversitySettings = DiversitySettings(), semantic_vectors: np.ndarray | None = None,
                    kept: Instruments | None = None, key: str = "",
                    lexical_rows=None) -> tuple[dict, Instruments | None]:
    """(report, instruments to keep). `kept`: instruments of an earlier export, used when they were
    fitted for `key` on a pool at least 1 / REFIT_GROWTH of this one's size (and with semantic vectors
    when these are given); otherwise everything is fitted on this pool. `instruments_fit` in the
    report says which: fitted_now and the pool rows they were fitted on. `lexical_rows` (a file path):
    each row's lexical vector is kept there by its text and read back while the lexical model stays
    (lexical_vectors_kept), so a daily export projects only new texts; `instruments_fit` then also
    says how many rows were read back (lexical_rows_reused).

    The report is a JSON-ready answer to "is this export more diverse than a random sample of the same size?".

    pool_rows / export_rows: distinct pool ids and exported ids found in the pool;
    export_rows_not_in_pool: exported ids missing from the pool (ignored);
    pool_duplicate_ids: pool rows dropped because their id repeats (the one with the smallest text is kept);
    instruments.lexical: TF-IDF+SVD metrics (see compare_to_random), with its dimension and cell count;
    instruments.semantic: the same on `semantic_vectors` (rows aligned with pool_ids), only when given;
    beats_random: lexical Vendi ratio > 1 and its z >= min_z; verdict: the same in one sentence.

    Ids are compared as strings. Never raises on an empty pool or sample: beats_random is False
    and the verdict says why.
    """
    if len(pool_ids) != len(pool_texts):
        raise ValueError(f"{len(pool_ids)} pool ids but {len(pool_texts)} texts")
    if semantic_vectors is not None and len(semantic_vectors) != len(pool_ids):
        raise ValueError(f"{len(semantic_vectors)} semantic vectors but {len(pool_ids)} pool ids")
    # sort by (id, text) so the rows - and which duplicate survives - do not depend on input order
    order = sorted(range(len(pool_ids)), key=lambda i: (str(pool_ids[i]), str(pool_texts[i])))
    keep, seen = [], set()
    for i in order:
        id_ = str(pool_ids[i])
        if id_ not in seen:
            seen.add(id_)
            keep.append(i)
    ids = [str(pool_ids[i]) for i in keep]
    texts = ["" if pool_texts[i] is None else str(pool_texts[i]) for i in keep]
    wanted = {str(i) for i in sample_ids}
    in_pool = wanted & seen
    mask = np.array([i in in_pool for i in ids], dtype=bool)
    report: dict = {"pool_rows": len(ids), "export_rows": int(mask.sum()),
                    "export_rows_not_in_pool": len(wanted - seen), "pool_duplicate_ids": len(pool_ids) - len(ids),
                    "random_samples": s.random_samples, "instruments": {}, "beats_random": False}
    if not ids:
        report["verdict"] = "the pool is empty: nothing to compare"
        return report, kept
    if not in_pool:
        report["verdict"] = ("the export is empty: nothing to compare" if not wanted else
                             f"none of the {len(wanted)} exported ids is in the pool: nothing to compare")
        return report, kept

    cut = _cut(texts, s)
    sem = None if semantic_vectors is None else _unit_rows(np.asarray(semantic_vectors)[keep]).astype(np.float32)
    reuse = kept is not None and kept.fits(key, len(ids), sem is not None)
    if reuse:
        instruments = kept
        if lexical_rows is not None:
            lex, reused = lexical_vectors_kept(kept.lexical, cut, s, lexical_rows)
        else:
            lex, reused = kept.lexical.vectors(cut, s), 0
    else:
        fitted, fit_rows = _fit_lexical_rows(cut, ids, s)
        reused = 0
        if isinstance(fitted, LexicalModel) and lexical_rows is not None:
            lex, reused = lexical_vectors_kept(fitted, cut, s, lexical_rows, known=fit_rows)
        else:
            lex = fitted.vectors(cut, s) if isinstance(fitted, LexicalModel) else fitted
        instruments = None if not isinstance(fitted, LexicalModel) else Instruments(
            key, len(ids), fitted, fit_centres(lex, ids, s),
            fit_centres(sem, ids, s) if sem is not None else np.zeros((0, 0), np.float32))
    lex_cells = nearest_centre(lex, instruments.lexical_centres) if instruments else fit_cells(lex, ids, s)
    report["instruments_fit"] = {"fitted_now": not reuse,
                                 "pool_rows": instruments.pool_rows if instruments else len(ids),
                                 **({"lexical_rows_reused": reused} if lexical_rows is not None else {})}
    lexical = _instrument_block("tfidf_svd", lex, lex_cells, mask, s)
    report["instruments"]["lexical"] = lexical
    semantic = None
    if sem is not None:
        sem_cells = nearest_centre(sem, instruments.semantic_centres) if instruments else fit_cells(sem, ids, s)
        semantic = {**_instrument_block("embedding", sem, sem_cells, mask, s), "note": SEMANTIC_NOTE}
        report["instruments"]["semantic"] = semantic

    if mask.all():
        report["verdict"] = "the export is the whole pool: nothing to compare"
        return report, instruments
    v = lexical["vendi"]
    report["beats_random"] = bool(v["ratio"] > 1 and v["z"] >= s.min_z)
    report["verdict"] = _verdict(lexical, report["beats_random"], s, semantic)
    return report, instruments
