"""What the dataset report's map costs as the pool grows (lib/report.py: map_points + plot_map).

    .venv/bin/python benchmarks/report_map.py                      # pools of 2k, 5k, 20k and 50k rows
    .venv/bin/python benchmarks/report_map.py --rows 20000 --cap 10000

The map is the report's one step that grows with the pool: a seeded UMAP (cosine, 2-D) of at most
`--cap` rows (the asset's `map_point_cap`, default 20,000; above it a seeded sample, sampled examples
first), then a matplotlib scatter. The vectors here are synthetic (unit-length 384-d points around
`--clusters` centres, as many as the packaged model gives) so that no embedding time is mixed in:
UMAP's cost depends on rows and dimensions, not on where the vectors came from. Prints seconds per
step and the PNG's size. The first UMAP of a process pays numba's compilation: a 300-row warm-up
runs first and is not counted.
"""

import argparse
import time

import numpy as np
import pandas as pd

from curation_dagster.lib.report import map_points, plot_map


def synthetic_pool(n: int, clusters: int, dim: int = 384, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                  pd.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    labels = rng.integers(0, clusters, size=n)
    vecs = centres[labels] + rng.normal(scale=0.9, size=(n, dim))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"g{i:07d}" for i in range(n)]
    pool = pd.DataFrame({"generation_id": ids, "embedding": list(vecs)})
    assigned = pd.DataFrame({"generation_id": ids, "cluster_id": labels,
                             "cluster_name": [f"cluster {c}" for c in labels], "is_outlier": False})
    sampled = pd.DataFrame({"generation_id": rng.choice(ids, size=min(n, 20 * clusters), replace=False)})
    return pool, assigned, sampled


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[2_000, 5_000, 20_000, 50_000])
    ap.add_argument("--cap", type=int, default=20_000, help="map_point_cap of the dataset_report asset")
    ap.add_argument("--clusters", type=int, default=45)
    args = ap.parse_args()
    pool, assigned, sampled = synthetic_pool(300, 5)
    map_points(pool, assigned, sampled)  # numba compilation of UMAP, not counted
    results = []
    for n in args.rows:
        pool, assigned, sampled = synthetic_pool(n, args.clusters)
        t0 = time.perf_counter()
        points, method, total, _ = map_points(pool, assigned, sampled, cap=args.cap)
        t1 = time.perf_counter()
        png = plot_map(points, method, total)
        t2 = time.perf_counter()
        results.append({"pool_rows": n, "points_drawn": len(points), "method": method,
                        "projection_s": round(t1 - t0, 1), "plot_s": round(t2 - t1, 1),
                        "total_s": round(t2 - t0, 1), "png_kb": round(len(png) / 1024)})
        print(pd.DataFrame(results[-1:]).to_string(index=False, header=len(results) == 1), flush=True)


if __name__ == "__main__":
    main()
