"""Did curation beat random, and the notebook recipe? Measured on a finished pipeline's pool.

    .venv/bin/python benchmarks/diversity.py /tmp/rd/data              # after benchmarks/real_data.py --workdir /tmp/rd
    .venv/bin/python benchmarks/diversity.py DATA_DIR --notebook-topics 20 --json out.json

Reads the pipeline's storage (DATA_DIR/pipeline.duckdb: deduplicated_generations joined to generation_embeddings,
filtered_generations) and the published export (DATA_DIR/exports/finetuning_dataset/provenance.jsonl),
then scores on two instruments, each against same-size random samples (lib.diversity: Vendi score,
cell coverage, mean pairwise distance; ratio to the random mean and z over --random-samples draws):

* lexical: TF-IDF + SVD of the prompt and reply (the selection never saw it; the export's verdict);
* semantic: the pool's MiniLM embedding (the space the cells were cut in: not independent).

Selections compared:
1. the export, against random samples of the deduplicated pool and of every row the filter kept;
2. the notebook recipe a user would write: BERTopic with its defaults on the same embeddings, 20
   random rows per topic, outliers (-1) dropped;
3. uniform random picks inside the pipeline's own cells at the export's size (no quality weight,
   no prompt cap), to show what the within-cell choice adds.

One instrument is one draw: its TF-IDF fit sample, SVD, k-means cells and random samples all follow
its seed, and coverage in particular moves by a cell or two (about one random std) from seed to seed.
`--instrument-seeds 42 7 123 2024 99` measures the same selections (drawn once, with --seed) on an
instrument per seed and prints, per selection and metric, the ratio's range, the lowest z and in how
many seeds the selection was at least random's mean, so a verdict does not rest on one draw.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curation_dagster.lib.diversity import DiversitySettings, diversity_report, pool_texts  # noqa: E402
from curation_dagster.lib.frames import pool_with_embeddings_sql  # noqa: E402


def notebook_recipe(pool: pd.DataFrame, vectors: np.ndarray, per_topic: int, seed: int) -> tuple[list[str], int]:
    from bertopic import BERTopic

    docs = pool["instruction"].fillna("").astype(str).tolist()
    topics, _ = BERTopic().fit_transform(docs, vectors)  # defaults, as a notebook would call it
    topics = np.asarray(topics)
    rng = np.random.default_rng(seed)
    picked = []
    for t in sorted(set(topics.tolist()) - {-1}):
        idx = np.flatnonzero(topics == t)
        picked += pool["generation_id"].iloc[rng.permutation(idx)[:per_topic]].tolist()
    return picked, len(set(topics.tolist()) - {-1})


def random_in_cells(clusters: pd.DataFrame, size: int, seed: int) -> list[str]:
    """Uniform picks inside each cell, as many per cell as the water-filling level allows."""
    from curation_dagster.lib.sampling import water_fill

    rng = np.random.default_rng(seed)
    groups = {c: rng.permutation(g["generation_id"].to_numpy()) for c, g in clusters.groupby("cell_id")}
    alloc, _ = water_fill({c: len(v) for c, v in groups.items()}, size, lambda c, i: 0.0)
    return [g for c, v in groups.items() for g in v[:alloc[c]]]


def row(name: str, rep: dict) -> dict:
    out = {"selection": name, "rows": rep["export_rows"], "pool": rep["pool_rows"]}
    for inst, block in rep["instruments"].items():
        for metric in ("vendi", "coverage", "mean_distance"):
            out[f"{inst}.{metric}"] = f"{block[metric]['ratio']:.3f}x (z {block[metric]['z']:+.1f})"
    return out


def across_seeds(by_seed: dict[int, dict[str, dict]]) -> list[dict]:
    """One row per selection and metric over the instrument seeds: the ratio's range, the lowest and
    mean z, and in how many seeds the selection scored at least the random mean."""
    out = []
    names = next(iter(by_seed.values())).keys()
    for name in names:
        for inst in ("lexical", "semantic"):
            for metric in ("vendi", "coverage"):
                blocks = [reps[name]["instruments"][inst][metric] for reps in by_seed.values()]
                ratios, zs = [b["ratio"] for b in blocks], [b["z"] for b in blocks]
                out.append({"selection": name, "metric": f"{inst}.{metric}",
                            "ratio": f"{min(ratios):.3f}-{max(ratios):.3f}x", "lowest z": min(zs),
                            "mean z": float(np.mean(zs)),
                            "at least random": f"{sum(b['export'] >= b['random_mean'] for b in blocks)}/{len(blocks)}"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--random-samples", type=int, default=10)
    ap.add_argument("--notebook-topics", type=int, default=20, help="rows per topic in the notebook recipe")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--instrument-seeds", type=int, nargs="*", default=[],
                    help="also score the same selections on an instrument fitted with each of these seeds")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    import duckdb

    with duckdb.connect(str(args.data_dir / "pipeline.duckdb"), read_only=True) as con:
        pool = con.execute(pool_with_embeddings_sql()).df()
        kept = con.execute("SELECT generation_id, instruction, input_message, output "
                           "FROM curation.filtered_generations").df()
        clusters = con.execute("SELECT generation_id, cluster_id, cell_id FROM curation.generation_clusters").df()
    pool = pool.sort_values("generation_id").reset_index(drop=True)
    vectors = np.stack(pool["embedding"].to_numpy()).astype(np.float32)
    prov = args.data_dir / "exports" / "finetuning_dataset" / "provenance.jsonl"
    export = [json.loads(line)["generation_id"] for line in prov.read_text().splitlines() if line.strip()]
    s = DiversitySettings(random_samples=args.random_samples, seed=args.seed)
    ids, ptexts = pool["generation_id"].tolist(), pool_texts(pool)

    results, reports = [], {}
    t0 = time.perf_counter()
    reports["export_vs_pool"] = diversity_report(ids, ptexts, export, s, semantic_vectors=vectors)
    results.append(row("export vs random from the deduplicated pool", reports["export_vs_pool"]))
    reports["export_vs_kept"] = diversity_report(kept["generation_id"].tolist(), pool_texts(kept), export, s)
    results.append(row("export vs random from every kept row (lexical)", reports["export_vs_kept"]))
    cells = random_in_cells(clusters, len(export), args.seed)
    reports["random_in_cells"] = diversity_report(ids, ptexts, cells, s, semantic_vectors=vectors)
    results.append(row("uniform random inside the pipeline's cells, same size", reports["random_in_cells"]))
    nb, n_topics = notebook_recipe(pool, vectors, args.notebook_topics, args.seed)
    reports["notebook"] = diversity_report(ids, ptexts, nb, s, semantic_vectors=vectors)
    results.append(row(f"notebook: BERTopic defaults ({n_topics} topics), {args.notebook_topics} per topic",
                       reports["notebook"]))
    selections = {"export": export, "random inside the cells": cells, "notebook": nb}
    by_seed = {seed: {name: diversity_report(ids, ptexts, picked, replace(s, seed=seed), semantic_vectors=vectors)
                      for name, picked in selections.items()} for seed in args.instrument_seeds}
    elapsed = time.perf_counter() - t0

    print(f"pool {len(pool):,} rows (deduplicated), {len(kept):,} kept by the filter, export {len(export):,} rows, "
          f"{clusters['cluster_id'].nunique()} topics, {clusters['cell_id'].nunique()} cells; "
          f"{args.random_samples} random samples per comparison; {elapsed:.0f} s")
    print(pd.DataFrame(results).to_markdown(index=False))
    print("\nexport verdict:", reports["export_vs_pool"]["verdict"])
    if by_seed:
        print(f"\nthe same selections on {len(by_seed)} instruments (seeds {', '.join(map(str, by_seed))}):")
        print(pd.DataFrame(across_seeds(by_seed)).to_markdown(index=False, floatfmt="+.1f"))
    if args.json:
        args.json.write_text(json.dumps({"table": results, "reports": reports,
                                         "instrument_seeds": {str(k): v for k, v in by_seed.items()}},
                                        indent=2, default=str))


if __name__ == "__main__":
    main()
