"""Dedup precision / recall / F1 against the sample generator's labelled duplicates, and rows/s.

    .venv/bin/python benchmarks/dedup_scores.py                       # 10,000 and 50,000 rows
    .venv/bin/python benchmarks/dedup_scores.py --rows 10000 --semantic-rows 10000

The data: the generator's clean rows plus its labelled duplicates (same-day exact and near copies,
and cross-day copies, 2% of rows each), i.e. what reaches the pool after the other rules. Each method
runs alone over all of it, then the pool step as shipped (exact + near + semantic, quality-first):

- exact: normalised text hash;  near: exact + MinHash LSH (Jaccard >= 0.7 on word 3-shingles);
- semantic: cosine >= the threshold (default 0.995, as shipped) on the packaged MiniLM embeddings
  (exact blocked search); a sweep over thresholds is printed too.

PII recall and precision (benchmarks/pii_recall.py) are printed for the same data first.

A removed row is a true positive when it and the row it names are in the same labelled duplicate
group; recall is over the removals the labels call for (group size - 1 per group). Embedding runs at
~80 rows/s on 2 cores, so `--semantic-rows` caps the rows the semantic methods see (default 10,000);
the embeddings are cached in data/benchmark_embedding_cache.duckdb between runs.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from curation_dagster.lib.dedup import deduplicate_pool, find_duplicates, keep_order, semantic_duplicates
from curation_dagster.lib.embedding import embed_texts, embedding_text, load_model
from curation_dagster.lib.embedding_cache import EmbeddingCache, embed_with_cache
from curation_dagster.sample_data import generate_sample_data

sys.path.insert(0, str(Path(__file__).parent))
from pii_recall import score as pii_score  # noqa: E402  (benchmarks/ is not a package)

SEMANTIC_THRESHOLD = 0.995  # DedupConfig.semantic_threshold
DUP_KINDS = ("exact_duplicate", "near_duplicate", "cross_day_duplicate")
FIELDS = ("instruction", "output")


def groups(labels: pd.DataFrame) -> dict[str, str]:
    """generation_id -> labelled group root (the original every copy points at)."""
    root = {}
    for gid, orig in zip(labels["generation_id"], labels["duplicate_of"]):
        root[gid] = orig if isinstance(orig, str) else gid
    return root


def score(removed: list[tuple[str, str]], root: dict[str, str], expected: int) -> dict:
    tp = sum(1 for r, d in removed if root.get(r, r) == root.get(d, d))
    p = tp / len(removed) if removed else 1.0
    r = tp / expected if expected else 1.0
    return {"removed": len(removed), "expected": expected, "tp": tp, "precision": round(p, 4),
            "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def kind_recall(removed: list[tuple[str, str]], root: dict[str, str], kinds: pd.Series) -> dict:
    """Per labelled kind: share of its copies whose group got de-duplicated (copy or original removed)."""
    hit_groups = {root.get(r, r) for r, d in removed if root.get(r, r) == root.get(d, d)}
    out = {}
    for kind in DUP_KINDS:
        ids = kinds.index[kinds == kind]
        out[kind] = round(float(np.mean([root[g] in hit_groups for g in ids])), 4) if len(ids) else float("nan")
    return out


def run(n_rows: int, semantic_rows: int, model, cache: EmbeddingCache, threshold: float) -> None:
    gens, labels = generate_sample_data(n_rows=n_rows, days=14, seed=7, cross_day_duplicates=0.02)
    pii, pii_rate, false_pos = pii_score(gens, labels)  # on every generated row, PII rows included
    print(f"\n== {n_rows:,} rows: PII detector {pii_rate:,.0f} rows/s, {len(false_pos)} non-PII rows flagged")
    print(pii.to_string(index=False))
    keep = labels["noise_kind"].isin(("clean",) + DUP_KINDS).to_numpy()
    gens, labels = gens[keep].reset_index(drop=True), labels[keep].reset_index(drop=True)
    root = groups(labels)
    sizes = pd.Series(list(root.values())).value_counts()
    expected = int((sizes - 1).sum())
    kinds = labels.set_index("generation_id")["noise_kind"]
    rng = np.random.default_rng(0)
    quality = rng.uniform(0.3, 1.0, len(gens)).round(3).tolist()
    ids, created = gens["generation_id"].tolist(), gens["created_at"].tolist()
    order = keep_order(quality, created, ids)
    args = dict(ids=[ids[i] for i in order], order_keys=[(k,) for k in range(len(order))],
                instructions=[gens["instruction"][i] for i in order],
                input_messages=[gens["input_message"][i] for i in order],
                outputs=[gens["output"][i] for i in order])
    print(f"\n== {n_rows:,} generated rows -> {len(gens):,} clean + labelled duplicates "
          f"({expected:,} removals expected: {kinds.value_counts().reindex(DUP_KINDS).to_dict()})")
    rows = []
    for name, near in (("exact", 1.01), ("exact + near (MinHash)", 0.7)):
        t0 = time.perf_counter()
        hits = find_duplicates(**args, near_threshold=near)
        el = time.perf_counter() - t0
        removed = [(h.generation_id, h.duplicate_of) for h in hits]
        rows.append({"method": name, "rows": len(gens), **score(removed, root, expected),
                     **kind_recall(removed, root, kinds), "rows_per_s": round(len(gens) / el)})

    sub = gens.iloc[:semantic_rows] if semantic_rows < len(gens) else gens
    sub_root = {g: root[g] for g in sub["generation_id"]}
    sub_root = {g: (r if r in sub_root else g) for g, r in sub_root.items()}
    sub_expected = int((pd.Series(list(sub_root.values())).value_counts() - 1).sum())
    texts = [embedding_text(r, FIELDS) for r in sub.to_dict("records")]
    t0 = time.perf_counter()
    vecs, hits_c, _ = embed_with_cache(texts, "all-MiniLM-L6-v2", FIELDS, cache,
                                       lambda b: embed_texts(model, b, batch_size=64))
    emb_s = time.perf_counter() - t0
    sub_q = quality[: len(sub)]
    sub_order = keep_order(sub_q, sub["created_at"].tolist(), sub["generation_id"].tolist())
    sub_kinds = kinds.loc[sub["generation_id"]]
    sweep = sorted({0.97, 0.98, 0.99, 0.995, threshold})
    for thr in sweep:
        t0 = time.perf_counter()
        hits = semantic_duplicates([sub["generation_id"].iloc[i] for i in sub_order], vecs[sub_order], thr)
        el = time.perf_counter() - t0
        removed = [(h.generation_id, h.duplicate_of) for h in hits]
        rows.append({"method": f"semantic (cos >= {thr})", "rows": len(sub), **score(removed, sub_root, sub_expected),
                     **kind_recall(removed, sub_root, sub_kinds), "rows_per_s": round(len(sub) / el)})
    t0 = time.perf_counter()
    hits = deduplicate_pool(ids=sub["generation_id"].tolist(), created_at=sub["created_at"].tolist(), quality=sub_q,
                            instructions=sub["instruction"].tolist(), input_messages=sub["input_message"].tolist(),
                            outputs=sub["output"].tolist(), vectors=vecs, semantic_threshold=threshold)
    el = time.perf_counter() - t0
    removed = [(h.generation_id, h.duplicate_of) for h in hits]
    rows.append({"method": f"pool step (exact + near + semantic {threshold})", "rows": len(sub),
                 **score(removed, sub_root, sub_expected), **kind_recall(removed, sub_root, sub_kinds),
                 "rows_per_s": round(len(sub) / el)})
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"(embedding {len(sub):,} rows: {emb_s:.0f}s, {hits_c:,} from cache; not included in rows_per_s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--semantic-rows", type=int, default=10_000)
    ap.add_argument("--semantic-threshold", type=float, default=SEMANTIC_THRESHOLD)
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    Path("data").mkdir(exist_ok=True)
    model, cache = load_model(), EmbeddingCache("data/benchmark_embedding_cache.duckdb")
    for n in args.rows:
        run(n, args.semantic_rows, model, cache, args.semantic_threshold)


if __name__ == "__main__":
    main()
