"""How large a share of the pool can the sample take and still beat random? A sweep over a finished pool.

    .venv/bin/python benchmarks/pool_share.py /tmp/rd/data                        # after `curation run`
    .venv/bin/python benchmarks/pool_share.py /tmp/rd/data --shares 0.1 0.3 0.5 --variants topics/diverse

Reads DATA_DIR/pipeline.duckdb (filtered_generations, deduplicated_generations joined to generation_embeddings,
generation_clusters with topics and cells), builds the export's two diversity instruments once
(lib.diversity: lexical TF-IDF + SVD over the example's text, semantic = the pool's embedding; cells
fitted on each) and, for each share of the pool and each variant (balance/within_cell of
lib.sampling.SampleSettings), runs the sampler as `sampled_examples` does (target = share x pool,
nothing shipped yet, general_share 1.0 as `curation init` writes for imported data) and scores the
sample against --random-samples same-size random samples of the pool. Prints one line per (share,
variant): Vendi and coverage ratio and z on both instruments, and the sampler's seconds; --json
writes them. The default `max_pool_share` is the largest share at which the default variant still
beats random on both instruments (README, "How much of the pool can ship?").
"""
import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from curation_dagster.lib import diversity as D  # noqa: E402
from curation_dagster.lib.sampling import SampleSettings, sample  # noqa: E402
from curation_dagster.lib.frames import pool_with_embeddings_sql  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("data_dir")
ap.add_argument("--shares", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4, 0.5])
ap.add_argument("--variants", nargs="+", default=["cells/diverse", "topics/diverse", "topics/random"],
                help="balance/within_cell pairs")
ap.add_argument("--general-share", type=float, default=1.0)
ap.add_argument("--random-samples", type=int, default=10)
ap.add_argument("--json")
args = ap.parse_args()

with duckdb.connect(f"{args.data_dir}/pipeline.duckdb", read_only=True) as con:
    pool = con.execute(pool_with_embeddings_sql() + " ORDER BY generation_id").df()
    clusters = con.execute("SELECT generation_id, cluster_id, cell_id, is_outlier FROM curation.generation_clusters").df()
rows = pool.drop(columns=["embedding"]).merge(clusters, on="generation_id", how="inner")
print(f"pool {len(pool):,} rows, {clusters.cluster_id.nunique()} topics, {clusters.cell_id.nunique()} cells")

s_div = D.DiversitySettings(random_samples=args.random_samples)
ids = pool["generation_id"].astype(str).tolist()
t = time.time()
lex = D.tfidf_svd_instrument(D.pool_texts(pool), ids, s_div)
sem = D._unit_rows(np.stack(pool["embedding"].to_numpy()).astype(np.float32))
instruments = {"lexical": (lex, D.fit_cells(lex, ids, s_div)), "semantic": (sem, D.fit_cells(sem, ids, s_div))}
print(f"instruments fitted in {time.time() - t:.0f} s")
pos = {g: i for i, g in enumerate(ids)}

results = []
for share in args.shares:
    for variant in args.variants:
        balance, within = variant.split("/")
        s = SampleSettings(target_examples=round(share * len(rows)), max_pool_share=1.0, balance=balance,
                           within_cell=within, general_share=args.general_share)
        t = time.time()
        chosen, info = sample(rows, s)
        secs = time.time() - t
        mask = np.zeros(len(ids), bool)
        mask[[pos[g] for g in chosen["generation_id"].astype(str)]] = True
        line = {"share": share, "variant": variant, "examples": int(mask.sum()), "sample_s": round(secs, 1)}
        for name, (x, cells) in instruments.items():
            r = D.compare_to_random(x, cells, mask, s_div)
            for metric in ("vendi", "coverage"):
                line[f"{name}_{metric}_ratio"], line[f"{name}_{metric}_z"] = r[metric]["ratio"], r[metric]["z"]
        results.append(line)
        print(f"share {share:.2f} {variant:15s} n={line['examples']:5d} "
              f"lexical Vendi {line['lexical_vendi_ratio']:.3f}x z {line['lexical_vendi_z']:+5.1f} "
              f"cov {line['lexical_coverage_ratio']:.3f}x z {line['lexical_coverage_z']:+5.1f} | "
              f"semantic Vendi {line['semantic_vendi_ratio']:.3f}x z {line['semantic_vendi_z']:+5.1f} "
              f"cov {line['semantic_coverage_ratio']:.3f}x z {line['semantic_coverage_z']:+5.1f} | {secs:.0f} s",
              flush=True)
if args.json:
    Path(args.json).write_text(json.dumps(results, indent=1))
