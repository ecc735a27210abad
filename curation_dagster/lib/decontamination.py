"""Decontamination: find training candidates that share word n-grams with a registered evaluation set.

The team registers evaluation sets as files (`DecontaminationSettings.eval_sets`):

* JSONL (`.jsonl`, `.ndjson`) or a JSON array (`.json`) of objects, or CSV (`.csv`, header row);
* an item's text is its `text` field, else its `messages` (a chat record: the contents joined; a JSON
  string in CSV), else its `prompt` and `completion` (either or both);
* an item's id is its `id` field, else its 1-based line (JSONL), element (JSON) or data-row (CSV) number.

Texts are normalised (NFKC, case folded, punctuation to spaces, whitespace collapsed) and cut into word
n-grams (default 13, as in the GPT-3 and Llama contamination studies). Each n-gram is hashed to a 64-bit
integer (blake2b per word, then a polynomial over the n word hashes: deterministic across processes,
collisions negligible) and the index keeps one sorted uint64 array of n-gram hashes with a parallel
int32 array of item numbers: ~12 bytes per distinct (item, n-gram), so 100,000 items of ~100 words hold
about 10 M entries, ~120 MB. A candidate is contaminated by an item when they share at least
`min_overlap` distinct n-grams. Items shorter than n words but with at least `min_words` words are
indexed by their whole word sequence, so a short eval question copied verbatim is still caught.

A paraphrase shares no 13-word run with its source and is not flagged; that is the known limit of
n-gram decontamination (an embedding-based check would catch it).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from curation_dagster.lib.text import normalize_for_dedup

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the polynomial n-gram hash


@dataclass(frozen=True)
class DecontaminationSettings:
    """Which evaluation sets to guard and how strictly; every field is meant to be run config."""

    eval_sets: tuple[str, ...] = ()  # file paths; "name=path" names the set, else the file stem does
    n: int = 13  # words per n-gram
    min_overlap: int = 1  # distinct shared n-grams that make a candidate contaminated
    min_words: int = 8  # eval items shorter than n words but at least this long are matched whole

    def __post_init__(self) -> None:
        if self.n < 1 or self.min_overlap < 1 or self.min_words < 1:
            raise ValueError("n, min_overlap and min_words must be >= 1")


class EvalItem(NamedTuple):
    eval_set: str
    eval_id: str
    text: str


class Contamination(NamedTuple):
    row_index: int  # position of the candidate in the texts passed to find_contamination
    eval_set: str
    eval_id: str
    overlap: int  # distinct n-grams the candidate shares with the eval item


# ------------------------------------------------------------------------------------------------
# reading evaluation sets
# ------------------------------------------------------------------------------------------------


def _messages_text(messages) -> str | None:
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            return messages
    if isinstance(messages, dict):
        messages = messages.get("messages")
    if not isinstance(messages, list):
        return None
    parts = []
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else m
        if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(content, str):
            parts.append(content)
    return "\n".join(parts) or None


def item_text(record: dict) -> str | None:
    """The text of one eval record: `text`, else `messages`, else `prompt` + `completion`; None if none."""
    if isinstance(record.get("text"), str) and record["text"].strip():
        return record["text"]
    if record.get("messages") not in (None, ""):
        text = _messages_text(record["messages"])
        if text and text.strip():
            return text
    parts = [record[k] for k in ("prompt", "completion") if isinstance(record.get(k), str) and record[k].strip()]
    return "\n".join(parts) or None


def _split_spec(spec: str | Path) -> tuple[str, Path]:
    s = str(spec)
    if "=" in s and not Path(s).exists():
        name, path = s.split("=", 1)
        return name.strip(), Path(path.strip())
    return Path(s).stem, Path(s)


def load_eval_set(spec: str | Path) -> tuple[list[EvalItem], int]:
    """(items of one eval set file, number of records without any text field, which are skipped)."""
    name, path = _split_spec(spec)
    suffix = path.suffix.lower()
    records: list[tuple[int, object]] = []
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            records = list(enumerate(csv.DictReader(f), 1))
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        records = list(enumerate(data if isinstance(data, list) else [data], 1))
    else:  # .jsonl, .ndjson and anything else: one JSON object per line
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append((i, json.loads(line)))
                    except ValueError as exc:
                        raise ValueError(f"{path}:{i} is not JSON: {exc}") from None
    items, skipped = [], 0
    for i, rec in records:
        text = item_text(rec) if isinstance(rec, dict) else None
        if text is None:
            skipped += 1
            continue
        rid = rec.get("id")
        items.append(EvalItem(name, str(rid) if rid not in (None, "") else str(i), text))
    return items, skipped


# ------------------------------------------------------------------------------------------------
# hashing
# ------------------------------------------------------------------------------------------------


class _WordHasher:
    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def _new(self, w: str) -> int:
        h = self._cache[w] = int.from_bytes(hashlib.blake2b(w.encode("utf-8", "surrogatepass"),
                                                            digest_size=8).digest(), "little")
        return h

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        get, new = self._cache.get, self._new
        return np.array([get(w) or new(w) for w in words], dtype=np.uint64)


def normalized_words(text: str) -> list[str]:
    return normalize_for_dedup(text).split()


def ngram_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """Distinct 64-bit hashes of every run of n consecutive words (empty when there are fewer)."""
    m = len(word_hashes) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    acc = np.full(m, np.uint64(n), dtype=np.uint64)  # the length is part of the hash
    with np.errstate(over="ignore"):
        for k in range(n):
            acc = acc * _MULT + word_hashes[k : k + m]
    return np.unique(acc)


# ------------------------------------------------------------------------------------------------
# the index
# ------------------------------------------------------------------------------------------------


class EvalIndex:
    """N-gram index over evaluation items; `find_contamination(texts)` flags training candidates."""

    def __init__(self, items: Iterable[EvalItem], n: int = 13, min_overlap: int = 1, min_words: int = 8,
                 skipped: int = 0) -> None:
        self.n, self.min_overlap, self.min_words, self.skipped = n, min_overlap, min_words, skipped
        self._hash_words = _WordHasher()
        self.items: list[EvalItem] = []
        hashes, owners = [], []
        short_lengths: set[int] = set()
        for item in items:
            words = normalized_words(item.text)
            length = n if len(words) >= n else len(words)
            if length < min(n, min_words):
                continue  # too short to match without flagging common phrases
            if length < n:
                short_lengths.add(length)
            grams = ngram_hashes(self._hash_words(words), length)
            hashes.append(grams)
            owners.append(np.full(len(grams), len(self.items), dtype=np.int32))
            self.items.append(item)
        self.short_lengths = tuple(sorted(short_lengths))
        h = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
        o = np.concatenate(owners) if owners else np.empty(0, dtype=np.int32)
        order = np.argsort(h, kind="stable")
        self._hashes, self._owners = h[order], o[order]

    @classmethod
    def from_settings(cls, settings: DecontaminationSettings) -> "EvalIndex":
        items, skipped = [], 0
        for spec in settings.eval_sets:
            got, miss = load_eval_set(spec)
            items += got
            skipped += miss
        return cls(items, settings.n, settings.min_overlap, settings.min_words, skipped)

    @property
    def eval_sets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.eval_set for i in self.items))

    @property
    def n_grams(self) -> int:
        return len(self._hashes)

    def find_contamination(self, texts: Sequence[str | None], min_overlap: int | None = None) -> list[Contamination]:
        """Every (candidate, eval item) pair sharing at least min_overlap distinct n-grams, by row then
        most overlap then eval set and id. Non-text candidates are skipped."""
        need = self.min_overlap if min_overlap is None else min_overlap
        if not len(self._hashes):
            return []
        q_hash, q_row = [], []
        for row, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                continue
            wh = self._hash_words(normalized_words(text))
            grams = [ngram_hashes(wh, length) for length in (self.n, *self.short_lengths)]
            g = np.concatenate(grams) if len(grams) > 1 else grams[0]
            q_hash.append(g)
            q_row.append(np.full(len(g), row, dtype=np.int64))
        if not q_hash:
            return []
        qh, qr = np.concatenate(q_hash), np.concatenate(q_row)
        lo = np.searchsorted(self._hashes, qh, side="left")
        hi = np.searchsorted(self._hashes, qh, side="right")
        hit = hi > lo
        if not hit.any():
            return []
        qr, lo, hi = qr[hit], lo[hit], hi[hit]
        counts = hi - lo  # one query n-gram can belong to several eval items
        rows = np.repeat(qr, counts)
        starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        owners = self._owners[starts + np.arange(counts.sum())]
        pairs, overlap = np.unique(np.stack([rows, owners.astype(np.int64)], axis=1), axis=0, return_counts=True)
        out = [Contamination(int(r), self.items[o].eval_set, self.items[o].eval_id, int(c))
               for (r, o), c in zip(pairs, overlap) if c >= need]
        return sorted(out, key=lambda x: (x.row_index, -x.overlap, x.eval_set, x.eval_id))


def build_index(settings: DecontaminationSettings) -> EvalIndex:
    return EvalIndex.from_settings(settings)


_INDEX_CACHE: dict[tuple, EvalIndex] = {}


def contamination_index(settings: DecontaminationSettings) -> EvalIndex:
    """The index for these settings, built once per process and rebuilt when an eval file changes
    (a backfill's partitions share one build)."""
    stamp = []
    for spec in settings.eval_sets:
        path = _split_spec(spec)[1]
        stat = path.stat() if path.exists() else None
        stamp.append((str(spec), stat.st_mtime_ns if stat else None, stat.st_size if stat else None))
    key = (settings, tuple(stamp))
    if key not in _INDEX_CACHE:
        _INDEX_CACHE.clear()  # one set of eval files at a time: no unbounded growth
        _INDEX_CACHE[key] = EvalIndex.from_settings(settings)
    return _INDEX_CACHE[key]


def find_contamination(texts: Sequence[str | None], index: EvalIndex | DecontaminationSettings) -> list[Contamination]:
    """Convenience: `index.find_contamination(texts)`, building the index first when given settings."""
    idx = index if isinstance(index, EvalIndex) else EvalIndex.from_settings(index)
    return idx.find_contamination(texts)
