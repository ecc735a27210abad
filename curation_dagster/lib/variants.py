"""Question variants and negative examples, derived from rows the pipeline already has.

Offline variants (`MAKERS`: punctuation, casing, whitespace, typos) rewrite a sampled example's
instruction the way real users vary a request; an LLM paraphrase (`build_paraphrase_request` +
`parse_paraphrase`) says it with other words. A negative example pairs a document question (doc_qa
row) with a *wrong* passage, the most lexically similar chunk of another section (`pick_wrong_chunks`),
and an answer that says the passage does not hold it (`NegativeSettings.refusal`).

Every derived row is a generation row (the data contract) keeping its source's template_id and
split group: `source_group` is the source's own one when it has it (doc_qa: the chunk), else
`variant:<source generation_id>`, which the export also gives the source (`mix_variants`), so a source
and its variants are always on one split (lib.splits). Provenance: `derived_from` (the source's
generation_id) and `derivation` ("variant:typos", "paraphrase", "negative").

Deterministic: each maker's randomness is a `random.Random` seeded by a stable hash of (seed,
generation_id, maker name), the sources are chosen by a seeded hash of their id, and the wrong chunk is
the most similar one with the smallest chunk_id on a tie. Pure functions, no Dagster.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from curation_dagster.lib.doc_qa import DOC_QA_CLUSTER_ID, DOC_QA_CLUSTER_NAME
from curation_dagster.lib.llm import ChatRequest, unfenced
from curation_dagster.lib.text import normalize_for_dedup, stable_unit_hash

PROMPT_VERSION = "paraphrase/1"
#: provenance columns of a derived row
DERIVED_COLUMNS = ["derived_from", "derivation"]
PARAPHRASE = "paraphrase"
NEGATIVE = "negative"
VARIANT_PREFIX = "variant:"
#: the refusal a negative example answers with; {heading}: the wrong passage's section (or file)
DEFAULT_REFUSAL = "The passage does not say; it covers {heading} instead."

# Spans a maker never edits: code (fenced blocks, `inline`), URLs, and any token with a digit.
_PROTECTED_RE = re.compile(r"```.*?```|`[^`\n]*`|(?:https?://|www\.)\S+|\S*\d\S*", re.DOTALL)
_WORD_RE = re.compile(r"[^\W\d_]{4,}")
_QUESTION_WORDS = {"who", "what", "when", "where", "why", "how", "which", "can", "could", "should", "would",
                   "is", "are", "do", "does", "did", "will", "may", "whose", "whom"}


def variant_rng(seed: int, generation_id: str, name: str) -> random.Random:
    """The maker's own random generator: a stable hash of (seed, generation_id, name), never global state."""
    digest = hashlib.blake2b(f"{seed}\x1f{generation_id}\x1f{name}".encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _segments(text: str) -> list[tuple[str, bool]]:
    """`text` as (piece, editable) pieces: code spans, URLs and tokens with digits are not editable."""
    out, pos = [], 0
    for m in _PROTECTED_RE.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], True))
        out.append((m.group(0), False))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], True))
    return out


def _edit_free_text(text: str, fn: Callable[[str], str]) -> str:
    return "".join(fn(piece) if editable else piece for piece, editable in _segments(text))


def punctuation(text: str, rng: random.Random) -> str:
    """Drop the final ? . or !, or add one (? after a question word, else .), or strip commas
    (outside code and URLs)."""
    body = text.rstrip()
    ways = ["final"] + (["commas"] if any("," in p for p, e in _segments(text) if e) else [])
    if rng.choice(ways) == "commas":
        return _edit_free_text(text, lambda s: re.sub(r",(\s?)", r"\1", s))
    if body[-1:] in "?.!" and body:
        return body[:-1].rstrip()
    first = (body.split() or [""])[0].lower()
    return body + ("?" if first in _QUESTION_WORDS else ".")


def casing(text: str, rng: random.Random) -> str:
    """All lower case, or sentence case (lower, then the first letter upper), whichever of them differs
    from `text` (the seeded choice when both do); code and URLs unchanged."""
    lowered = _edit_free_text(text, str.lower)
    m = re.search(r"[^\W\d_]", lowered)
    sentence = (lowered[:m.start()] + lowered[m.start()].upper() + lowered[m.start() + 1:]
                if m is not None and _is_free(lowered, m.start()) else lowered)
    ways = [w for w in (lowered, sentence) if w != text] or [lowered]
    return ways[0] if len(ways) == 1 else rng.choice(ways)


def _is_free(text: str, index: int) -> bool:
    pos = 0
    for piece, editable in _segments(text):
        if pos <= index < pos + len(piece):
            return editable
        pos += len(piece)
    return False


def whitespace(text: str, rng: random.Random) -> str:
    """Collapse runs of spaces, or double one or two spaces, or turn one space into a line break;
    never inside code. (Leading and trailing whitespace would not survive the export, which strips
    the user turn, so none is added there.)"""
    ways = ["double", "newline"] + (["collapse"] if any(re.search(r"[ \t]{2,}", p) for p, e in _segments(text) if e) else [])
    way = rng.choice(ways)
    if way == "collapse":
        return _edit_free_text(text, lambda s: re.sub(r"[ \t]{2,}", " ", s))
    spots = [(i, m.start()) for i, (p, e) in enumerate(_segments(text)) if e for m in re.finditer(r"(?<=\S) (?=\S)", p)]
    if not spots:
        return text
    chosen = set(rng.sample(spots, min(len(spots), 1 if way == "newline" else rng.choice((1, 2)))))
    pieces = []
    for i, (p, e) in enumerate(_segments(text)):
        if e:
            for at in sorted((a for j, a in chosen if j == i), reverse=True):
                p = p[:at] + ("\n" if way == "newline" else "  ") + p[at + 1:]
        pieces.append(p)
    return "".join(pieces)


def typos(text: str, rng: random.Random) -> str:
    """One or two typos, each in its own word of 4+ letters: two adjacent letters swapped or one letter
    dropped (never the first). Never inside code spans, URLs or tokens with digits."""
    segs = _segments(text)
    spots = [(i, m.start(), m.end()) for i, (p, e) in enumerate(segs) if e for m in _WORD_RE.finditer(p)]
    if not spots:
        return text
    chosen = rng.sample(spots, min(len(spots), rng.choice((1, 2))))
    pieces = [p for p, _ in segs]
    for i, start, end in sorted(chosen, key=lambda s: (s[0], -s[1])):
        word = pieces[i][start:end]
        swaps = [k for k in range(1, len(word) - 1) if word[k] != word[k + 1]]
        if swaps and rng.random() < 0.5:
            k = rng.choice(swaps)
            new = word[:k] + word[k + 1] + word[k] + word[k + 2:]
        else:
            k = rng.randrange(1, len(word))
            new = word[:k] + word[k + 1:]
        pieces[i] = pieces[i][:start] + new + pieces[i][end:]
    return "".join(pieces)


#: the offline makers, by name: function(text, rng) -> text
MAKERS: dict[str, Callable[[str, random.Random], str]] = {
    "punctuation": punctuation, "casing": casing, "whitespace": whitespace, "typos": typos}


def make_variant(text: str, generation_id: str, makers: tuple[str, ...], seed: int) -> tuple[str, str] | None:
    """(maker name, variant) from the first of `makers`, in an order seeded by the generation id, whose
    output differs from `text` (as the export would see it: stripped); None when none does."""
    order = sorted(makers, key=lambda n: (stable_unit_hash(seed, "maker", generation_id, n), n))
    for name in order:
        out = MAKERS[name](text, variant_rng(seed, generation_id, name))
        if out.strip() and out.strip() != text.strip():
            return name, out
    return None


# --- LLM paraphrases -------------------------------------------------------------------------------

PARAPHRASE_SYSTEM = (
    "You paraphrase requests for a fine-tuning dataset. Rewrite the user's request with other words so it "
    "asks for exactly the same thing: same meaning, same details, same language, about the same length. "
    "Keep code, names, numbers and URLs verbatim. Do not answer the request. Reply with JSON only, no prose "
    "and no code fence: {\"paraphrase\": \"...\"}"
)


def build_paraphrase_request(text: str, temperature: float = 0.0, max_tokens: int = 400,
                             json_mode: bool = True) -> ChatRequest:
    params: dict = {"max_tokens": max_tokens}
    if json_mode:
        params["response_format"] = {"type": "json_object"}
    user = f"Paraphrase this request.\n\n<request>\n{text}\n</request>"
    return ChatRequest(({"role": "system", "content": PARAPHRASE_SYSTEM}, {"role": "user", "content": user}),
                       temperature=temperature, params=params, prompt_version=PROMPT_VERSION)


def parse_paraphrase(answer: str | None, source: str) -> tuple[str | None, str | None]:
    """(paraphrase, None) from an answer that is exactly {"paraphrase": "<non-empty string>"} (a
    whole-answer ```json fence tolerated), else (None, why): never a guess. A paraphrase equal to the
    source after normalize_for_dedup is dropped (why = "identical to the source")."""
    if answer is None:
        return None, "no answer"
    try:
        data = json.loads(unfenced(answer))
    except ValueError:
        return None, "answer is not JSON"
    if not isinstance(data, dict) or set(data) != {"paraphrase"}:
        return None, "answer is not an object with exactly a \"paraphrase\" key"
    text = data["paraphrase"]
    if not isinstance(text, str) or not text.strip():
        return None, "paraphrase is not a non-empty string"
    if normalize_for_dedup(text) == normalize_for_dedup(source):
        return None, "identical to the source"
    return text.strip(), None


# --- negatives -------------------------------------------------------------------------------------

def _section(doc_path, heading) -> tuple[str, str]:
    return str(doc_path or ""), str(heading or "")


def _related(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Same section, or one contains the other in the same document (a parent heading, or the text before
    the first heading): such a passage may well hold the answer, so it is no wrong context."""
    if a[0] != b[0]:
        return False
    ha, hb = a[1], b[1]
    return ha == hb or not ha or not hb or ha.startswith(hb + " > ") or hb.startswith(ha + " > ")


def pick_wrong_chunks(chunks: pd.DataFrame) -> dict[str, str | None]:
    """chunk_id -> the chunk most lexically similar to it (TF-IDF cosine over the chunk texts) that lies
    in another section (another doc_path or heading, so never the chunk itself nor another part of its
    section, and never a section containing it or contained in it: `_related`); the smallest chunk_id on
    a tie; None when no chunk is unrelated.
    `chunks`: chunk_id, doc_path, heading, text (one row per chunk)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    chunks = chunks.drop_duplicates("chunk_id").sort_values("chunk_id", kind="mergesort").reset_index(drop=True)
    if len(chunks) < 2:
        return {c: None for c in chunks["chunk_id"]}
    tfidf = TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b[^\W\d_]{2,}\b").fit_transform(
        chunks["text"].fillna("").astype(str))
    sims = (tfidf @ tfidf.T).toarray()
    sections = [_section(d, h) for d, h in zip(chunks["doc_path"], chunks["heading"])]
    ids = chunks["chunk_id"].tolist()
    out = {}
    for i, cid in enumerate(ids):
        others = [j for j in range(len(ids)) if not _related(sections[j], sections[i])]
        out[cid] = ids[max(others, key=lambda j: (round(float(sims[i, j]), 12), -j))] if others else None
    return out


# --- rows ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VariantSettings:
    variant_share: float = 0.0  # offline variants for up to this share of the sampled examples (0: none)
    paraphrase_share: float = 0.0  # LLM paraphrases for up to this share of the sampled examples
    negative_share: float = 0.0  # negatives: up to this share of the sampled examples' count, from QA rows
    makers: tuple[str, ...] = tuple(MAKERS)  # the offline makers to use
    refusal: str = DEFAULT_REFUSAL
    seed: int = 0
    temperature: float = 0.0
    max_tokens: int = 400
    json_mode: bool = True

    def __post_init__(self) -> None:
        for name in ("variant_share", "paraphrase_share", "negative_share"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be in [0, 1], not {v}")
        unknown = [m for m in self.makers if m not in MAKERS]
        if unknown:
            raise ValueError(f"unknown variant makers {unknown}; known: {sorted(MAKERS)}")
        if self.variant_share > 0 and not self.makers:
            raise ValueError("variant_share > 0 needs at least one maker")
        if not (self.refusal or "").strip():
            raise ValueError("refusal is empty: negatives need the answer that says the passage lacks it")


def group_of(row: dict) -> str:
    """The split group a derived row shares with its source: the source's source_group when set, else
    `variant:<generation_id>` (the export gives the source that group too, lib.variants.mix_variants)."""
    g = row.get("source_group")
    if isinstance(g, str) and g.strip():
        return g.strip()
    return f"variant:{row['generation_id']}"


def choose(df: pd.DataFrame, k: int, seed: int, purpose: str) -> pd.DataFrame:
    """k rows of df, the lowest seeded hashes of their ids (stable as rows are added)."""
    if k <= 0 or df.empty:
        return df.head(0)
    h = [stable_unit_hash(seed, purpose, g) for g in df["generation_id"].astype(str)]
    return df.assign(_h=h).sort_values(["_h", "generation_id"], kind="mergesort").head(k).drop(columns="_h")


def share_count(share: float, base: int) -> int:
    return int(share * base + 0.5 + 1e-9) if share > 0 else 0


def derived_row(src: dict, derivation: str, **changes) -> dict:
    out = dict(src)
    out.update(changes)
    out["generation_id"] = f"{src['generation_id']}#{derivation.replace(':', '-')}"
    out["source_group"] = group_of(src)
    out["derived_from"] = str(src["generation_id"])
    out["derivation"] = derivation
    return out


def offline_variants(sampled: pd.DataFrame, s: VariantSettings) -> tuple[list[dict], dict]:
    """One offline variant of the instruction for each of share_count(variant_share) sampled rows; and
    counts {made, identical (no maker changed it)}."""
    rows, identical = [], 0
    for src in choose(sampled, share_count(s.variant_share, len(sampled)), s.seed, "variant").to_dict("records"):
        made = make_variant(str(src.get("instruction") or ""), str(src["generation_id"]), s.makers, s.seed)
        if made is None:
            identical += 1
            continue
        name, text = made
        rows.append(derived_row(src, VARIANT_PREFIX + name, instruction=text))
    return rows, {"made": len(rows), "identical": identical}


def paraphrase_sources(sampled: pd.DataFrame, s: VariantSettings) -> pd.DataFrame:
    return choose(sampled, share_count(s.paraphrase_share, len(sampled)), s.seed, PARAPHRASE)


def paraphrase_rows(sources: pd.DataFrame, answers: list) -> tuple[list[dict], dict]:
    """Rows from the endpoint's answers (lib.llm.ChatResult, one per source, in order), and the drops by
    reason (request failed, not JSON, identical to the source, ...)."""
    rows, dropped = [], {}
    for src, res in zip(sources.to_dict("records"), answers):
        if not res.ok:
            why = "request failed"
        else:
            text, why = parse_paraphrase(res.text, str(src.get("instruction") or ""))
        if why:
            dropped[why] = dropped.get(why, 0) + 1
            continue
        rows.append(derived_row(src, PARAPHRASE, instruction=text))
    return rows, dropped


def negative_rows(qa: pd.DataFrame, base: int, s: VariantSettings) -> tuple[list[dict], dict]:
    """Negatives for share_count(negative_share, base) QA rows: the question with the most similar chunk
    of another section as its passage (input_message) and the refusal as its answer; doc_path, chunk_id
    and heading name that wrong chunk. Counts {made, no_other_section}."""
    if qa is None or qa.empty or s.negative_share <= 0:
        return [], {"made": 0, "no_other_section": 0}
    chunks = qa.rename(columns={"input_message": "text"})[["chunk_id", "doc_path", "heading", "text"]]
    wrong = pick_wrong_chunks(chunks)
    by_id = chunks.drop_duplicates("chunk_id").set_index("chunk_id")
    rows, lonely = [], 0
    for src in choose(qa, share_count(s.negative_share, base), s.seed, NEGATIVE).to_dict("records"):
        other = wrong.get(src["chunk_id"])
        if other is None:
            lonely += 1
            continue
        c = by_id.loc[other]
        heading = str(c["heading"] or "") or str(c["doc_path"])
        rows.append(derived_row(src, NEGATIVE, input_message=c["text"], output=s.refusal.format(heading=heading),
                                doc_path=c["doc_path"], chunk_id=other, heading=str(c["heading"] or ""),
                                cluster_id=DOC_QA_CLUSTER_ID, cluster_name=DOC_QA_CLUSTER_NAME))
    return rows, {"made": len(rows), "no_other_section": lonely}


def mix_variants(df: pd.DataFrame, derived: pd.DataFrame | None) -> tuple[pd.DataFrame, dict]:
    """`df` (the rows about to be exported) with the derived rows added: variants and paraphrases only
    when their source is among df's rows (a source a reviewer or the judge removed takes its variants
    with it), negatives always (their group is their chunk). A source without a source_group gets its
    variants' one, so lib.splits keeps them on one split. Counts per derivation in the summary."""
    summary = {"available": 0 if derived is None else len(derived), "mixed": {}}
    if derived is None or derived.empty or df.empty:
        return df, summary
    ids = set(df["generation_id"].astype(str))
    keep = derived[(derived["derivation"] == NEGATIVE) | derived["derived_from"].astype(str).isin(ids)]
    keep = keep[~keep["generation_id"].astype(str).isin(ids)].copy()
    if keep.empty:
        return df, summary
    df = df.copy()
    if "source_group" not in df.columns:
        df["source_group"] = None
    group = dict(zip(keep["derived_from"].astype(str), keep["source_group"]))
    missing = df["source_group"].isna() | (df["source_group"].astype(str).str.strip() == "")
    df.loc[missing, "source_group"] = df.loc[missing, "generation_id"].astype(str).map(group)
    if "model_version" in df.columns:  # the sample's topic model (lib.dataset.topic_model_version reads row 0)
        keep["model_version"] = df["model_version"].iloc[0]
    if "quality_score" in keep.columns:
        keep["quality_score"] = pd.to_numeric(keep["quality_score"], errors="coerce").fillna(0.5)
    for c in df.columns:
        if c not in keep.columns:
            keep[c] = None
    extra = [c for c in keep.columns if c not in df.columns and c in (*DERIVED_COLUMNS, "doc_path", "chunk_id", "heading")]
    out = pd.concat([df, keep[list(df.columns) + extra]], ignore_index=True)
    summary["mixed"] = {str(k): int(v) for k, v in keep["derivation"].value_counts().sort_index().items()}
    return out, summary
