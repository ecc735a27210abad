"""Readable cluster names from class-based TF-IDF (c-TF-IDF) keywords, as BERTopic computes them."""

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


def cluster_names(docs: list[str], labels: list[int], top_n: int = 4, outlier_label: int = -1) -> dict[int, str]:
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
