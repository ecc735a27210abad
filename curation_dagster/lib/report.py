"""The dataset report: charts of the pool, the clusters, the rejections, the sample and human review,
rendered into ONE self-contained HTML page (inline CSS, images as base64 PNG, no scripts, no links
to anything outside the file), so it can be mailed, attached to a ticket or opened from a share.

Charts are drawn with matplotlib's object API (`Figure`, never pyplot), so nothing here switches the
process-wide backend and it is safe in a Dagster step or a test worker. No dagster imports: the
`dataset_report` asset is a thin wrapper around `render_report`.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from curation_dagster.lib.progress import dataset_progress
from curation_dagster.lib.sampling import GENERAL, SPECIFIC, category_of
from curation_dagster.lib.splits import counted_splits

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Section headings, in the order the page shows them (tests and readers rely on them).
SECTIONS = {
    "summary": "Summary",
    "map": "Map of the pool",
    "clusters": "Clusters",
    "mix": "Category mix",
    "diversity": "Diversity against random",
    "growth": "Growth toward the target",
    "rejections": "Rejections",
    "review": "Human review",
    "experiments": "Clustering experiments",
}

#: Columns of the clustering_experiments table, in the order the report shows them.
EXPERIMENT_COLUMNS = ("backend", "algorithm", "clusters", "outlier_share", "silhouette", "davies_bouldin", "npmi",
                      "diversity", "largest_share", "gini", "ari", "nmi", "embed_seconds", "cluster_seconds",
                      "texts_per_second", "error")

REVIEW_STATES = ("accepted", "edited", "rejected", "adjudication", "pending")
REVIEW_COLORS = {"accepted": "#2e7d32", "edited": "#1565c0", "rejected": "#c62828", "adjudication": "#ef6c00",
                 "pending": "#9e9e9e"}
OUTLIER_COLOR = "#c8c8c8"
MAX_LEGEND_CLUSTERS = 20
UMAP_MIN_ROWS = 50


# --------------------------------------------------------------------------------------------------
# helpers


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _short(text, width: int = 40) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _days(values) -> pd.Series:
    """UTC calendar day (YYYY-MM-DD) of each timestamp."""
    ts = pd.to_datetime(pd.Series(values), utc=True, errors="coerce")
    return ts.dt.strftime("%Y-%m-%d")


def _has(df: pd.DataFrame | None, *columns: str) -> bool:
    return df is not None and len(df) > 0 and all(c in df.columns for c in columns)


def _categories(sampled: pd.DataFrame, general_template: str = "general") -> pd.Series:
    if "category" in sampled.columns:
        return sampled["category"].astype(str)
    return pd.Series([category_of(t, general_template) for t in sampled["template_id"]], index=sampled.index)


def thumbnail_png(png: bytes, max_width: int = 560, max_bytes: int = 150_000) -> bytes:
    """`png` scaled down to at most `max_width` pixels wide (aspect kept), shrunk further until it is
    under `max_bytes`: small enough to inline in Dagster metadata."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    width = min(max_width, img.width)
    while True:
        height = max(1, round(img.height * width / img.width))
        small = img.resize((width, height), Image.LANCZOS) if width != img.width else img
        buf = io.BytesIO()
        small.save(buf, format="PNG", optimize=True)
        if buf.tell() <= max_bytes or width <= 120:
            return buf.getvalue()
        width = int(width * 0.8)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --------------------------------------------------------------------------------------------------
# the 2-D map


def project_2d(vectors: np.ndarray, seed: int = 42) -> tuple[np.ndarray, str]:
    """(n, 2) coordinates and the method used: UMAP (cosine, seeded) from UMAP_MIN_ROWS rows up, PCA below
    that (UMAP's neighbour graph means little on a handful of points) or when umap-learn is missing."""
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2)), "none"
    if n < 3:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)]), "none"
    if n >= UMAP_MIN_ROWS:
        try:
            import umap
        except ImportError:  # pragma: no cover - umap-learn is a dependency
            pass
        else:
            reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, metric="cosine",
                                random_state=seed, n_jobs=1)
            return np.asarray(reducer.fit_transform(vectors), dtype=float), "umap"
    from sklearn.decomposition import PCA

    coords = PCA(n_components=2, random_state=seed).fit_transform(vectors)
    return np.asarray(coords, dtype=float), "pca"


@dataclass(frozen=True)
class MapLayout:
    """The map's places of pool rows from one projection, kept so that a daily refresh does not run
    UMAP again (its first call in a process compiles for 15-70 s on 2 cores): rows it does not hold
    are put at the similarity-weighted mean place of their MAP_NEIGHBOURS most similar rows it holds.
    `key` says what the projection was made for (the topic model version): another key, or more than
    MAX_PLACED_SHARE of the drawn rows missing from it, projects the map afresh."""

    key: str
    method: str
    places: pd.DataFrame  # generation_id, x, y

    def to_frame(self) -> pd.DataFrame:
        return self.places.assign(key=self.key, method=self.method)

    @classmethod
    def from_frame(cls, df: pd.DataFrame | None) -> "MapLayout | None":
        if df is None or df.empty or not {"generation_id", "x", "y", "key", "method"} <= set(df.columns):
            return None
        return cls(str(df["key"].iloc[0]), str(df["method"].iloc[0]),
                   df[["generation_id", "x", "y"]].astype({"generation_id": str}).reset_index(drop=True))


MAP_NEIGHBOURS = 5
MAX_PLACED_SHARE = 0.25


def place_by_neighbours(vectors: np.ndarray, known: np.ndarray, known_xy: np.ndarray,
                        k: int = MAP_NEIGHBOURS) -> np.ndarray:
    """(m, 2) places for `vectors` (m x d): the mean place of their k most similar `known` rows
    (cosine), each weighted by its similarity (negative ones count as 0, ties to the lower index)."""
    if len(vectors) == 0:
        return np.zeros((0, 2))
    unit = lambda x: x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)  # noqa: E731
    sim = unit(np.asarray(vectors, np.float32)) @ unit(np.asarray(known, np.float32)).T
    k = min(k, sim.shape[1])
    top = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    w = np.clip(np.take_along_axis(sim, top, axis=1), 0, None) + 1e-6
    return (known_xy[top] * w[:, :, None]).sum(axis=1) / w.sum(axis=1, keepdims=True)


def layout_map(ids: list[str], vectors: np.ndarray, seed: int = 42, layout: MapLayout | None = None,
               key: str = "") -> tuple[np.ndarray, str, int, MapLayout]:
    """(coordinates, method, rows placed by neighbours, the layout to keep) for rows `ids` with
    `vectors`. With a `layout` made for the same `key` that holds at least 1 - MAX_PLACED_SHARE of
    the rows (and was made by UMAP, or by PCA on a pool still too small for UMAP), its places are
    reused and the other rows placed by neighbours; otherwise the rows are projected afresh."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if layout is not None and layout.key == key and len(ids):
        where = dict(zip(layout.places["generation_id"], range(len(layout.places))))
        pos = np.array([where.get(str(g), -1) for g in ids])
        held = pos >= 0
        method_ok = layout.method == "umap" or (layout.method == "pca" and len(ids) < UMAP_MIN_ROWS)
        if method_ok and held.sum() >= 3 and (~held).mean() <= MAX_PLACED_SHARE:
            xy = layout.places[["x", "y"]].to_numpy(dtype=float)
            coords = np.zeros((len(ids), 2))
            coords[held] = xy[pos[held]]
            coords[~held] = place_by_neighbours(vectors[~held], vectors[held], coords[held])
            # the kept layout stays the projection's own places: placed rows never become anchors
            return coords, layout.method, int((~held).sum()), layout
    coords, method = project_2d(vectors, seed)
    places = pd.DataFrame({"generation_id": [str(g) for g in ids], "x": coords[:, 0], "y": coords[:, 1]})
    return coords, method, 0, MapLayout(key, method, places)


def map_points(pool: pd.DataFrame, clusters: pd.DataFrame, sampled: pd.DataFrame | None = None,
               cap: int = 20_000, seed: int = 42, layout: MapLayout | None = None,
               layout_key: str = "") -> tuple[pd.DataFrame, str, int, dict]:
    """Pool rows to draw (x, y, cluster_id, cluster_name, is_outlier, sampled), the projection method,
    how many pool rows there were, and {"placed": rows placed by neighbours, "layout": the MapLayout
    to keep} (see layout_map). Above `cap` rows a seeded sample is drawn; sampled examples are kept
    first so the marks stay complete."""
    cols = ["generation_id", "x", "y", "cluster_id", "cluster_name", "is_outlier", "sampled"]
    if not _has(pool, "generation_id", "embedding"):
        return pd.DataFrame(columns=cols), "none", 0 if pool is None else len(pool), {"placed": 0, "layout": None}
    df = pool[["generation_id", "embedding"]].copy()
    total = len(df)
    if _has(clusters, "generation_id", "cluster_id"):
        keep = [c for c in ("generation_id", "cluster_id", "cluster_name", "is_outlier") if c in clusters.columns]
        df = df.merge(clusters[keep].drop_duplicates("generation_id"), on="generation_id", how="left")
    for col, default in (("cluster_id", -1), ("cluster_name", "unassigned"), ("is_outlier", False)):
        if col not in df.columns:
            df[col] = default
    df["cluster_id"] = pd.to_numeric(df["cluster_id"], errors="coerce").fillna(-1).astype(int)
    df["cluster_name"] = df["cluster_name"].where(df["cluster_name"].notna(), "unassigned").astype(str)
    df["is_outlier"] = df["is_outlier"].fillna(False).astype(bool)
    chosen = set(sampled["generation_id"]) if _has(sampled, "generation_id") else set()
    df["sampled"] = df["generation_id"].isin(chosen)
    df = df.sort_values("generation_id", kind="mergesort").reset_index(drop=True)
    if len(df) > cap:
        # sampled examples first, then a seeded random draw of the rest
        mask = df["sampled"].to_numpy()
        rest = np.random.default_rng(seed).permutation(np.flatnonzero(~mask))
        keep = np.concatenate([np.flatnonzero(mask), rest])[:cap]
        df = df.iloc[np.sort(keep)].reset_index(drop=True)
    vectors = np.stack(df["embedding"].to_numpy()) if len(df) else np.zeros((0, 1), np.float32)
    coords, method, placed, kept = layout_map(df["generation_id"].astype(str).tolist(), vectors, seed, layout,
                                              layout_key)
    df["x"], df["y"] = coords[:, 0], coords[:, 1]
    return df[cols], method, total, {"placed": placed, "layout": kept}


def _cluster_palette(points: pd.DataFrame) -> dict[int, str]:
    """A colour for each of the largest MAX_LEGEND_CLUSTERS clusters; the rest share grey."""
    from matplotlib import colormaps

    sizes = points[points["cluster_id"] != -1].groupby("cluster_id").size().sort_values(ascending=False)
    top = sorted(sizes.index[:MAX_LEGEND_CLUSTERS].tolist(), key=lambda c: (-sizes[c], c))
    cmap = colormaps["tab20"] if len(top) > 10 else colormaps["tab10"]
    return {int(c): cmap(i % cmap.N) for i, c in enumerate(top)}


def plot_map(points: pd.DataFrame, method: str, total: int | None = None, width: float = 11.0,
             dpi: int = 110) -> bytes:
    """The pool in 2-D, one colour per cluster (the largest 20; others grey, outliers light grey),
    sampled examples as black-edged dots, each cluster's id at its median position."""
    fig = Figure(figsize=(width, width * 0.62))
    ax = fig.add_subplot()
    if points.empty:
        ax.text(0.5, 0.5, "no pool rows", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig, dpi)
    palette = _cluster_palette(points)
    n = len(points)
    size = 14 if n < 2_000 else 6 if n < 10_000 else 3
    other = points[~points["cluster_id"].isin(palette.keys()) & (points["cluster_id"] != -1)]
    outliers = points[points["cluster_id"] == -1]
    flagged = points[points["is_outlier"] & (points["cluster_id"] != -1)]
    if len(outliers):
        ax.scatter(outliers["x"], outliers["y"], s=size, c=OUTLIER_COLOR, linewidths=0,
                   label=f"-1 outliers ({len(outliers):,})")
    if len(other):
        ax.scatter(other["x"], other["y"], s=size, c="#8d8d8d", linewidths=0,
                   label=f"other clusters ({len(other):,})")
    for cid, color in palette.items():
        part = points[points["cluster_id"] == cid]
        name = _short(part["cluster_name"].iat[0], 38)
        ax.scatter(part["x"], part["y"], s=size, color=color, linewidths=0, alpha=0.85,
                   label=f"{cid} {name} ({len(part):,})")
        ax.annotate(str(cid), (float(part["x"].median()), float(part["y"].median())), fontsize=9,
                    fontweight="bold", ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": color, "alpha": 0.85})
    if len(flagged):
        ax.scatter(flagged["x"], flagged["y"], s=size * 1.6, facecolors="none", edgecolors="#555555",
                   linewidths=0.4, label=f"flagged outlier, kept in cluster ({len(flagged):,})")
    chosen = points[points["sampled"]]
    if len(chosen):
        ax.scatter(chosen["x"], chosen["y"], s=max(10, size * 2.2), facecolors="none", edgecolors="black",
                   linewidths=0.7, label=f"sampled for the dataset ({len(chosen):,})")
    drawn = f"{n:,} of {total:,} rows" if total and total > n else f"{n:,} rows"
    ax.set_title(f"Pool by cluster ({method.upper()} of the embeddings, {drawn})", fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False, markerscale=1.5)
    return _png(fig, dpi)


# --------------------------------------------------------------------------------------------------
# the other charts


def cluster_table(summaries: pd.DataFrame, sampled: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster, largest first, with how many examples the sample took from it."""
    cols = ["cluster_id", "cluster_name", "size", "share", "outliers", "general_share", "sampled", "keywords",
            "top_templates"]
    if not _has(summaries, "cluster_id"):
        return pd.DataFrame(columns=cols)
    df = summaries.copy()
    for col in cols:
        if col not in df.columns:
            df[col] = None
    taken = (sampled.groupby("cluster_id").size() if _has(sampled, "cluster_id")
             else pd.Series(dtype="int64"))
    df["sampled"] = df["cluster_id"].map(taken).fillna(0).astype(int)
    df["size"] = pd.to_numeric(df["size"], errors="coerce").fillna(0).astype(int)
    return df.sort_values(["size", "cluster_id"], ascending=[False, True], kind="mergesort")[cols] \
             .reset_index(drop=True)


def plot_cluster_sizes(table: pd.DataFrame, top: int = 25) -> bytes:
    """Horizontal bars: pool rows per cluster (largest `top`), with the sampled examples overlaid."""
    part = table.head(top).iloc[::-1]
    fig = Figure(figsize=(10, max(2.4, 0.3 * len(part) + 1.0)))
    ax = fig.add_subplot()
    if part.empty:
        ax.text(0.5, 0.5, "no clusters", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig)
    labels = [f"{c}  {_short(n, 48)}" for c, n in zip(part["cluster_id"], part["cluster_name"])]
    colors = [OUTLIER_COLOR if c == -1 else "#5c85d6" for c in part["cluster_id"]]
    ax.barh(labels, part["size"], color=colors, label="pool rows")
    ax.barh(labels, part["sampled"], color="#1b3a73", height=0.45, label="sampled examples")
    for y, v in enumerate(part["size"]):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("rows")
    more = f" (largest {top} of {len(table)})" if len(table) > top else ""
    ax.set_title(f"Cluster sizes{more}", fontsize=11)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def rejection_counts(rejected: pd.DataFrame | None, max_rules: int = 10) -> pd.DataFrame:
    """Rows rejected per day (index) and rule (columns, most frequent first; the tail as `other`)."""
    if not _has(rejected, "created_at", "rule"):
        return pd.DataFrame()
    df = pd.DataFrame({"day": _days(rejected["created_at"]).to_numpy(),
                       "rule": rejected["rule"].astype(str).to_numpy()})
    order = df["rule"].value_counts()
    order = order.sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
    keep = list(order.index[:max_rules]) if len(order) > max_rules + 1 else list(order.index)
    df["rule"] = df["rule"].where(df["rule"].isin(keep), "other")
    counts = df.groupby(["day", "rule"]).size().unstack(fill_value=0)
    cols = [r for r in keep if r in counts.columns] + (["other"] if "other" in counts.columns else [])
    return counts[cols].sort_index()


def plot_rejections(counts: pd.DataFrame) -> bytes:
    """Stacked bars: rows rejected per day, one colour per rule."""
    from matplotlib import colormaps

    fig = Figure(figsize=(11, 4.2))
    ax = fig.add_subplot()
    cmap = colormaps["tab20"] if counts.shape[1] > 10 else colormaps["tab10"]
    x = np.arange(len(counts))
    bottom = np.zeros(len(counts))
    for i, rule in enumerate(counts.columns):
        vals = counts[rule].to_numpy()
        ax.bar(x, vals, bottom=bottom, color=cmap(i % cmap.N), label=f"{rule} ({int(vals.sum()):,})", width=0.8)
        bottom += vals
    step = max(1, math.ceil(len(counts) / 20))
    slanted = len(counts) > 6
    ax.set_xticks(x[::step], counts.index[::step], rotation=45 if slanted else 0,
                  ha="right" if slanted else "center", fontsize=8)
    ax.set_ylabel("rows rejected")
    ax.set_title("Rejections per day and rule (day the generation was created)", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def mix_counts(sampled: pd.DataFrame | None, general_template: str = "general") -> dict[str, int]:
    if not _has(sampled, "template_id") and not _has(sampled, "category"):
        return {GENERAL: 0, SPECIFIC: 0}
    cats = _categories(sampled, general_template)
    return {GENERAL: int((cats == GENERAL).sum()), SPECIFIC: int((cats == SPECIFIC).sum())}


def plot_mix(counts: dict[str, int], target_general: float) -> bytes:
    """Achieved share of general vs template-specific examples next to the target."""
    total = sum(counts.values())
    achieved = [counts[GENERAL] / total if total else 0.0, counts[SPECIFIC] / total if total else 0.0]
    target = [target_general, 1 - target_general]
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    x = np.arange(2)
    ax.bar(x - 0.2, achieved, width=0.38, color="#5c85d6", label="achieved")
    ax.bar(x + 0.2, target, width=0.38, color="#d0d0d0", edgecolor="#777777", label="target")
    for xi, a, n in zip(x, achieved, (counts[GENERAL], counts[SPECIFIC])):
        ax.text(xi - 0.2, a, f"{a:.1%}\n({n:,})", ha="center", va="bottom", fontsize=8)
    for xi, t in zip(x, target):
        ax.text(xi + 0.2, t, f"{t:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, ["general", "template-specific"])
    ax.set_ylim(0, 1.18)
    ax.set_ylabel("share of sampled examples")
    ax.set_title(f"Category mix of {total:,} sampled examples", fontsize=11)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


DIVERSITY_METRICS = {"vendi": "Vendi score", "coverage": "cell coverage", "mean_distance": "mean pairwise distance"}


def diversity_table(block: dict | None) -> pd.DataFrame:
    """The manifest's `diversity` block as rows: one per instrument and metric, export against the
    mean of same-size random samples of the pool (ratio above 1 and a large z: more diverse)."""
    rows = []
    for inst, b in ((block or {}).get("instruments") or {}).items():
        for metric, label in DIVERSITY_METRICS.items():
            m = b.get(metric)
            if not m:
                continue
            rows.append({"instrument": f"{inst} ({b.get('name', '')})", "metric": label, "export": m["export"],
                         "random_mean": m["random_mean"], "random_std": m["random_std"], "ratio": m["ratio"],
                         "z": m["z"]})
    return pd.DataFrame(rows, columns=["instrument", "metric", "export", "random_mean", "random_std", "ratio", "z"])


def growth_series(sampled: pd.DataFrame | None) -> pd.Series:
    """Cumulative sampled examples per UTC day of `created_at` (days without rows included)."""
    if not _has(sampled, "created_at"):
        return pd.Series(dtype="int64")
    days = pd.to_datetime(sampled["created_at"], utc=True, errors="coerce").dt.tz_localize(None).dt.normalize()
    per_day = days.value_counts().sort_index()
    full = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
    return per_day.reindex(full, fill_value=0).cumsum().astype(int)


def plot_growth(cumulative: pd.Series, target: int, projected: str | None) -> bytes:
    """Cumulative examples by the day they were generated, with the target as a line; the y axis is
    logarithmic when the target is far above the data, so both stay readable."""
    fig = Figure(figsize=(10, 4.0))
    ax = fig.add_subplot()
    if cumulative.empty:
        ax.text(0.5, 0.5, "no sampled examples yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig)
    x = list(cumulative.index)
    ax.plot(x, cumulative.to_numpy(), marker="o", markersize=4, color="#1b3a73", label="sampled examples (cumulative)")
    ax.fill_between(x, cumulative.to_numpy(), color="#5c85d6", alpha=0.2)
    ax.axhline(target, color="#c62828", linestyle="--", linewidth=1.2, label=f"target {target:,}")
    last = int(cumulative.iloc[-1])
    log = target > 0 and last > 0 and target / last > 20
    if log:
        ax.set_yscale("log")
        ax.set_ylim(max(0.8, cumulative[cumulative > 0].min() * 0.5), target * 2)
    else:
        ax.set_ylim(0, max(target, last) * 1.3)
    share = last / target if target else 1.0
    note = f"{last:,} / {target:,} ({share:.1%})" + (f"\nprojected: {projected}" if projected else "")
    ax.text(0.01, 0.97, note, transform=ax.transAxes, va="top", fontsize=9,
            bbox={"boxstyle": "round", "fc": "white", "ec": "#bbbbbb"})
    ax.set_ylabel("examples" + (" (log scale)" if log else ""))
    ax.set_title("Growth of the sample toward the target, by day the generations were created", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    from matplotlib import dates as mdates

    span = len(cumulative)
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil(span / 14))) if span <= 120
                               else mdates.AutoDateLocator(maxticks=14))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    if span == 1:
        ax.set_xlim(x[0] - pd.Timedelta(days=1), x[0] + pd.Timedelta(days=1))
    fig.autofmt_xdate()
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def review_counts(decisions: pd.DataFrame | None) -> dict[str, int]:
    """Decisions per state (known states in a fixed order, then any other); {} when nobody reviewed."""
    if not _has(decisions, "state"):
        return {}
    counts = decisions["state"].dropna().astype(str).value_counts()
    ordered = {s: int(counts.get(s, 0)) for s in REVIEW_STATES}
    ordered.update({s: int(v) for s, v in counts.sort_index().items() if s not in ordered})
    return ordered if sum(ordered.values()) else {}


def plot_reviews(counts: dict[str, int]) -> bytes:
    fig = Figure(figsize=(8, 3.4))
    ax = fig.add_subplot()
    states = list(counts)
    vals = [counts[s] for s in states]
    ax.bar(states, vals, color=[REVIEW_COLORS.get(s, "#7e57c2") for s in states])
    total = sum(vals)
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:,}\n({v / total:.0%})" if total else "0", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max(vals) * 1.3 if vals and max(vals) else 1)
    ax.set_ylabel("examples")
    ax.set_title(f"Review outcomes ({total:,} reviewed examples)", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# --------------------------------------------------------------------------------------------------
# HTML

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;
background:#f5f6f8;color:#1f2328}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:8px 0 4px}
h2{font-size:19px;margin:0 0 10px;border-bottom:2px solid #e1e4e8;padding-bottom:6px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:18px 22px;margin:18px 0}
p.lead{color:#57606a;margin:0 0 12px}
p.note{color:#57606a;font-size:13px}
.empty{background:#fff8e1;border:1px solid #ffe082;border-radius:6px;padding:10px 14px}
img{max-width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;font-size:13px;width:100%;margin:8px 0}
th,td{border-bottom:1px solid #eaecef;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
.card{background:#f6f8fa;border-radius:6px;padding:10px 14px}
.card .v{font-size:22px;font-weight:600}
.card .k{font-size:12px;color:#57606a}
nav a{color:#1b3a73;margin-right:14px;font-size:13px}
.scroll{overflow-x:auto}
"""


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(value)


def html_table(df: pd.DataFrame, columns: list[str] | tuple[str, ...] | None = None, max_rows: int = 200,
               widths: dict[str, int] | None = None) -> str:
    """A plain HTML table of `df` (every cell escaped); numbers right-aligned."""
    columns = [c for c in (columns or df.columns) if c in df.columns]
    widths = widths or {}
    numeric = {c for c in columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    head = "".join(f'<th class="num">{html.escape(str(c))}</th>' if c in numeric else f"<th>{html.escape(str(c))}</th>"
                   for c in columns)
    rows = []
    for rec in df[columns].head(max_rows).itertuples(index=False, name=None):
        cells = []
        for c, v in zip(columns, rec):
            text = _fmt(v)
            if c in widths:
                text = _short(text, widths[c])
            cls = ' class="num"' if c in numeric else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="note">{len(df) - max_rows:,} more rows not shown.</p>' if len(df) > max_rows else "")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{more}')


def _img(png: bytes, alt: str) -> str:
    return f'<img src="{data_uri(png)}" alt="{html.escape(alt)}">'


def _section(key: str, lead: str, body: str) -> str:
    return (f'<section id="{key}"><h2>{html.escape(SECTIONS[key])}</h2>'
            f'<p class="lead">{html.escape(lead)}</p>{body}</section>')


def _cards(items: list[tuple[str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{html.escape(v)}</div><div class="k">{html.escape(k)}</div></div>'
        for k, v in items) + "</div>"


@dataclass
class Report:
    html: str
    images: dict[str, bytes] = field(default_factory=dict)  # name -> PNG bytes (map, clusters, ...)
    summary: dict = field(default_factory=dict)  # counts for the asset's metadata
    map_layout: MapLayout | None = None  # the map's places, to reuse on the next refresh (layout_map)


def render_report(pool: pd.DataFrame, clusters: pd.DataFrame, summaries: pd.DataFrame, sampled: pd.DataFrame,
                  rejected: pd.DataFrame | None = None, decisions: pd.DataFrame | None = None,
                  manifest: dict | None = None, experiments: pd.DataFrame | None = None, *,
                  target_examples: int = 50_000, general_share: float = 0.5, general_template: str = "general",
                  map_cap: int = 20_000, seed: int = 42, title: str = "Fine-tuning dataset report",
                  generated_at: str | None = None, map_layout: MapLayout | None = None,
                  map_layout_key: str = "") -> Report:
    """The report page and its PNGs.

    pool: deduplicated_generations with its vectors (generation_id, embedding; created_at, template_id optional)
    clusters: generation_clusters; summaries: cluster_summaries; sampled: sampled_examples
    rejected: rejected_generations (created_at, rule); decisions: review_decisions (may have no columns)
    manifest: the finetuning_dataset manifest.json, when the export exists
    experiments: the clustering_experiments table, when it was materialized
    map_layout / map_layout_key: the map's last layout and what it must have been made for (see
    layout_map); the layout to keep next time is Report.map_layout
    """
    generated_at = generated_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    sampled = sampled if sampled is not None else pd.DataFrame()
    images: dict[str, bytes] = {}
    parts: list[str] = []

    # map
    points, method, pool_rows, placing = map_points(pool, clusters, sampled, cap=map_cap, seed=seed,
                                                    layout=map_layout, layout_key=map_layout_key)
    images["map"] = plot_map(points, method, pool_rows)
    # clusters
    ctable = cluster_table(summaries, sampled)
    images["clusters"] = plot_cluster_sizes(ctable)
    n_clusters = int((ctable["cluster_id"] != -1).sum()) if len(ctable) else 0
    # mix
    mix = mix_counts(sampled, general_template)
    images["mix"] = plot_mix(mix, general_share)
    n_sampled = sum(mix.values()) if sum(mix.values()) else (len(sampled) if sampled is not None else 0)
    achieved = mix[GENERAL] / sum(mix.values()) if sum(mix.values()) else 0.0
    # growth
    cumulative = growth_series(sampled)
    created = sampled["created_at"] if _has(sampled, "created_at") else pd.Series(dtype="datetime64[ns]")
    progress = dataset_progress(created, target_examples)
    projected = progress.projected_date.isoformat() if progress.projected_date else None
    # the export's projection uses the rate the sampler measured itself (manifest "progress"); the
    # examples' own days only stand in when there is no manifest
    mprog = (manifest or {}).get("progress") or {}
    if mprog:
        progress = replace(progress, count=int(mprog.get("examples", progress.count)),
                           share=float(mprog.get("progress", progress.share)),
                           daily_rate=float(mprog.get("daily_rate", progress.daily_rate)))
        projected = mprog.get("projected_date") if mprog.get("projected_date") not in (None, "never") else None
        progress = replace(progress, projected_date=date.fromisoformat(projected) if projected else None)
    images["growth"] = plot_growth(cumulative, target_examples, projected or "never at the current rate")
    # rejections
    rcounts = rejection_counts(rejected)
    if not rcounts.empty:
        images["rejections"] = plot_rejections(rcounts)
    n_rejected = int(len(rejected)) if rejected is not None else 0
    # review
    rev = review_counts(decisions)
    if rev:
        images["review"] = plot_reviews(rev)

    diversity = (manifest or {}).get("diversity") or {}
    dtable = diversity_table(diversity)
    lexical_vendi = ((diversity.get("instruments") or {}).get("lexical") or {}).get("vendi")
    shipped = (manifest or {}).get("rows", {})
    review_block = (manifest or {}).get("review", {}) or {}
    summary = {
        "pool_rows": int(pool_rows),
        "map_points": int(len(points)),
        "map_method": method,
        "map_rows_placed_by_neighbours": placing["placed"],
        "clusters": n_clusters,
        "sampled_examples": int(n_sampled),
        "achieved_general_share": round(achieved, 4),
        "target_general_share": general_share,
        "rejected_rows": n_rejected,
        "reviewed_examples": int(sum(rev.values())),
        "shipped_rows": int(shipped.get("total", 0)) if shipped else None,
        "train_rows": int(shipped.get("train", 0)) if shipped else None,
        "validation_rows": int(shipped.get("validation", 0)) if shipped else None,
        "test_rows": int(shipped.get("test", 0)) if shipped else None,
        "target_examples": int(target_examples),
        "progress": round(progress.share, 4),
        "projected_date": projected,
        "experiments": int(len(experiments)) if experiments is not None else None,
        "progress_summary": progress.summary(),
        "beats_random": diversity.get("beats_random") if diversity else None,
        "lexical_vendi_ratio": lexical_vendi["ratio"] if lexical_vendi else None,
    }

    # ---- sections, in SECTIONS order
    cards = [("pool rows (after dedup)", f"{pool_rows:,}"), ("clusters", f"{n_clusters:,}"),
             ("sampled examples", f"{n_sampled:,}"),
             (f"shipped ({' / '.join(counted_splits(shipped))})",
              " / ".join(f"{int(shipped.get(s, 0)):,}" for s in counted_splits(shipped))
              if shipped else "not exported"),
             ("rejected rows", f"{n_rejected:,}"), ("reviewed examples", f"{sum(rev.values()):,}"),
             ("progress to target", f"{progress.share:.1%}"),
             ("diversity vs random", f"{lexical_vendi['ratio']:.2f}x (z {lexical_vendi['z']:+.1f})"
              if lexical_vendi else "not measured")]
    source = (manifest or {}).get("source_partitions") or []
    facts = [f"Generated {generated_at}."]
    if manifest:
        facts.append(f"Export created {manifest.get('created_at', 'unknown')} "
                     f"(run {manifest.get('run_id', 'unknown')}), "
                     f"from {len(source)} source day(s)"
                     + (f" {source[0]} to {source[-1]}" if source else "") + ".")
        change = manifest.get("changes_since_previous") or {}
        if change:
            facts.append(f"Since the previous export: {change.get('added', 0):,} added, "
                         f"{change.get('dropped', 0):,} dropped.")
    else:
        facts.append("No finetuning_dataset export found yet: materialize finetuning_dataset.")
    facts.append(progress.summary() + ".")
    parts.append(_section("summary", "What is in the pool, what the sample took from it and what shipped.",
                          _cards(cards) + "".join(f'<p class="note">{html.escape(f)}</p>' for f in facts)))

    map_lead = ("Every kept, de-duplicated generation placed by the meaning of its text (a 2-D projection of "
                "its embedding), coloured by topic cluster; black circles are the examples sampled for the "
                "dataset. Nearby points are similar; a cluster's id sits at its centre.")
    if method == "pca":
        map_lead += " Fewer than 50 rows: the projection is PCA instead of UMAP."
    if placing["placed"]:
        map_lead += (f" The projection was made on an earlier refresh of this topic model; the "
                     f"{placing['placed']:,} rows it did not hold sit at the mean place of their most similar rows.")
    parts.append(_section("map", map_lead, _img(images["map"], "map of the pool coloured by cluster")))

    cbody = _img(images["clusters"], "cluster sizes") + html_table(
        ctable, ["cluster_id", "cluster_name", "size", "share", "outliers", "general_share", "sampled", "keywords",
                 "top_templates"], widths={"keywords": 90, "top_templates": 70, "cluster_name": 60})
    parts.append(_section("clusters", "Topic clusters of the pool, largest first: the name and keywords come from "
                          "c-TF-IDF; sampled is how many examples the dataset took from each.", cbody))

    templates = (sampled["template_id"].astype(str).value_counts().rename_axis("template_id")
                 .reset_index(name="examples") if _has(sampled, "template_id")
                 else pd.DataFrame(columns=["template_id", "examples"]))
    parts.append(_section(
        "mix", f"Share of general-purpose examples against template-specific ones, target {general_share:.0%} "
               f"general; achieved {achieved:.1%} ({abs(achieved - general_share) * 100:.1f} points off).",
        _img(images["mix"], "category mix") + html_table(templates, ["template_id", "examples"], max_rows=30)))

    if diversity and len(dtable):
        sizes = (f"{diversity.get('pool_rows', 0):,} pool rows, {diversity.get('export_rows', 0):,} exported, "
                 f"{diversity.get('random_samples', 0)} random samples per metric.")
        dbody = (f'<p class="note">{html.escape(diversity.get("verdict", ""))}</p>' + html_table(dtable)
                 + f'<p class="note">{html.escape(sizes)}</p>')
    elif diversity:
        dbody = f'<p class="empty">{html.escape(diversity.get("verdict", "not measured"))}</p>'
    else:
        dbody = ('<p class="empty">Not measured: no export yet, or the export ran with '
                 'diversity_random_samples: 0.</p>')
    parts.append(_section(
        "diversity", "Is the export more diverse than a random sample of the same size from the pool? Measured on "
                     "a lexical instrument fitted apart from the selection (word TF-IDF + SVD of prompt and reply; "
                     "the default selection reads character n-grams of the same text, so it is related, not "
                     "blind) and on the embedding the cells were cut in (semantic, not independent). Ratio is the export over the "
                     "random mean; z is in random standard deviations.", dbody))

    gtable = pd.DataFrame({"day": [d.strftime("%Y-%m-%d") for d in cumulative.index],
                           "added": cumulative.diff().fillna(cumulative).astype(int).to_numpy(),
                           "cumulative": cumulative.to_numpy()}) if len(cumulative) else pd.DataFrame()
    parts.append(_section(
        "growth", f"Sampled examples by the day their generation was created, against the target of "
                  f"{target_examples:,}. At {progress.daily_rate:g} examples per source day the target is reached "
                  f"{projected or 'never at the current rate'}.",
        _img(images["growth"], "growth toward the target")
        + (html_table(gtable.iloc[::-1], max_rows=31) if len(gtable) else "")))

    if "rejections" in images:
        totals = rcounts.sum().rename_axis("rule").reset_index(name="rows")
        totals["share_of_rejections"] = (totals["rows"] / max(int(totals["rows"].sum()), 1)).round(4)
        rbody = _img(images["rejections"], "rejections per day and rule") + html_table(totals)
    else:
        rbody = '<p class="empty">No rejected rows.</p>'
    parts.append(_section("rejections", "Rows the daily filters removed, by the rule that removed them and the day "
                          "the generation was created.", rbody))

    if rev:
        rtable = pd.DataFrame({"state": list(rev), "examples": list(rev.values())})
        facts = [f"{k.replace('_', ' ')}: {_fmt(review_block[k])}" for k in
                 ("reviewed_share", "cohen_kappa", "fleiss_kappa", "mean_item_agreement", "clusters_excluded",
                  "clusters_renamed") if review_block.get(k) is not None]
        vbody = (_img(images["review"], "review outcomes") + html_table(rtable)
                 + (f'<p class="note">{html.escape("; ".join(facts))}</p>' if facts else ""))
    else:
        vbody = ('<p class="empty">No reviews yet: nobody has reviewed a sampled example. Reviews come from '
                 'Label Studio or a spreadsheet import (review_decisions).</p>')
    parts.append(_section("review", "What reviewers decided about sampled examples: rejected ones are left out of "
                          "the export, edited ones ship with the reviewer's reply.", vbody))

    if experiments is not None and len(experiments):
        ebody = html_table(experiments, [c for c in EXPERIMENT_COLUMNS if c in experiments.columns]
                           + [c for c in experiments.columns if c not in EXPERIMENT_COLUMNS], widths={"error": 80})
    else:
        ebody = ('<p class="empty">No experiments table: materialize clustering_experiments to compare embedding '
                 'backends and clustering algorithms here.</p>')
    parts.append(_section("experiments", "Embedding backends and clustering algorithms compared on the pool "
                          "(higher silhouette, NPMI, diversity, ARI and NMI are better; lower Davies-Bouldin, "
                          "outlier share, largest share and Gini are better).", ebody))

    nav = "<nav>" + "".join(f'<a href="#{k}">{html.escape(v)}</a>' for k, v in SECTIONS.items()) + "</nav>"
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="lead">{html.escape((manifest or {}).get("dataset", "finetuning_dataset"))} · '
        f'generated {html.escape(generated_at)}</p>'
        f"{nav}{''.join(parts)}</main></body></html>\n"
    )
    return Report(html=page, images=images, summary=summary, map_layout=placing["layout"])
