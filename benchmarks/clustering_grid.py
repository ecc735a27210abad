"""Timings and scores of the clustering_experiments grid (embedding backend x algorithm) at pool sizes.

    .venv/bin/python benchmarks/clustering_grid.py                              # 5,000 and 20,000 rows
    .venv/bin/python benchmarks/clustering_grid.py --rows 5000 --backends tfidf_svd minilm
    .venv/bin/python benchmarks/clustering_grid.py --rows 20000 --algorithms kmeans bertopic --sample-cap 5000

The data: the generator's clean rows of `--rows` generated rows (what reaches the pool), texts as
generation_embeddings builds them (instruction + output), template_id as ground truth. Every cell
runs on all of them unless `--sample-cap` says otherwise (the asset defaults to 3,000).

`minilm` embeds with the packaged all-MiniLM-L6-v2 (no cache: its time is the real cost, ~45 texts/s
on 2 cores). Before each size the script times a probe batch and skips minilm there when the estimate
is over `--max-embed-seconds` (default 900), saying so; `--backends tfidf_svd` skips it everywhere.
`model2vec` distils the static model on first use (~15-25 s, cached under data/models/model2vec, not
timed) and embeds with it.
The first bertopic cell of the process includes numba's compilation of UMAP (~10 s); a warm-up fit on
200 rows runs first so the table shows steady-state times. Figures go to stdout.
"""

import argparse
import time

import numpy as np
import pandas as pd

from curation_dagster.lib.embedding import embed_texts, embedding_text, load_model
from curation_dagster.lib.experiments import DEFAULT_K_RANGE, cluster, recommend, run_grid
from curation_dagster.sample_data import generate_sample_data

FIELDS = ("instruction", "output")
PROBE = 256


def pool_texts(n_rows: int, seed: int) -> tuple[list[str], list[str], list[str], list]:
    gens, labels = generate_sample_data(n_rows=n_rows, days=14, seed=seed)
    clean = (labels["noise_kind"] == "clean").to_numpy()
    gens = gens[clean].reset_index(drop=True)
    records = gens.to_dict("records")
    return (gens["generation_id"].tolist(), [embedding_text(r, FIELDS) for r in records],
            gens["instruction"].fillna("").tolist(), gens["template_id"].tolist())


def warm_up(seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(200, 16)).astype(np.float32)
    cluster("bertopic", x, [f"warm up text {i % 7}" for i in range(200)], seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="5000,20000", help="generated rows per run, comma-separated")
    ap.add_argument("--backends", nargs="+", default=["tfidf_svd", "model2vec", "minilm"])
    ap.add_argument("--algorithms", nargs="+", default=["kmeans", "bertopic", "hdbscan"])
    ap.add_argument("--sample-cap", type=int, default=0, help="rows per cell (0: all)")
    ap.add_argument("--kmeans-k", type=int, default=None)
    ap.add_argument("--max-embed-seconds", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    sizes = [int(s) for s in str(args.rows).split(",") if s.strip()]
    model = load_model() if any(b == "minilm" for b in args.backends) else None
    if "bertopic" in args.algorithms:
        t0 = time.perf_counter()
        warm_up(args.seed)
        print(f"UMAP / BERTopic warm-up (numba compilation): {time.perf_counter() - t0:.1f}s, not in the tables")
    skipped = []
    for n_rows in sizes:
        ids, texts, docs, truth = pool_texts(n_rows, args.seed)
        backends = list(args.backends)
        if "minilm" in backends:
            embed_texts(model, texts[:8])  # first call warms up; not part of the probe
            t0 = time.perf_counter()
            embed_texts(model, texts[:PROBE])
            rate = min(PROBE, len(texts)) / (time.perf_counter() - t0)
            estimate = len(texts) / rate
            if estimate > args.max_embed_seconds:
                backends.remove("minilm")
                skipped.append(f"minilm at {n_rows:,} rows: embedding {len(texts):,} texts would take "
                               f"~{estimate:.0f}s at the probed {rate:.0f} texts/s (> --max-embed-seconds "
                               f"{args.max_embed_seconds:.0f})")
                print(f"(skipped {skipped[-1]})")
        t0 = time.perf_counter()
        table = run_grid(texts, truth, backends, args.algorithms, args.sample_cap or None, args.seed,
                         kmeans_k=args.kmeans_k, k_range=DEFAULT_K_RANGE, ids=ids,
                         keyword_docs=docs, embedders={"minilm": lambda b: embed_texts(model, b)} if model else None)
        elapsed = time.perf_counter() - t0
        rows = min(len(texts), args.sample_cap) if args.sample_cap else len(texts)
        print(f"\n== {n_rows:,} generated rows -> {len(texts):,} clean texts, {rows:,} per cell; grid {elapsed:.0f}s")
        print(table.drop(columns=["params"]).round(3).to_string(index=False))
        for _, r in table.iterrows():
            if r["params"]:
                print(f"  {r['backend']} x {r['algorithm']}: {r['params']}")
        try:
            print("recommended: " + recommend(table)[2])
        except ValueError as exc:
            print(f"no recommendation: {exc}")
    if skipped:
        print("\nskipped:\n  " + "\n  ".join(skipped))


if __name__ == "__main__":
    main()
