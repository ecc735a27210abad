"""Print PII recall / precision of lib/pii.py against the sample generator's labelled PII rows, and rows/s.

    .venv/bin/python benchmarks/pii_recall.py                     # 10,000 rows, seeds 7 and 101
    .venv/bin/python benchmarks/pii_recall.py --rows 50000 --seeds 7

A row is flagged when find_pii finds anything in its instruction, input message or output.
recall (row)  = labelled PII rows flagged / labelled PII rows;
recall (kind) = labelled PII rows where the injected kind itself was found (a phone found as a phone);
precision     = labelled PII rows among the flagged rows (every other row of the generator is PII-free
by construction, so a flagged clean row is a false positive). Throughput covers the three text columns
of every row, noisy ones included (megabyte outputs too).
"""

import argparse
import time
from collections import Counter

import pandas as pd

from curation_dagster.lib.pii import PII_TEXT_COLUMNS, find_pii
from curation_dagster.sample_data import generate_sample_data

#: generator detail prefix -> detector kind
LABEL_KIND = {"email": "email", "phone_us": "phone", "phone_uk": "phone", "phone_intl": "phone",
              "credit_card": "card", "iban": "iban"}


def score(gens: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, float, list[str]]:
    lab = labels.set_index("generation_id")
    t0 = time.perf_counter()
    found = [
        {f.kind for col in PII_TEXT_COLUMNS for f in find_pii(row.get(col))}
        for row in gens[list(PII_TEXT_COLUMNS)].to_dict("records")
    ]
    elapsed = time.perf_counter() - t0
    is_pii = (lab.loc[gens["generation_id"], "noise_kind"] == "pii").to_numpy()
    details = lab.loc[gens["generation_id"], "detail"].tolist()
    per_kind: dict[str, Counter] = {}
    false_pos = []
    for f, pii, detail, gid in zip(found, is_pii, details, gens["generation_id"]):
        if pii:
            kind = LABEL_KIND[detail.split(":")[0]]
            c = per_kind.setdefault(kind, Counter())
            c["labelled"] += 1
            c["row_hit"] += bool(f)
            c["kind_hit"] += kind in f
        elif f:
            false_pos.append(f"{gid}: {sorted(f)}")
    rows = [{"kind": k, "labelled": c["labelled"], "recall_row": c["row_hit"] / c["labelled"],
             "recall_kind": c["kind_hit"] / c["labelled"]} for k, c in sorted(per_kind.items())]
    tot = sum((c for c in per_kind.values()), Counter())
    flagged = tot["row_hit"] + len(false_pos)
    rows.append({"kind": "all_pii", "labelled": tot["labelled"], "recall_row": tot["row_hit"] / tot["labelled"],
                 "recall_kind": tot["kind_hit"] / tot["labelled"],
                 "precision": tot["row_hit"] / flagged if flagged else 1.0})
    return pd.DataFrame(rows).round(4), len(gens) / elapsed, false_pos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 101])
    args = ap.parse_args()
    pd.set_option("display.width", 160)
    for seed in args.seeds:
        gens, labels = generate_sample_data(n_rows=args.rows, days=args.days, seed=seed)
        report, rate, false_pos = score(gens, labels)
        print(f"\n== seed {seed}: {len(gens):,} rows; find_pii over {', '.join(PII_TEXT_COLUMNS)}: {rate:,.0f} rows/s; "
              f"{len(false_pos)} non-PII rows flagged")
        print(report.to_string(index=False))
        for fp in false_pos[:10]:
            print("  false positive", fp)


if __name__ == "__main__":
    main()
