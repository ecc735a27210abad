"""Print filter-rule precision / recall / F1 against the sample generator's ground truth, and rows/s.

    .venv/bin/python benchmarks/rule_scores.py                  # demo data (3,000 rows, seed 7) + 2 unseen seeds
    .venv/bin/python benchmarks/rule_scores.py --rows 20000 --days 14 --seeds 7 11

The rules were calibrated on the demo seed (7); the other seeds show how well that generalises to
data the rules were not tuned on (still the same generator, so still optimistic for real traffic).
"""

import argparse
import time

import pandas as pd

from curation_dagster.lib.contract import conform
from curation_dagster.lib.evaluation import rule_report
from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.rules import FilterSettings
from curation_dagster.sample_data import generate_sample_data


def score_seed(rows: int, days: int, seed: int) -> tuple[pd.DataFrame, float, pd.DataFrame]:
    """The generator's rows for one seed, the seconds the filter took over its days, and the rule report."""
    gens, labels = generate_sample_data(n_rows=rows, days=days, seed=seed)
    gens = conform(gens)
    t0 = time.perf_counter()
    rejected = [apply_filters(day.reset_index(drop=True), FilterSettings()).rejected
                for _, day in gens.groupby(gens["created_at"].dt.normalize())]
    elapsed = time.perf_counter() - t0
    return gens, elapsed, rule_report(gens["generation_id"], pd.concat(rejected), labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 101, 202])
    args = ap.parse_args()
    pd.set_option("display.width", 160)
    for seed in args.seeds:
        gens, elapsed, report = score_seed(args.rows, args.days, seed)
        print(f"\n== seed {seed}: {len(gens):,} rows over {args.days} days; filter {len(gens) / elapsed:,.0f} rows/s "
              f"({elapsed:.1f}s){'  [calibration seed]' if seed == 7 else ''}")
        print(report.to_string(index=False))


if __name__ == "__main__":
    main()
