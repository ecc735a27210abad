"""Train / validation / test splits, grouped so that related rows never sit on both sides.

A split that puts two answers to the same prompt on either side leaks: the model is evaluated on a
question it was trained on. So rows are first joined into **split groups**, and every group goes to
one split whole:

- rows with the same normalised prompt (instruction + input message, lib.sampling.prompt_keys: the
  key the sampler's `max_per_prompt` counts by);
- rows with the same value in the optional `source_group` column (GROUP_COLUMN): whoever makes
  several rows from one origin (variants of one generation, the question/answer pairs of one
  document chunk) sets it, and they stay together;
- both at once: a row joins the group of its prompt and of its source_group (connected components).

A row with neither (an empty prompt and no source_group) is a group of its own. A group's key is
the smallest of its labels (`group:<source_group>`, then `prompt:<key>`, else `row:<generation_id>`),
so it depends on the rows' content only, never on their order.

Groups are then assigned per stratum (the cluster most of a group's rows are in, the smaller on a
tie), in stratum order, each stratum's groups in the order of a seeded hash of their key: a group
goes to validation when it brings that split's running count closer to round(rows so far x
fraction), else to test the same way, else to train. With one-row groups and no test split this
is the rule of before (in each cluster the lowest seeded hashes go to validation, about the fraction
of it); bigger groups meet the fractions as closely as their sizes allow, and a stratum that over-
or undershoots passes the difference on to the next, so the totals stay on target. Validation is
filled before test, so turning test on leaves the validation rows where they were when the groups
and strata are the same. Pure functions, no Dagster.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from curation_dagster.lib.sampling import prompt_keys
from curation_dagster.lib.text import stable_unit_hash

#: every split a dataset can have, in file order; `test` only when test_fraction > 0
SPLITS = ("train", "validation", "test")
HELD_OUT = ("validation", "test")
#: optional column: rows with the same value are one split group (variants, pairs of one document chunk)
GROUP_COLUMN = "source_group"
#: what the groups are made of, as the manifest's split_grouping block says it
GROUPED_BY = f"normalised prompt (instruction + input message) and {GROUP_COLUMN}"


def check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """ValueError unless both are in [0, 1) and leave rows for train."""
    for name, f in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction)):
        if not 0 <= f < 1:
            raise ValueError(f"{name} must be at least 0 and below 1, not {f}")
    if validation_fraction + test_fraction >= 1:
        raise ValueError(f"validation_fraction + test_fraction must be below 1 (train needs rows), not "
                         f"{validation_fraction} + {test_fraction}")


def dataset_splits(test_fraction: float) -> tuple[str, ...]:
    """The splits a dataset writes a file for: train and validation always (as before test existed),
    test when test_fraction > 0 (then its file exists even with no rows, so the manifest's rows
    always match the files)."""
    return SPLITS if test_fraction > 0 else SPLITS[:2]


def published_splits(file_names: Iterable[str]) -> tuple[str, ...]:
    """The splits whose `<split>.jsonl` is among `file_names` (a manifest's files), in SPLITS order."""
    names = set(file_names)
    return tuple(s for s in SPLITS if f"{s}.jsonl" in names)


def counted_splits(rows: dict) -> tuple[str, ...]:
    """The splits a manifest's `rows` speak of: train and validation, and test when it counts one."""
    return tuple(s for s in SPLITS if s in rows or s != "test")


def rows_text(rows: dict) -> str:
    """'45 train / 5 validation' (and ' / 5 test' when the rows count a test split)."""
    return " / ".join(f"{int(rows.get(s, 0)):,} {s}" for s in counted_splits(rows))


class _Components:
    """Union-find over labels; each component answers its smallest label."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller label is the root, so a root is its component's key
            self.parent[max(ra, rb)] = min(ra, rb)


def split_groups(df: pd.DataFrame) -> pd.Series:
    """The split group key of each row (see the module doc): same normalised prompt or same
    `source_group` -> same key."""
    if df.empty:
        return pd.Series([], index=df.index, dtype=object)
    labels: list[list[str]] = [[] for _ in range(len(df))]
    if GROUP_COLUMN in df.columns:
        for row, g in zip(labels, df[GROUP_COLUMN]):
            if g is not None and not (isinstance(g, float) and math.isnan(g)) and str(g).strip():
                row.append(f"group:{str(g).strip()}")
    if "instruction" in df.columns:
        empty = prompt_keys(pd.DataFrame({"instruction": [""]}))[0]
        for row, k in zip(labels, prompt_keys(df)):
            if k != empty:
                row.append(f"prompt:{k}")
    comp = _Components()
    for row in labels:
        for other in row[1:]:
            comp.union(row[0], other)
    keys = [comp.find(row[0]) if row else f"row:{g}" for row, g in zip(labels, df["generation_id"].astype(str))]
    return pd.Series(keys, index=df.index, dtype=object)


def _round(x: float) -> int:
    return math.floor(x + 0.5 + 1e-9)


def assign_splits(df: pd.DataFrame, validation_fraction: float, seed: int, test_fraction: float = 0.0,
                  stratify_col: str = "cluster_id", groups: pd.Series | None = None) -> pd.Series:
    """'train' / 'validation' / 'test' per row, whole split groups at a time (`groups`: split_groups(df)
    when not given), stratified by `stratify_col`, seeded; see the module doc. Depends on the rows'
    content, not their order."""
    check_fractions(validation_fraction, test_fraction)
    split = pd.Series("train", index=df.index, dtype=object)
    if df.empty or validation_fraction + test_fraction == 0:
        return split
    groups = split_groups(df) if groups is None else groups.reindex(df.index)
    strata = df[stratify_col] if stratify_col in df.columns else pd.Series(0, index=df.index)
    rows = pd.DataFrame({"group": groups.to_numpy(), "stratum": strata.to_numpy()})
    per = rows.groupby(["group", "stratum"], sort=True).size().rename("n").reset_index()
    # a group's stratum: the one most of its rows are in, the smallest on a tie
    per = per.sort_values(["group", "n", "stratum"], ascending=[True, False, True], kind="mergesort")
    table = per.drop_duplicates("group").set_index("group")[["stratum"]]
    table["size"] = rows.groupby("group").size()
    table["hash"] = [stable_unit_hash(seed, "split", g) for g in table.index]
    table = table.reset_index().sort_values(["stratum", "hash", "group"], kind="mergesort")
    fractions = {"validation": validation_fraction, "test": test_fraction}
    placed = {s: 0 for s in HELD_OUT}
    seen = 0
    to: dict[str, str] = {}
    for _, part in table.groupby("stratum", sort=True):
        seen += int(part["size"].sum())
        need = {s: _round(seen * f) - placed[s] for s, f in fractions.items()}
        for g, size in zip(part["group"], part["size"]):
            for s in HELD_OUT:
                if size < 2 * need[s]:  # placing it brings the split closer to its target
                    to[g], need[s], placed[s] = s, need[s] - size, placed[s] + size
                    break
    split[:] = [to.get(g, "train") for g in groups]
    return split


def split_grouping(split: pd.Series, groups: pd.Series, splits: tuple[str, ...],
                   validation_fraction: float, test_fraction: float) -> dict:
    """The manifest's `split_grouping` block: the fractions asked for and met, how many groups and how
    big, how many straddle two splits (0 unless something is wrong), and the rows of each split."""
    n = len(split)
    rows = {s: int((split == s).sum()) for s in splits}
    by_group = pd.DataFrame({"g": groups.to_numpy(), "s": split.to_numpy()}).groupby("g")["s"]
    sizes = by_group.size()
    return {
        "grouped_by": GROUPED_BY,
        "fractions": {"validation": validation_fraction, "test": test_fraction},
        "achieved": {s: round(rows[s] / n, 4) if n else 0.0 for s in splits},
        "rows": rows,
        "groups": int(len(sizes)),
        "groups_of_several_rows": int((sizes > 1).sum()),
        "largest_group": int(sizes.max()) if len(sizes) else 0,
        "straddling": int((by_group.nunique() > 1).sum()),
    }


def split_problems(provenance: list[dict], lines: dict[str, int], manifest: dict) -> list[str]:
    """What is wrong with a dataset's splits, [] when nothing: a split file whose line count differs
    from the manifest's `rows` (or a split counted there without a file), a provenance line without
    its split group, a group on two splits, or a `split_grouping` block that disagrees with the files."""
    problems = []
    counted = {s: v for s, v in (manifest.get("rows") or {}).items() if s in SPLITS}
    for s in SPLITS:
        if s in lines and counted.get(s) != lines[s]:
            problems.append(f"{s}.jsonl has {lines[s]} lines, the manifest's rows say {counted.get(s)}")
        elif s not in lines and s in counted:
            problems.append(f"the manifest counts {counted[s]} {s} rows but there is no {s}.jsonl")
    grouping = manifest.get("split_grouping")
    if not isinstance(grouping, dict):
        return problems + ["the manifest has no split_grouping block"]
    missing = [f"{p.get('split')}:{p.get('line')}" for p in provenance if not p.get("split_group")]
    if missing:
        problems.append(f"{len(missing)} provenance lines have no split_group, e.g. {', '.join(missing[:3])}")
    on: dict[str, set] = {}
    for p in provenance:
        if p.get("split_group"):
            on.setdefault(p["split_group"], set()).add(p.get("split"))
    straddling = sorted(g for g, s in on.items() if len(s) > 1)
    problems += [f"split group {g} is on {' and '.join(sorted(on[g]))}" for g in straddling[:5]]
    if len(straddling) > 5:
        problems.append(f"... and {len(straddling) - 5} more split groups on two splits")
    if grouping.get("straddling") != 0:
        problems.append(f"split_grouping says {grouping.get('straddling')} groups straddle splits")
    if grouping.get("groups") != len(on):
        problems.append(f"split_grouping counts {grouping.get('groups')} groups, provenance has {len(on)}")
    if grouping.get("rows") != lines:
        problems.append(f"split_grouping's rows {grouping.get('rows')} differ from the files' lines {lines}")
    return problems
