"""Human review: which examples people should see first, how several reviews become one decision,
and how well reviewers agree. Pure logic; the Label Studio side lives in the Dagster resources.

Uncertainty (higher = review sooner), each term in [0, 1]:
- cluster: 1 for an outlier, else 1 - probability (cosine similarity to its cluster's centroid);
- quality: 1 at the quality threshold, falling linearly to 0 at `quality_band` away from it;
- rules: 1 when a rule nearly fired (`near_misses` > 0), else 0.
The score is their weighted mean (weights 0.4 / 0.4 / 0.2); ties go to the smaller generation_id.

Consensus over the reviews of one item:
- fewer than `min_reviews` reviews: `pending` (kept at the top of the queue, never used);
- an adjudicator's review, when there is one, decides;
- otherwise the strict majority of accept / reject decides; a tie is `adjudication`;
- a majority to accept with edits is `edited`: the edited text most of the accepting reviewers wrote
  (a tie between different texts is `adjudication`); rejections carry every reason given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

VERDICTS = ("accept", "reject")
ANNOTATION_COLUMNS = ("generation_id", "reviewer", "verdict", "reasons", "edited_output", "adjudicator", "source",
                      "reviewed_at", "created_day")  # created_day: the example's daily partition
STATES = ("pending", "accepted", "rejected", "edited", "adjudication")
REJECT_REASONS = ("hallucination", "contradicts_input", "wrong_tone", "off_template", "pii", "other")


def near_threshold(quality_scores, queued, min_quality: float, band: float) -> list[bool]:
    """True for the rows worth a reviewer's look although unsampled: a quality score at or just above
    the filter's threshold (min_quality <= score <= min_quality + band) and not already in the queue
    (`queued`, aligned). A missing score is never near."""
    def near(q) -> bool:
        try:
            v = float(q)
        except (TypeError, ValueError):  # None, pandas NA
            return False
        return v == v and min_quality <= v <= min_quality + band  # v == v: not NaN
    return [near(q) and not bool(inq) for q, inq in zip(quality_scores, queued)]


def uncertainty(probability: float | None, is_outlier: bool, quality: float | None, min_quality: float,
                near_misses: int = 0, quality_band: float = 0.2,
                weights: tuple[float, float, float] = (0.4, 0.4, 0.2)) -> float:
    cluster = 1.0 if is_outlier or probability is None else min(max(1.0 - float(probability), 0.0), 1.0)
    q = 1.0 if quality is None else max(0.0, 1.0 - abs(float(quality) - min_quality) / quality_band)
    rules = 1.0 if near_misses > 0 else 0.0
    wc, wq, wr = weights
    return round((wc * cluster + wq * q + wr * rules) / (wc + wq + wr), 6)


@dataclass(frozen=True)
class Review:
    reviewer: str
    verdict: str  # "accept" | "reject"
    reasons: tuple[str, ...] = ()
    edited_text: str | None = None
    adjudicator: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")


@dataclass(frozen=True)
class Decision:
    state: str
    reviews: int
    text: str | None = None  # the assistant reply (or cluster name) to use when state == "edited"
    reasons: tuple[str, ...] = field(default_factory=tuple)
    adjudicated: bool = False  # an adjudicator's review decided
    agreement: float | None = None  # share of reviews that gave the majority verdict

    @property
    def usable(self) -> bool:
        """May the dataset act on it (accepted, rejected or edited with enough reviews)?"""
        return self.state in ("accepted", "rejected", "edited")


def decide(reviews: list[Review], min_reviews: int = 2) -> Decision:
    n = len(reviews)
    votes = Counter(r.verdict for r in reviews if not r.adjudicator)
    agreement = round(max(votes.values()) / sum(votes.values()), 4) if votes else None
    adjudicated = [r for r in reviews if r.adjudicator]
    if adjudicated:
        return _from_one(adjudicated[-1], n, agreement)
    if n < min_reviews:
        return Decision("pending", n, agreement=agreement)
    if votes["accept"] == votes["reject"]:
        return Decision("adjudication", n, agreement=agreement)
    verdict = "accept" if votes["accept"] > votes["reject"] else "reject"
    majority = [r for r in reviews if r.verdict == verdict]
    if verdict == "reject":
        reasons = tuple(sorted({x for r in majority for x in r.reasons}))
        return Decision("rejected", n, reasons=reasons, agreement=agreement)
    edits = Counter(r.edited_text for r in majority if r.edited_text)
    if not edits:
        return Decision("accepted", n, agreement=agreement)
    (top, k), *rest = edits.most_common()
    if rest and rest[0][1] == k:
        return Decision("adjudication", n, agreement=agreement)
    return Decision("edited", n, text=top, agreement=agreement)


def _from_one(r: Review, n: int, agreement: float | None) -> Decision:
    if r.verdict == "reject":
        return Decision("rejected", n, reasons=tuple(sorted(set(r.reasons))), adjudicated=True, agreement=agreement)
    if r.edited_text:
        return Decision("edited", n, text=r.edited_text, adjudicated=True, agreement=agreement)
    return Decision("accepted", n, adjudicated=True, agreement=agreement)


def cohen_kappa(a: list, b: list) -> float:
    """Cohen's kappa of two reviewers' labels on the same items (1 = perfect, 0 = chance)."""
    if len(a) != len(b) or not a:
        raise ValueError("two equally long, non-empty label lists are needed")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def fleiss_kappa(counts: list[list[int]]) -> float:
    """Fleiss' kappa from an items x categories table of how many reviewers chose each category
    (every item rated by the same number of reviewers)."""
    if not counts:
        raise ValueError("no items")
    raters = sum(counts[0])
    if raters < 2 or any(sum(row) != raters for row in counts):
        raise ValueError("every item needs the same number (>= 2) of ratings")
    n_items = len(counts)
    p_items = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in counts]
    p_bar = sum(p_items) / n_items
    shares = [sum(row[j] for row in counts) / (n_items * raters) for j in range(len(counts[0]))]
    p_e = sum(s * s for s in shares)
    return 1.0 if p_e == 1.0 else (p_bar - p_e) / (1.0 - p_e)


def reviewer_rates(reviews_by_item: dict[str, list[Review]], decisions: dict[str, Decision]) -> dict[str, dict]:
    """Per reviewer: items reviewed, accept / reject / edit rates, and how often they matched the decision."""
    out: dict[str, Counter] = {}
    for item, reviews in reviews_by_item.items():
        final = decisions.get(item)
        for r in reviews:
            c = out.setdefault(r.reviewer, Counter())
            c["reviewed"] += 1
            c[r.verdict] += 1
            c["edited"] += bool(r.edited_text)
            if final and final.usable:
                c["decided"] += 1
                c["agreed"] += (r.verdict == "reject") == (final.state == "rejected")
    return {name: {"reviewed": c["reviewed"], "accept_rate": c["accept"] / c["reviewed"],
                   "reject_rate": c["reject"] / c["reviewed"], "edit_rate": c["edited"] / c["reviewed"],
                   "agreement_with_decision": c["agreed"] / c["decided"] if c["decided"] else None}
            for name, c in sorted(out.items())}


def _adjudicator(row: dict) -> bool:
    """Is the row an adjudicator's review (a bool, or yes/true/1 in a spreadsheet cell)?"""
    return _cell(row.get("adjudicator")).strip().lower() in ("1", "true", "yes", "y")


def _cell(v) -> str:
    """A spreadsheet or frame cell as text: None and NaN (pandas' empty cell) are empty."""
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


def parse_review(row: dict) -> Review | None:
    """One spreadsheet row -> a Review; None when it has no verdict yet; ValueError when it is wrong."""
    verdict = _cell(row.get("verdict")).strip().lower()
    if not verdict:
        return None
    reviewer = _cell(row.get("reviewer")).strip()
    if not reviewer:
        raise ValueError("no reviewer")
    reasons = tuple(r.strip().lower() for r in _cell(row.get("reasons")).split(",") if r.strip())
    unknown = [r for r in reasons if r not in REJECT_REASONS]
    if unknown:
        raise ValueError(f"unknown reasons {unknown}: use {', '.join(REJECT_REASONS)}")
    edited = row.get("edited_output")
    edited = edited.strip() if isinstance(edited, str) and edited.strip() else None
    return Review(reviewer, verdict, reasons, edited, _adjudicator(row))


def decide_all(annotations: list[dict], min_reviews: int = 2,
               key: str = "generation_id") -> tuple[dict[str, Decision], dict[str, list[Review]]]:
    """Decisions per item (`key`: generation_id, or cluster_key for clusters) from annotation rows.
    The latest review of each reviewer counts, an adjudicating review apart from their own."""
    latest: dict[tuple[str, str, bool], dict] = {}
    for row in sorted(annotations, key=lambda r: str(r.get("reviewed_at") or "")):
        latest[(str(row[key]), str(row["reviewer"]), _adjudicator(row))] = row
    by_item: dict[str, list[Review]] = {}
    for (gid, _, _), row in sorted(latest.items()):
        review = parse_review(row)
        if review:
            by_item.setdefault(gid, []).append(review)
    return {gid: decide(reviews, min_reviews) for gid, reviews in by_item.items()}, by_item


def item_fleiss_kappa(by_item: dict[str, list[Review]]) -> float | None:
    """Fleiss' kappa of accept/reject over the items reviewed by the most common number (>= 3) of
    non-adjudicating reviewers; None when no such items (two reviewers: use Cohen's kappa)."""
    sizes = Counter(len([r for r in rs if not r.adjudicator]) for rs in by_item.values())
    sizes = Counter({k: v for k, v in sizes.items() if k >= 3})
    if not sizes:
        return None
    raters = sizes.most_common(1)[0][0]
    table = []
    for rs in by_item.values():
        votes = [r.verdict for r in rs if not r.adjudicator]
        if len(votes) == raters:
            table.append([votes.count(v) for v in VERDICTS])
    if len(table) < 2:
        return None
    return fleiss_kappa(table)


def pairwise_kappa(by_item: dict[str, list[Review]]) -> float | None:
    """Cohen's kappa of accept/reject over the items the two most active reviewers both reviewed
    (adjudicating reviews left out: they settle disagreement, they are not part of it)."""
    by_item = {k: [r for r in rs if not r.adjudicator] for k, rs in by_item.items()}
    counts = Counter(r.reviewer for reviews in by_item.values() for r in reviews)
    if len(counts) < 2:
        return None
    a, b = [name for name, _ in counts.most_common(2)]
    pairs = [(next(r.verdict for r in rs if r.reviewer == a), next(r.verdict for r in rs if r.reviewer == b))
             for rs in by_item.values() if {a, b} <= {r.reviewer for r in rs}]
    if len(pairs) < 2:
        return None
    return cohen_kappa([x for x, _ in pairs], [y for _, y in pairs])
