"""Readable cluster names from class-based TF-IDF (c-TF-IDF) keywords, as BERTopic computes them.

Two offline methods (an LLM can rename on top: lib.llm_naming):

* ``ctfidf``: the top 3 c-TF-IDF words joined with " / " ("invoice / delayed / inv"). No model.
* ``keybert_mmr`` (KeyBERT-inspired, as BERTopic's KeyBERTInspired + MaximalMarginalRelevance): the top
  30 c-TF-IDF words of a cluster are re-ranked by cosine similarity to the embedding of its
  representative documents, picked by MMR (diversity 0.3) so near-synonyms do not repeat, with dates
  and abbreviations of a kept word dropped; 2-3 capitalised words joined with " · "
  ("Invoice · Delayed · Refund"), unique across clusters. Same input, same names.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

# Words every drafting request shares; they say nothing about the topic.
EXTRA_STOPWORDS = frozenset(
    "write email message draft short reply quick note send help need want asking ask make "
    "sure mention politely tell let please polite friendly formal brief".split()
)


def ctfidf_keywords(docs: list[str], labels: list[int], top_n: int = 5) -> dict[int, list[str]]:
    """Top keywords per label: term frequency in the class, times log(1 + avg words / term frequency)."""
    classes = sorted(set(labels))
    joined = {c: [] for c in classes}
    for d, c in zip(docs, labels):
        joined[c].append(d or "")
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vec = CountVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | EXTRA_STOPWORDS),
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b",
        lowercase=True,
    )
    try:
        counts = vec.fit_transform([" ".join(joined[c]) for c in classes]).toarray().astype(float)
    except ValueError:  # empty vocabulary
        return {c: [] for c in classes}
    vocab = np.array(vec.get_feature_names_out())
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    avg_words = counts.sum() / len(classes)
    idf = np.log(1 + avg_words / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    out: dict[int, list[str]] = {}
    for row, c in enumerate(classes):
        # stable tie-break: score desc, then word
        order = sorted(range(len(vocab)), key=lambda j: (-scores[row, j], vocab[j]))[:top_n]
        out[c] = [str(vocab[j]) for j in order if scores[row, j] > 0]
    return out


def ctfidf_names(docs: list[str], labels: list[int], top_n: int = 4, outlier_label: int = -1) -> dict[int, str]:
    """The keyword label: the top 3 c-TF-IDF words joined with " / " (no model needed)."""
    kws = ctfidf_keywords(docs, labels, top_n=top_n)
    names = {}
    for c, words in kws.items():
        base = " / ".join(words[:3]) if words else "unnamed"
        names[c] = f"outliers: {base}" if c == outlier_label else base
    # two clusters with the same keywords would be indistinguishable in the UI
    seen: dict[str, int] = {}
    for c in sorted(names):
        n = names[c]
        if n in seen:
            names[c] = f"{n} ({c})"
        seen.setdefault(n, c)
    return names


# --- KeyBERT-inspired re-ranking + MMR ------------------------------------------------------------

#: Dates say when a request was made, not what it is about; they never name a cluster.
CALENDAR_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight".split()
)
#: How the words of a keybert_mmr label are joined: "Invoice · Delayed · Refund".
LABEL_SEPARATOR = " · "
_VOWELS = set("aeiouy")


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def is_abbreviation(short: str, long: str) -> bool:
    """`short` abbreviates `long`: a clipped prefix of at most half its length ("inv" / "invoice", "admin" / "administration"; not "sync" / "syncing") or a
    consonant skeleton with the same first letter ("mgmt" / "management")."""
    if len(short) >= len(long):
        return False
    if long.startswith(short) and len(short) <= max(3, len(long) // 2):
        return True
    return (len(short) <= 4 and short[0] == long[0] and not (set(short[1:]) & _VOWELS)
            and _is_subsequence(short, long))


def is_variant(a: str, b: str) -> bool:
    """Same word for a label's purpose: one is a prefix of the other ("refund" / "refunds", "sync" /
    "syncing"), an abbreviation of it, or they share a long stem ("schedule" / "scheduling")."""
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    short, long = sorted((a, b), key=lambda w: (len(w), w))
    if long.startswith(short) or is_abbreviation(short, long):
        return True
    common = 0
    for x, y in zip(short, long):
        if x != y:
            break
        common += 1
    return common >= 5 and common >= 0.7 * len(short)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def mmr(relevance: np.ndarray, word_vecs: np.ndarray, words: list[str], k: int, diversity: float = 0.3) -> list[int]:
    """Maximal marginal relevance: each pick maximises (1 - diversity) * relevance - diversity * (its
    highest similarity to a word already picked). Variants of a picked word are never picked.
    Ties break by word, so the order is deterministic."""
    sims = np.round(word_vecs @ word_vecs.T, 6)
    rel = np.round(relevance, 6)
    chosen: list[int] = []
    left = list(range(len(words)))
    while left and len(chosen) < k:
        def score(j: int) -> float:
            redundancy = max((sims[j, i] for i in chosen), default=0.0)
            return (1 - diversity) * rel[j] - diversity * redundancy

        best = min(left, key=lambda j: (-round(score(j), 6), words[j]))
        chosen.append(best)
        left = [j for j in left if j != best and not is_variant(words[j], words[best])]
    return chosen


def _candidates(words: list[str]) -> list[str]:
    """c-TF-IDF candidates without dates and without abbreviations of another candidate (keep "invoice",
    drop "inv"), in their c-TF-IDF order."""
    words = [w for w in words if w not in CALENDAR_WORDS]
    return [w for w in words if not any(is_abbreviation(w, o) for o in words if o != w)]


def representative_indices(members: np.ndarray, vectors: np.ndarray | None, n: int) -> np.ndarray:
    """Positions of the `n` members closest to their centroid (all members, in order, without vectors)."""
    if vectors is None or len(members) <= n:
        return members[:n] if vectors is None else members
    x = _unit(vectors[members])
    sim = np.round(x @ _unit(x.mean(axis=0)), 6)
    order = sorted(range(len(members)), key=lambda i: (-sim[i], int(members[i])))
    return members[np.array(order[:n])]


def _label(words: list[str]) -> str:
    return LABEL_SEPARATOR.join(w.capitalize() for w in words)


def keybert_mmr_ranking(docs: list[str], labels: list[int], model, vectors: np.ndarray | None = None,
                        candidates: int = 30, representative_docs: int = 10, diversity: float = 0.3,
                        top_n: int = 8) -> dict[int, list[str]]:
    """Per label, up to `top_n` words: the top `candidates` c-TF-IDF words re-ranked by cosine similarity
    (with `model`) to the mean embedding of the cluster's representative documents (the members closest
    to the centroid of `vectors`, when given), then picked by MMR so near-synonyms do not repeat."""
    from curation_dagster.lib.embedding import embed_texts

    kws = ctfidf_keywords(docs, labels, top_n=candidates)
    cands = {c: _candidates(w) for c, w in kws.items()}
    labels_arr = np.asarray(labels)
    reps = {c: [docs[i] or "" for i in representative_indices(np.flatnonzero(labels_arr == c), vectors,
                                                               representative_docs)]
            for c in cands}
    vocab = sorted({w for ws in cands.values() for w in ws})
    rep_texts = [t for c in sorted(reps) for t in reps[c]]
    if not vocab:
        return {c: [] for c in cands}
    encoded = embed_texts(model, vocab + rep_texts)
    word_vec = dict(zip(vocab, _unit(encoded[:len(vocab)])))
    out: dict[int, list[str]] = {}
    pos = len(vocab)
    for c in sorted(reps):
        doc_vecs, pos = encoded[pos:pos + len(reps[c])], pos + len(reps[c])
        words = cands[c]
        if not words or not len(doc_vecs):
            out[c] = list(words[:top_n])
            continue
        wv = np.stack([word_vec[w] for w in words])
        relevance = wv @ _unit(doc_vecs.mean(axis=0))
        out[c] = [words[j] for j in mmr(relevance, wv, words, top_n, diversity)]
    return out


def unique_labels(ranked: dict[int, list[str]], words: int = 3, outlier_label: int = -1,
                  fallback: dict[int, str] | None = None) -> dict[int, str]:
    """Compose "Word · Word · Word" labels, unique across clusters (compared as word sets, case-blind).
    Clusters are labelled in id order; a cluster whose label is taken swaps its last word for its next
    ranked word until the label is free, and as a last resort gets its id appended."""
    names: dict[int, str] = {}
    taken: set[frozenset] = set()
    for c in sorted(ranked):
        ws = ranked[c]
        if not ws:
            base = (fallback or {}).get(c) or "Unnamed"
            key = frozenset([base.lower()])
            name = base if key not in taken else f"{base} ({c})"
            taken.add(frozenset([name.lower()]))
            names[c] = name
            continue
        head = ws[:words]
        options = [head] + [head[:-1] + [alt] for alt in ws[len(head):]] if len(head) > 1 else [head]
        pick = next((o for o in options if frozenset(o) not in taken), None)
        if pick is None:
            label = f"{_label(head)} ({c})"
            taken.add(frozenset([label.lower()]))
        else:
            label = _label(pick)
            taken.add(frozenset(pick))
        names[c] = label
    for c in names:
        if c == outlier_label:
            names[c] = f"Outliers: {names[c]}"
    return names


def keybert_mmr_names(docs: list[str], labels: list[int], model, vectors: np.ndarray | None = None,
                      words: int = 3, diversity: float = 0.3, candidates: int = 30,
                      outlier_label: int = -1) -> tuple[dict[int, str], dict[int, list[str]]]:
    """(labels, ranked words) per cluster; see keybert_mmr_ranking and unique_labels."""
    ranked = keybert_mmr_ranking(docs, labels, model, vectors, candidates=candidates, diversity=diversity)
    return unique_labels(ranked, words, outlier_label, fallback=ctfidf_names(docs, labels, outlier_label=outlier_label)), ranked


NAMING_METHODS = ("ctfidf", "keybert_mmr", "llm")


def cluster_names(docs: list[str], labels: list[int], top_n: int = 4, outlier_label: int = -1,
                  method: str = "ctfidf", model=None, vectors: np.ndarray | None = None) -> dict[int, str]:
    """Readable, unique names per label. `method="keybert_mmr"` needs the sentence-transformers `model`
    (without one it falls back to the c-TF-IDF keyword label, which needs no model)."""
    if method not in NAMING_METHODS:
        raise ValueError(f"unknown naming {method!r}; use one of {', '.join(NAMING_METHODS)}")
    if method == "ctfidf" or model is None:
        return ctfidf_names(docs, labels, top_n=top_n, outlier_label=outlier_label)
    return keybert_mmr_names(docs, labels, model, vectors, outlier_label=outlier_label)[0]
