"""Deterministic, order-independent sampling of N examples per cluster with a category mix.

Within a cluster and category, rows are taken in order of a seeded hash of their generation_id
(bottom-k), so the selection depends only on the data and config, never on row order.
The category mix is honoured over the whole sample: each cluster takes min(N, size) rows, and the
number of `general` rows per cluster is chosen between what the cluster forces and what it can
give, spread round-robin so the global share lands as close to the target as the data allows.
Clusters are often pure (all general, or all one template); then no split inside clusters reaches
the target, and the default `mix_strategy="trim"` takes fewer rows of the over-represented category,
always from the clusters holding most of it, until the target share holds. `"fill"` keeps every
cluster at min(N, size) and accepts whatever share that gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from curation_dagster.lib.text import stable_unit_hash

GENERAL = "general"
SPECIFIC = "template_specific"


@dataclass(frozen=True)
class SampleSettings:
    n_per_cluster: int = 20
    general_share: float = 0.5
    general_template: str = "general"
    seed: int = 42
    mix_strategy: str = "trim"  # "trim" | "fill"


def category_of(template_id: str, general_template: str = "general") -> str:
    return GENERAL if template_id == general_template else SPECIFIC


def _trim(alloc: dict[int, int], excess: int) -> dict[int, int]:
    """Remove `excess` picks, one at a time from the cluster holding most (ties: lowest id)."""
    alloc = dict(alloc)
    for _ in range(max(0, excess)):
        c = max(sorted(alloc), key=lambda k: alloc[k])
        if alloc[c] == 0:
            break
        alloc[c] -= 1
    return alloc


def allocate(avail_general: dict[int, int], avail_specific: dict[int, int], n: int, share: float,
             strategy: str = "trim") -> tuple[dict[int, int], dict[int, int]]:
    """(general picks, template-specific picks) per cluster."""
    if strategy not in ("trim", "fill"):
        raise ValueError(f"unknown mix_strategy {strategy!r}; use 'trim' or 'fill'")
    gen = allocate_general(avail_general, avail_specific, n, share)
    spec = {c: min(n, avail_general[c] + avail_specific[c]) - gen[c] for c in gen}
    if strategy == "fill":
        return gen, spec
    g_total, s_total = sum(gen.values()), sum(spec.values())
    if g_total == 0 or s_total == 0:  # one category absent: no mix to hold, keep what exists
        return gen, spec
    if g_total / (g_total + s_total) > share and share < 1:
        gen = _trim(gen, g_total - math.floor(share / (1 - share) * s_total))
    elif g_total / (g_total + s_total) < share and share > 0:
        spec = _trim(spec, s_total - math.floor((1 - share) / share * g_total))
    return gen, spec


def allocate_general(avail_general: dict[int, int], avail_specific: dict[int, int], n: int,
                     share: float) -> dict[int, int]:
    """How many general rows each cluster contributes when every cluster is filled to min(N, size)."""
    clusters = sorted(avail_general)
    quota = {c: min(n, avail_general[c] + avail_specific[c]) for c in clusters}
    lo = {c: max(0, quota[c] - avail_specific[c]) for c in clusters}
    hi = {c: min(avail_general[c], quota[c]) for c in clusters}
    target = round(share * sum(quota.values()))
    alloc = dict(lo)
    remaining = target - sum(alloc.values())
    while remaining > 0:
        progressed = False
        for c in clusters:
            if remaining == 0:
                break
            if alloc[c] < hi[c]:
                alloc[c] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return alloc


def sample_per_cluster(df: pd.DataFrame, s: SampleSettings) -> pd.DataFrame:
    """Rows of df (needs generation_id, cluster_id, template_id) chosen for the dataset, with
    `category` and `sample_rank` (0 = first pick of its cluster/category) columns added."""
    if df.empty:
        return df.assign(category=pd.Series(dtype=object), sample_rank=pd.Series(dtype="int64"))
    work = df.copy()
    work["category"] = [category_of(t, s.general_template) for t in work["template_id"]]
    work["_h"] = [stable_unit_hash(s.seed, "sample", gid) for gid in work["generation_id"]]
    work = work.sort_values(["cluster_id", "category", "_h", "generation_id"], kind="mergesort")
    work["sample_rank"] = work.groupby(["cluster_id", "category"]).cumcount()
    counts = work.groupby(["cluster_id", "category"]).size()
    clusters = sorted(work["cluster_id"].unique().tolist())
    g = {c: int(counts.get((c, GENERAL), 0)) for c in clusters}
    sp = {c: int(counts.get((c, SPECIFIC), 0)) for c in clusters}
    alloc, take_specific = allocate(g, sp, s.n_per_cluster, s.general_share, s.mix_strategy)
    limit = [alloc[c] if cat == GENERAL else take_specific[c]
             for c, cat in zip(work["cluster_id"], work["category"])]
    chosen = work[work["sample_rank"].to_numpy() < pd.Series(limit, index=work.index).to_numpy()]
    return chosen.drop(columns=["_h"]).sort_values(["cluster_id", "generation_id"]).reset_index(drop=True)


def achieved_mix(sampled: pd.DataFrame) -> dict[str, float]:
    if sampled.empty:
        return {GENERAL: 0.0, SPECIFIC: 0.0}
    share = sampled["category"].value_counts(normalize=True)
    return {GENERAL: float(share.get(GENERAL, 0.0)), SPECIFIC: float(share.get(SPECIFIC, 0.0))}
