"""Deterministic, order-independent sampling with a category mix, in two modes (SAMPLING_MODES).

`target` (the default): the sample grows with the pool toward `target_examples`. Its size is
min(target_examples, max_pool_share x pool) (or the shipped rows still in the pool, if more), split
between the categories by the mix, and each category's quota is water-filled (BALANCES): by default
across the named topics first (every topic gives min(its rows, level x sqrt(its rows)), the level
the one that meets the quota, so small topics keep all they have and big ones give less than their
share), then each topic's share across its sampling cells (lib.clustering: fine k-means cells of about the same size inside the
topic), so the picks spread over the whole topic. Filling the cells alone ('cells') gives a big topic
cells in proportion to its size, hence a share of the sample in proportion too, as a random sample would. Each row has a weighted random
key (Efraimidis-Spirakis: -ln(u) / quality^quality_weight, u a seeded hash of the id), so higher
usage-based quality is likelier first. A prompt asked many times (the same normalised instruction and
input message) counts once: only its best-keyed `max_per_prompt` rows can be picked. The order in
which a cell gives its rows is `within_cell` (lib.selection): by default farthest point on the words
of the example (the cell's most typical row, then each next one least like those picked, scaled by
quality), or the key alone ('random').

Measured on the real ShareGPT development half (issue 17): random picks inside the cells tied random
samples of the pool on both instruments; farthest point on the clustering embedding won on it and
lost on a lexical one; farthest point on character n-grams of the example beat random on both.
Topics weighted by the square root of their size, then cells ('topics_sqrt'), beat random with
z >= 4.6 at 0.2 of the pool on both topic models tried (init's KMeans and BERTopic); at 0.3 the
published export on BERTopic's topics no longer passed the check (z +1.6), and no balance beat
random at 0.4 there: hence `max_pool_share` 0.2 (benchmarks/pool_share.py; README, "How much of the
pool can ship?").

`per_cluster`: the seed's recipe, at most N per cluster, described below.

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
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from curation_dagster.lib.files import read_keyed, write_keyed
from curation_dagster.lib.memory import RunMemo, per_run_cache
from curation_dagster.lib.selection import NEEDS_TEXT, WITHIN_CELL_ORDERS, example_texts, fit_text_view
from curation_dagster.lib.text import content_hash, normalize_for_dedup, sha256_hex, stable_unit_hash

GENERAL = "general"
SPECIFIC = "template_specific"


@dataclass(frozen=True)
class SampleSettings:
    n_per_cluster: int = 20  # per_cluster mode
    general_share: float = 0.5
    general_template: str = "general"
    seed: int = 42
    mix_strategy: str = "trim"  # "trim" | "fill"
    mode: str = "target"  # a key of SAMPLING_MODES
    target_examples: int = 50_000  # target mode: the dataset's size once the pool supports it
    max_pool_share: float = 0.2  # target mode: adds nothing beyond this share of the pool
    quality_weight: float = 1.0  # target mode: 0 = uniform within cells; higher favours quality more
    max_per_prompt: int = 1  # target mode: picks per normalised prompt (0 = no cap)
    within_cell: str = "diverse"  # target mode: a key of lib.selection.WITHIN_CELL_ORDERS
    balance: str = "topics_sqrt"  # target mode: a key of BALANCES

    def __post_init__(self):
        if self.mode not in SAMPLING_MODES:
            raise ValueError(f"unknown sampling mode {self.mode!r}; use one of {', '.join(SAMPLING_MODES)}")
        if self.within_cell not in WITHIN_CELL_ORDERS:
            raise ValueError(f"unknown within_cell order {self.within_cell!r}; use one of {', '.join(WITHIN_CELL_ORDERS)}")
        if self.balance not in BALANCES:
            raise ValueError(f"unknown balance {self.balance!r}; use one of {', '.join(BALANCES)}")
        if self.mix_strategy not in ("trim", "fill"):
            raise ValueError(f"unknown mix_strategy {self.mix_strategy!r}; use 'trim' or 'fill'")
        if not 0 < self.max_pool_share <= 1:
            raise ValueError(f"max_pool_share must be in (0, 1], got {self.max_pool_share}")
        if not 0 <= self.general_share <= 1:
            raise ValueError(f"general_share must be in [0, 1], got {self.general_share}")
        if self.target_examples < 0 or self.max_per_prompt < 0 or self.quality_weight < 0:
            raise ValueError("target_examples, max_per_prompt and quality_weight must not be negative")


@dataclass
class SampleInfo:
    """What a sampling run decided, for the asset's metadata and checks."""

    mode: str
    pool_rows: int
    size_goal: int  # rows the sample aimed for (target mode: min(target, share x pool); per_cluster: sum of min(N, size))
    cells: int = 0  # sampling cells holding rows
    quota: dict[str, float] | None = None  # category -> the water-filling level (of topics or cells; see BALANCES)
    prompt_repeats_skipped: int = 0  # rows left out because their prompt was already picked max_per_prompt times
    limit: str = ""  # why the sample is smaller than target_examples ("" when it is not)
    shipped_in_pool: int = 0  # target mode: rows of the published dataset still in the pool (kept first)
    shipped_per_cell: dict | None = None  # target mode: (cell_id, category) -> those rows: a cell keeps them above q
    cell_bound: dict | None = None  # target mode: (cell_id, category) -> the most it may give (its level + 1, or its shipped rows)


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


# A pool refresh asks for the same rows' keys several times (the sample, the sample of the pool a week
# back for the growth rate, the export's split groups): each key is a pure function of its text, kept
# for the rows of a pool of a few hundred thousand, until the run ends (lib.memory.per_run_cache)
@per_run_cache
@lru_cache(maxsize=2 ** 19)
def _prompt_key(instruction: str, input_message: str) -> str:
    return sha256_hex(normalize_for_dedup(instruction) + "\x1f" + normalize_for_dedup(input_message))[:16]


@per_run_cache
@lru_cache(maxsize=2 ** 19)
def _sample_hash(seed: int, generation_id: object) -> float:
    return 1.0 - stable_unit_hash(seed, "sample", generation_id)


#: prompt keys read back this run from a kept file (prompt_keys' `cache`), by (instruction, input message)
_READ_BACK: RunMemo = per_run_cache(RunMemo())
#: bump when _prompt_key or the file's key changes: a kept file of another version is read as empty and
#: written again
PROMPT_KEY_VERSION = "prompt-key:2"


def prompt_keys(df: pd.DataFrame, cache: Path | None = None) -> list[str]:
    """One key per row for "the same prompt": the normalised instruction and input message.

    `cache` (a Parquet file): the keys are kept there by a digest of the raw texts and read back next
    time, and the file is rewritten with exactly this call's rows when they changed. Normalising a real
    pool's prompts (input messages of 5,000 characters on average) is most of the work: 0.8 s a refresh
    on the 5,900-row real development half, against 0.05 s to digest them. Later calls in the same run
    without `cache` find the keys read back."""
    inp = df["input_message"] if "input_message" in df.columns else pd.Series("", index=df.index)
    pairs = [(str(i or ""), str(m or "")) for i, m in zip(df["instruction"].fillna(""), inp.where(inp.notna(), ""))]
    if cache is None:
        return [_READ_BACK.get(p) or _prompt_key(*p) for p in pairs]
    import pyarrow as pa

    # the texts' content_hash, as the pool's other kept state is keyed (the filter rejects control
    # characters, so its NUL-led parts cannot run into each other in a pool row)
    digests = [bytes.fromhex(content_hash(*p))[:16] for p in pairs]
    known = read_keyed(cache, PROMPT_KEY_VERSION, ("prompt_key",))
    for p, d in zip(pairs, digests):
        if d in known:
            _READ_BACK[p] = known[d][0]
    keys = [_READ_BACK.get(p) or _prompt_key(*p) for p in pairs]
    rows = {d: (k,) for d, k in zip(digests, keys)}
    if rows.keys() != known.keys():
        write_keyed(Path(cache), PROMPT_KEY_VERSION, rows, {"prompt_key": pa.string()})
    return keys


def priority_keys(ids, quality, seed: int, weight: float) -> np.ndarray:
    """Efraimidis-Spirakis keys, smaller first: -ln(u) / q^weight with u a seeded hash of the id in (0, 1]."""
    u = np.array([_sample_hash(seed, g) for g in ids])
    w = np.power(np.clip(np.asarray(quality, dtype=float), 1e-3, None), weight)
    return -np.log(u) / w


def water_fill(avail: dict, target: int, next_key: Callable[[object, int], float],
               floor: dict | None = None) -> tuple[dict, int]:
    """(picks per cell, level q): every cell gives min(avail, max(floor, q)) with q the highest level
    whose total is at most `target`; the rest (fewer than the cells still above that) go one each to
    the cells at the level whose next row (0-based position) has the smallest key, so the result
    depends on the data only and no cell exceeds max(floor, q + 1). `floor` (picks a cell keeps
    whatever q is: the rows already shipped) must sum to at most `target`."""
    cells = sorted(avail)
    floor = {c: min(avail[c], (floor or {}).get(c, 0)) for c in cells}
    target = max(sum(floor.values()), min(target, sum(avail.values())))

    def level(c, q):
        return min(avail[c], max(floor[c], q))

    lo, hi = 0, max(avail.values(), default=0)
    while lo < hi:  # the highest q with sum(level(c, q)) <= target
        mid = (lo + hi + 1) // 2
        if sum(level(c, mid) for c in cells) <= target:
            lo = mid
        else:
            hi = mid - 1
    q = lo
    alloc = {c: level(c, q) for c in cells}
    rest = target - sum(alloc.values())
    if rest > 0:
        # only cells at the level take one more: a cell its floor holds above q is already past the
        # level, and (q being the highest level that fits) the cells at q outnumber `rest`
        above = sorted((c for c in cells if floor[c] <= q < avail[c]), key=lambda c: (next_key(c, alloc[c]), str(c)))
        for c in above[:rest]:
            alloc[c] += 1
    return alloc, q


def category_targets(size: int, avail_g: int, avail_s: int, share: float, strategy: str) -> tuple[int, int]:
    """(general, template-specific) rows for a sample of `size`: the mix if the pool can give it; else
    'trim' shrinks the other category to keep the share, 'fill' gives the shortfall to the other.
    A category the pool does not have at all leaves no mix to hold: the other takes the whole size."""
    if avail_g == 0 or avail_s == 0:
        return min(size, avail_g), min(size, avail_s)
    tg = round(share * size)
    ts = size - tg
    if strategy == "fill":
        g = min(tg, avail_g)
        sp = min(size - g, avail_s)
        return min(size - sp, avail_g), sp
    if tg > avail_g:
        tg = avail_g
        ts = min(ts, math.floor(avail_g * (1 - share) / share)) if share > 0 else ts
    if ts > avail_s:
        ts = avail_s
        tg = min(tg, math.floor(avail_s * share / (1 - share))) if share < 1 else tg
    return tg, ts


def keep_shipped_in_mix(tg: int, ts: int, kept_g: int, kept_s: int, size: int, s: SampleSettings) -> tuple[int, int]:
    """(general, template-specific) targets raised to the shipped rows each category still holds, the
    other category giving way, so that a pool whose mix moved (a cluster excluded, a day of one
    template) restores the mix with what it adds instead of dropping what shipped. Only a total goal
    below the shipped rows (a smaller target_examples) or a share of 0 for a category (general_share
    0 or 1: that category is not wanted at all) lets shipped rows go."""
    if kept_g + kept_s > size:
        return tg, ts
    if tg < kept_g and s.general_share > 0:
        tg, ts = kept_g, max(min(ts, size - kept_g), kept_s if s.general_share < 1 else 0)
    if ts < kept_s and s.general_share < 1:
        ts, tg = kept_s, max(min(tg, size - kept_s), kept_g if s.general_share > 0 else 0)
    return tg, ts


def sample_to_target(df: pd.DataFrame, s: SampleSettings, shipped: set[str] | None = None,
                     text_view_state: Path | None = None) -> tuple[pd.DataFrame, SampleInfo]:
    """Rows of df (generation_id, cluster_id, template_id, instruction; cell_id, quality_score and
    input_message when present: no cell_id makes each cluster one cell, no quality_score weighs every
    row alike) chosen for the dataset, with `category`, `cell_id` and `sample_rank` (0 = first pick of
    its cell and category) added.

    `shipped`: ids of the dataset as last published. Those still in df rank first in their cell and
    their cell keeps at least that many picks, so growth only adds to what shipped and a refit of the
    cells moves nothing, and a pool that shrinks below 1 / max_pool_share of them, or whose category
    mix moves, keeps them all (the share and the mix steer what is added: keep_shipped_in_mix); only
    a smaller `target_examples` (or a category's share set to 0) drops shipped rows, from the cells
    holding most of them. Without it the pick is the same function of the data alone."""
    info = SampleInfo("target", len(df), 0)
    if df.empty:
        cell = df["cell_id"] if "cell_id" in df.columns else pd.Series(dtype="int64")
        return df.assign(category=pd.Series(dtype=object), cell_id=cell, sample_rank=pd.Series(dtype="int64")), info
    work = df.copy()
    if "cell_id" not in work.columns:
        work["cell_id"] = work["cluster_id"]
    work["category"] = [category_of(t, s.general_template) for t in work["template_id"]]
    quality = work["quality_score"] if "quality_score" in work.columns else pd.Series(1.0, index=work.index)
    work["_quality"] = quality.fillna(0.5).to_numpy()
    work["_k"] = priority_keys(work["generation_id"], work["_quality"], s.seed, s.quality_weight)
    work["_new"] = ~work["generation_id"].astype(str).isin(shipped or ())
    work = work.sort_values(["_new", "_k", "generation_id"], kind="mergesort")
    if s.max_per_prompt:
        first = work.assign(_p=prompt_keys(work)).groupby("_p", sort=False).cumcount() < s.max_per_prompt
        info.prompt_repeats_skipped = int((~first).sum())
        work = work[first.to_numpy()]
    work = work.sort_values(["cell_id", "category", "_new", "_k", "generation_id"], kind="mergesort")
    info.cells = int(work["cell_id"].nunique())
    # the share caps what is added, not what stays: when the pool shrinks (a reviewer excludes a
    # cluster, a rule or dedup removes rows) the rows that shipped and are still here keep their place
    by_share = max(math.floor(s.max_pool_share * len(df) + 1e-9), int((~work["_new"]).sum()))
    size = min(s.target_examples, by_share, len(work))
    avail = {cat: work[work["category"] == cat].groupby("cell_id").size().to_dict() for cat in (GENERAL, SPECIFIC)}
    tg, ts = category_targets(size, sum(avail[GENERAL].values()), sum(avail[SPECIFIC].values()),
                              s.general_share, s.mix_strategy)
    kept_g, kept_s = (int((~work["_new"] & (work["category"] == cat)).sum()) for cat in (GENERAL, SPECIFIC))
    tg, ts = keep_shipped_in_mix(tg, ts, kept_g, kept_s, size, s)
    keys = {cat: {c: g["_k"].to_numpy() for c, g in work[work["category"] == cat].groupby("cell_id")}
            for cat in (GENERAL, SPECIFIC)}
    limits, info.quota = {}, {}
    kept = {cat: work[(work["category"] == cat) & ~work["_new"]].groupby("cell_id").size().to_dict()
            for cat in (GENERAL, SPECIFIC)}
    info.shipped_per_cell = {(c, cat): n for cat in kept for c, n in kept[cat].items()}
    info.shipped_in_pool = sum(info.shipped_per_cell.values())
    topic_of = dict(zip(work["cell_id"], work["cluster_id"]))
    info.cell_bound = {}
    for cat, goal in ((GENERAL, tg), (SPECIFIC, ts)):
        key = (lambda c, i, cat=cat: float(keys[cat][c][i]))
        shrank = sum(kept[cat].values()) > goal  # the goal shrank: keep the most even share of what shipped
        cells_avail, floor = (kept[cat], None) if shrank else (avail[cat], kept[cat])
        alloc, q, bound = BALANCES[s.balance](cells_avail, goal, key, floor, topic_of)
        info.quota[cat] = q
        limits.update({(c, cat): n for c, n in alloc.items()})
        info.cell_bound.update({(c, cat): b for c, b in bound.items()})
    info.size_goal = tg + ts
    if info.size_goal < s.target_examples:
        info.limit = (f"max_pool_share {s.max_pool_share} of {len(df):,} pool rows" if by_share < s.target_examples
                      and info.size_goal == by_share else
                      f"the pool has {len(work):,} rows after the per-prompt cap" if size == len(work) < by_share
                      else "the category mix (mix_strategy 'trim')")
    work = _order_cells(work, s, limits, info.shipped_per_cell, text_view_state)
    work["sample_rank"] = work.groupby(["cell_id", "category"]).cumcount()
    lim = np.array([limits.get((c, cat), 0) for c, cat in zip(work["cell_id"], work["category"])])
    chosen = work[work["sample_rank"].to_numpy() < lim]
    return chosen.drop(columns=["_k", "_new", "_quality"]).sort_values(["cluster_id", "generation_id"]).reset_index(drop=True), info


def _balance_cells(avail: dict, goal: int, key, floor: dict | None, topic_of: dict) -> tuple[dict, int, dict]:
    """(picks per cell, level q, most a cell may give): one water-filling over every cell."""
    alloc, q = water_fill(avail, goal, key, floor=floor)
    return alloc, q, {c: max(q + 1, (floor or {}).get(c, 0)) for c in alloc}


def weighted_fill(avail: dict, target: int, weight: dict, next_key: Callable[[object, int], float],
                  floor: dict | None = None) -> tuple[dict, float]:
    """(picks per group, level): every group gives min(avail, max(floor, floor(level x weight))), the
    level the highest whose total is at most `target`; the rest go one each, smallest next key first,
    to groups below their rows and not held up by their floor. weight 1 for all is water_fill."""
    groups = sorted(avail)
    if not groups:
        return {}, 0.0
    floor = {g: min(avail[g], (floor or {}).get(g, 0)) for g in groups}
    target = max(sum(floor.values()), min(target, sum(avail.values())))

    def level(g, lam):
        return min(avail[g], max(floor[g], math.floor(lam * weight[g] + 1e-9)))

    lo, hi = 0.0, max((avail[g] / weight[g] for g in groups if weight[g] > 0), default=0.0) + 1.0
    for _ in range(60):  # bisection on a monotone step function: 60 halvings reach float precision
        mid = (lo + hi) / 2
        if sum(level(g, mid) for g in groups) <= target:
            lo = mid
        else:
            hi = mid
    alloc = {g: level(g, lo) for g in groups}
    rest = target - sum(alloc.values())
    if rest > 0:
        open_ = sorted((g for g in groups if alloc[g] < avail[g] and math.floor(lo * weight[g] + 1e-9) >= floor[g]),
                       key=lambda g: (next_key(g, alloc[g]), str(g)))
        for g in open_[:rest]:
            alloc[g] += 1
    return alloc, lo


def _balance_topics(avail: dict, goal: int, key, floor: dict | None, topic_of: dict,
                    weight=lambda rows: 1.0) -> tuple[dict, int, dict]:
    """(picks per cell, topic level, most a cell may give): the goal water-filled across the named
    topics first (every topic gives min(its rows, level x weight(its rows)): weight 1 levels them all,
    weight sqrt gives a topic 4 times the size twice the share), then each topic's share water-filled
    across its own cells. Cells are cut to about the same size, so filling them alone gives a big
    topic a share in proportion to its size, as a random sample would; filling topics first flattens that."""
    floor = floor or {}
    by_topic: dict = {}
    for c in avail:
        by_topic.setdefault(topic_of[c], []).append(c)
    t_avail = {t: sum(avail[c] for c in cs) for t, cs in by_topic.items()}
    t_floor = {t: sum(min(avail[c], floor.get(c, 0)) for c in cs) for t, cs in by_topic.items()}
    # a topic's next row: the smallest key among its cells' next rows at an even spread
    t_key = {t: np.sort(np.concatenate([[key(c, i) for i in range(avail[c])] for c in cs])) for t, cs in by_topic.items()}
    t_alloc, lam = weighted_fill(t_avail, goal, {t: weight(n) for t, n in t_avail.items()},
                                 lambda t, i: float(t_key[t][i]), floor=t_floor)
    q = math.floor(lam + 1e-9) if weight(2) == 1.0 else round(lam, 4)
    alloc, bound = {}, {}
    for t, cs in by_topic.items():
        sub = {c: avail[c] for c in cs}
        a, qc = water_fill(sub, t_alloc[t], key, floor={c: floor.get(c, 0) for c in cs})
        alloc.update(a)
        bound.update({c: max(qc + 1, floor.get(c, 0)) for c in cs})
    return alloc, q, bound


#: how a category's goal is spread: a name -> function(rows per cell, goal, next-row key, shipped floor,
#: cell -> topic) -> (picks per cell, level, most a cell may give); SampleSettings.balance.
#: Measured on the real development half (README, "How much of the pool can ship?"): 'topics' won on
#: init's KMeans topics and tied 'cells' on BERTopic's; on the generator's 246 tight template topics it
#: lost badly (lexical Vendi 0.87x random against 0.98x); 'topics_sqrt' was best or close on all three.
BALANCES: dict[str, Callable[..., tuple[dict, int, dict]]] = {
    "topics": _balance_topics,
    "topics_sqrt": lambda *a: _balance_topics(*a, weight=math.sqrt),
    "cells": _balance_cells,
}


def _order_cells(work: pd.DataFrame, s: SampleSettings, limits: dict, shipped: dict,
                 text_view_state: Path | None = None, batch_rows: int = 2_000) -> pd.DataFrame:
    """work (sorted by cell, category, shipped first, key) with each cell's rows in the order of
    `s.within_cell` (lib.selection.WITHIN_CELL_ORDERS). Only a cell whose quota takes some but not
    all of its new rows is reordered: elsewhere the order changes nothing that ships, and ordering
    costs a text vector per row (most of this step's time). Cut cells are vectorised about
    `batch_rows` rows at a time, so memory follows the batch, not the pool. `text_view_state`: where
    the text view keeps its document frequencies between refreshes (lib.selection.fit_text_view)."""
    if s.within_cell == "random":  # the priority order work is already in
        return work
    order_fn = WITHIN_CELL_ORDERS[s.within_cell]
    # work is sorted by (cell, category): each group is one run of rows, reordered in place through one
    # permutation (a frame per group and a concat of 3,000 of them cost more than the ordering)
    cells, cats = work["cell_id"].to_numpy(), work["category"].to_numpy()
    starts = np.flatnonzero(np.r_[True, (cells[1:] != cells[:-1]) | (cats[1:] != cats[:-1])]) if len(work) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(work)].astype(int)
    cut = [(int(a), int(b)) for a, b in zip(starts, ends)
           if shipped.get((cells[a], cats[a]), 0) < limits.get((cells[a], cats[a]), 0) < b - a]
    if not cut:
        return work
    view = None
    if s.within_cell in NEEDS_TEXT:  # fitted once, only if a cell needs it
        view = fit_text_view(example_texts(work), work["generation_id"].astype(str).tolist(), s.seed,
                             state=text_view_state)
    perm = np.arange(len(work))
    batch: list[tuple[int, int]] = []

    def flush():
        rows = np.concatenate([np.arange(a, b) for a, b in batch])
        x = view.vectors(example_texts(work.iloc[rows])) if view is not None else None
        at = 0
        for a, b in batch:
            group = work.iloc[a:b]
            perm[a:b] = a + order_fn(group, x[at:at + b - a] if x is not None else None, s.quality_weight)
            at += b - a
        batch.clear()

    pending = 0
    for a, b in cut:
        batch.append((a, b))
        pending += b - a
        if pending >= batch_rows:
            flush()
            pending = 0
    if batch:
        flush()
    return work.iloc[perm]


def _per_cluster(df: pd.DataFrame, s: SampleSettings, shipped: set[str] | None = None,
                 text_view_state: Path | None = None) -> tuple[pd.DataFrame, SampleInfo]:
    # the seed's recipe as it was: N per cluster by hash, whatever shipped before
    chosen = sample_per_cluster(df, s)
    goal = int(df.groupby("cluster_id").size().clip(upper=s.n_per_cluster).sum()) if len(df) else 0
    limit = (f"per_cluster mode: at most {s.n_per_cluster} from each of {df['cluster_id'].nunique()} clusters"
             if len(df) and goal < s.target_examples else "")
    return chosen, SampleInfo("per_cluster", len(df), goal, int(df["cluster_id"].nunique()) if len(df) else 0,
                              limit=limit)


#: sampling mode -> function(pool, settings, shipped ids, text view state file) -> (chosen rows, SampleInfo);
#: the config's `mode` values
SAMPLING_MODES: dict[str, Callable[..., tuple[pd.DataFrame, SampleInfo]]] = {
    "target": sample_to_target,
    "per_cluster": _per_cluster,
}


def sample(df: pd.DataFrame, s: SampleSettings, shipped: set[str] | None = None,
           text_view_state: Path | None = None) -> tuple[pd.DataFrame, SampleInfo]:
    """The sample in mode `s.mode`. `text_view_state`: a file the within-cell text view may keep its
    counts in between calls (the pick is the same with or without it)."""
    return SAMPLING_MODES[s.mode](df, s, shipped, text_view_state)


def daily_growth(pool: pd.DataFrame, s: SampleSettings, current_size: int, window_days: int = 7) -> tuple[float, int]:
    """(examples the sample gains per source day, sample size `window_days` days earlier): the
    sampler run again on the pool without its last `window_days` days, so the rate is what these
    settings really give (in per_cluster mode it falls to zero as clusters fill), not a guess."""
    if pool.empty or "created_at" not in pool.columns:
        return 0.0, 0
    days = pd.to_datetime(pool["created_at"]).dt.normalize()
    first, last = days.min(), days.max()
    span = min(window_days, (last - first).days + 1)
    before = pool[(days <= last - pd.Timedelta(days=span)).to_numpy()]
    # how many a cell gives does not depend on the order inside it: skip that order (a text vector per row)
    then, _ = sample(before, replace(s, within_cell="random")) if len(before) else (before, None)
    return (current_size - len(then)) / span if span else 0.0, len(then)
