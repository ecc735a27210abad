"""Which within-cell selection beats random, on two instruments? A grid over a finished pipeline's pool.

    .venv/bin/python benchmarks/selection_grid.py /tmp/rd/data     # after benchmarks/real_data.py --workdir /tmp/rd

Reads DATA_DIR/pipeline.duckdb (deduplicated_generations joined to generation_embeddings, generation_clusters with
topics and cells) and the published export, builds the two instruments of lib.diversity once
(lexical: TF-IDF + SVD; semantic: the pool's embedding) and scores, at the export's size, against 20
same-size random samples each:

* the export as published;
* uniform random picks inside the pipeline's cells (water-filled, one row per repeated prompt), three seeds;
* greedy MMR inside each cell on the embedding: start at the row nearest the cell's centroid, then
  maximise lam x similarity to the centroid - (1 - lam) x the highest similarity to a row already
  picked (lam 0 = farthest point);
* farthest point inside each cell on the words of the example: hashed character 3-5-grams (lib.selection,
  the default `within_cell: diverse`) and hashed words and word pairs;
* the cells re-cut finer (k-means inside each topic, 5 / 10 / 15 pool rows per cell), uniform and MMR.

Prints one line per selection: Vendi ratio and z, coverage ratio and z, mean-distance ratio, per
instrument. Its purpose is to keep a selection rule from being tuned to one instrument.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from curation_dagster.lib import diversity as D  # noqa: E402
from curation_dagster.lib.sampling import prompt_keys, water_fill  # noqa: E402
from curation_dagster.lib.frames import pool_with_embeddings_sql  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("data_dir")
data = ap.parse_args().data_dir
with duckdb.connect(f"{data}/pipeline.duckdb", read_only=True) as con:
    pool = con.execute(pool_with_embeddings_sql()).df()
    clusters = con.execute("SELECT generation_id, cluster_id, cell_id FROM curation.generation_clusters").df()
pool = pool.sort_values("generation_id").reset_index(drop=True).merge(clusters, on="generation_id", how="left")
print("pool", len(pool), "no cluster", pool.cluster_id.isna().sum())
emb = np.stack(pool["embedding"].to_numpy()).astype(np.float32)
ids = pool.generation_id.tolist()
texts = D.pool_texts(pool)  # what the export's own diversity check reads
s = D.DiversitySettings(random_samples=20)
t = time.time()
lex = D.tfidf_svd_instrument(texts, ids, s); lcells = D.fit_cells(lex, ids, s)
sem = D._unit_rows(emb); scells = D.fit_cells(sem, ids, s)
print("instruments", round(time.time() - t), "s")
prov = f"{data}/exports/finetuning_dataset/provenance.jsonl"
export = {json.loads(l)["generation_id"] for l in open(prov) if l.strip()}
N = len(export)
pos = {g: i for i, g in enumerate(ids)}

def score(name, sel):
    mask = np.zeros(len(ids), bool); mask[[pos[g] for g in sel if g in pos]] = True
    a = D.compare_to_random(lex, lcells, mask, s); b = D.compare_to_random(sem, scells, mask, s)
    print(f"{name:55s} n={mask.sum():5d} lexV {a['vendi']['ratio']:.4f} z{a['vendi']['z']:+5.1f} cov {a['coverage']['ratio']:.3f} z{a['coverage']['z']:+5.1f} md {a['mean_distance']['ratio']:.4f} | semV {b['vendi']['ratio']:.4f} z{b['vendi']['z']:+5.1f} cov {b['coverage']['ratio']:.3f} z{b['coverage']['z']:+5.1f}", flush=True)
    return a, b

score("export", export)
pk = np.array(prompt_keys(pool))

def take(cell_of, order_fn, n=N, cap=True, seed=0):
    """water-fill n over cells; order_fn(idx array, seed) -> ordered idx within the cell"""
    df = pd.DataFrame({"i": np.arange(len(ids)), "cell": cell_of})
    if cap:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(ids))
        first = pd.Series(pk[perm]).duplicated().to_numpy()
        keep = np.ones(len(ids), bool); keep[perm[first]] = False
        df = df[keep]
    groups = {c: order_fn(g["i"].to_numpy(), seed) for c, g in df.groupby("cell")}
    alloc, q = water_fill({c: len(v) for c, v in groups.items()}, n, lambda c, i: 0.0)
    return [ids[i] for c, v in groups.items() for i in v[:alloc[c]]]

def rnd(idx, seed):
    return np.random.default_rng(seed + 1000).permutation(idx)

def fps(idx, seed, lam=0.0):
    """greedy: start at the row nearest the cell centroid, then maximise lam*centrality - (1-lam)*max sim to picked"""
    x = emb[idx]; c = x.mean(0); c /= max(np.linalg.norm(c), 1e-9)
    cent = x @ c
    order = [int(np.argmax(cent))]
    maxsim = x @ x[order[0]]
    left = set(range(len(idx))) - set(order)
    while left:
        L = np.array(sorted(left))
        sc = lam * cent[L] - (1 - lam) * maxsim[L]
        j = int(L[np.argmax(sc)])
        order.append(j); left.discard(j); maxsim = np.maximum(maxsim, x @ x[j])
    return idx[np.array(order)]

cur = pool["cell_id"].to_numpy()
for sd in (0, 1, 2):
    score(f"uniform in current cells, cap, seed {sd}", take(cur, rnd, seed=sd))
score("uniform in current cells, no cap", take(cur, rnd, cap=False))
for lam in (0.0, 0.3, 0.5, 0.7):
    score(f"MMR in current cells lam {lam}", take(cur, lambda i, sd, lam=lam: fps(i, sd, lam)))

# farthest point on the words of the example (lib.selection, the default `within_cell: diverse`) and
# on a word-pair variant of the same view: start at the cell's most typical row, then the least alike
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer  # noqa: E402
from curation_dagster.lib.selection import example_texts, farthest_point_order, fit_text_view  # noqa: E402

ex_texts = example_texts(pool)
views = {"character 3-5-grams (lib.selection, the default)": fit_text_view(ex_texts, ids, 42).vectors(ex_texts)}
words = HashingVectorizer(n_features=2 ** 20, ngram_range=(1, 2), alternate_sign=False, norm=None,
                          strip_accents="unicode", dtype=np.float32)
views["words and word pairs"] = TfidfTransformer(sublinear_tf=True).fit_transform(words.transform([t[:2000] for t in ex_texts]))

def fps_on(view):
    def order(idx, seed):
        x = view[idx]
        return idx[farthest_point_order((x @ x.T).toarray(), np.ones(len(idx)), np.arange(len(idx)))]
    return order

for name, view in views.items():
    for sd in (0, 1):
        score(f"farthest point on {name}, cap seed {sd}"[:55], take(cur, fps_on(view), seed=sd))

def recut(cell_rows, seed=0):
    out = np.zeros(len(ids), np.int64); nxt = 0
    for c in sorted(pool.cluster_id.dropna().unique()):
        idx = np.flatnonzero(pool.cluster_id.to_numpy() == c)
        k = max(1, min(round(len(idx) / cell_rows), len(idx) // 2))
        lab = KMeans(k, n_init=1, random_state=seed).fit_predict(emb[idx]) if k > 1 else np.zeros(len(idx), int)
        out[idx] = lab + nxt; nxt += k
    return out

for cr in (5, 10, 15):
    cells = recut(cr)
    print("cell_rows", cr, "cells", len(np.unique(cells)))
    for sd in (0, 1):
        score(f"uniform in cells of {cr}, cap, seed {sd}", take(cells, rnd, seed=sd))
    score(f"MMR lam 0.5 in cells of {cr}", take(cells, lambda i, sd: fps(i, sd, 0.5)))
