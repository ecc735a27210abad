"""Cluster names: the c-TF-IDF keyword label (no model) and the KeyBERT-inspired + MMR label."""

import itertools

import numpy as np
import pytest

from curation_dagster.lib.naming import (LABEL_SEPARATOR, cluster_names, is_abbreviation, is_variant,
                                         keybert_mmr_names, mmr, unique_labels)

NAMES = ["Anna", "James", "Maria", "Liam", "Olivia", "Noah", "Emma", "Priya", "Arjun", "Wei"]
TOPICS = {
    0: ["Reply to {n} about the delayed invoice, the inv payment is late and the invoice fee was waived.",
        "Tell {n} the invoice is delayed, inv #{i} will be paid on Monday, sorry for the late payment.",
        "Apologize to {n} for the delayed invoice payment, the invoice goes out Monday."],
    1: ["Invite {n} to the team meeting on Monday in November to plan the quarterly roadmap.",
        "Ask {n} to book a meeting slot next week to go over the project roadmap.",
        "Schedule a planning meeting with {n} on Monday, November 9 for the roadmap review."],
    2: ["Reply to {n}: the app sync error is a known bug, the workaround is to log out and in again.",
        "Support reply for {n}: mobile app not syncing, known bug, fix ships in the next update.",
        "Tell {n} the sync bug in the app is fixed in the next update, until then use the workaround."],
    3: ["Thank {n} for the interview for the designer role, I am still very interested in the position.",
        "Follow up with {n} after my interview for the engineering role, thank them for their time.",
        "Thank-you note to {n} after the job interview, mention the design portfolio we discussed."],
}


def hand_made():
    docs, labels = [], []
    for c, templates in TOPICS.items():
        for i, (t, n) in enumerate(itertools.product(templates, NAMES)):
            docs.append(t.format(n=n, i=1000 + i))
            labels.append(c)
    return docs, labels


def words_of(label: str) -> list[str]:
    return [w.lower() for w in label.split(LABEL_SEPARATOR)]


def test_ctfidf_fallback_needs_no_model():
    docs, labels = hand_made()
    names = cluster_names(docs, labels)
    assert names[0].split(" / ")[0] == "invoice" and len(set(names.values())) == 4
    # asking for keybert_mmr without a model falls back to the same keyword labels
    assert cluster_names(docs, labels, method="keybert_mmr", model=None) == names
    with pytest.raises(ValueError, match="unknown naming"):
        cluster_names(docs, labels, method="bogus")


def test_keybert_mmr_labels_are_short_unique_distinct_and_deterministic(model):
    docs, labels = hand_made()
    vecs = np.asarray(model.encode(docs, normalize_embeddings=True), dtype=np.float32)
    names, ranked = keybert_mmr_names(docs, labels, model, vecs)
    print(names)
    assert sorted(names) == [0, 1, 2, 3]
    assert len({n.lower() for n in names.values()}) == 4
    for c, label in names.items():
        ws = words_of(label)
        assert 2 <= len(ws) <= 3, label
        assert label == LABEL_SEPARATOR.join(w.capitalize() for w in ws)
        # no near-duplicates: not both "invoice" and "inv", "sync" and "syncing", ...
        assert not [(a, b) for a, b in itertools.combinations(ws, 2) if is_variant(a, b)], label
        assert not {"monday", "november"} & set(ws)  # dates never name a topic
        assert ws == ranked[c][:len(ws)]
    assert "invoice" in words_of(names[0]) and "inv" not in words_of(names[0])
    assert {"sync", "syncing", "bug", "workaround"} & set(words_of(names[2]))
    # same input, same names; and without vectors (all members are the representatives) still valid
    assert keybert_mmr_names(docs, labels, model, vecs)[0] == names
    no_vecs = cluster_names(docs, labels, method="keybert_mmr", model=model)
    assert no_vecs == cluster_names(docs, labels, method="keybert_mmr", model=model)
    assert all(2 <= len(words_of(n)) <= 3 for n in no_vecs.values())


def test_abbreviations_and_variants():
    assert is_abbreviation("inv", "invoice") and is_abbreviation("mgmt", "management")
    assert is_abbreviation("admin", "administration") and is_abbreviation("appt", "appointment")
    assert not is_abbreviation("sync", "syncing")  # a word of its own: MMR keeps the better ranked one
    assert not is_abbreviation("cat", "certificate") and not is_abbreviation("invoice", "inv")
    assert is_variant("sync", "syncing") and is_variant("schedule", "scheduling") and is_variant("Refund", "refunds")
    assert not is_variant("interview", "internal") and not is_variant("meeting", "roadmap")


def test_mmr_prefers_diverse_words_and_breaks_ties_by_word():
    words = ["invoice", "bill", "payment", "late"]
    v = np.array([[1.0, 0.0, 0.0], [0.99, 0.14, 0.0], [0.7, 0.7, 0.0], [0.0, 0.0, 1.0]])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    rel = np.array([0.9, 0.89, 0.7, 0.5])
    assert mmr(rel, v, words, 3, diversity=0.0) == [0, 1, 2]  # plain relevance
    assert mmr(rel, v, words, 3, diversity=0.5)[:2] == [0, 3]  # "bill" is a near-synonym of "invoice"
    assert mmr(np.array([0.5, 0.5]), np.eye(2), ["beta", "alpha"], 1) == [1]


def test_unique_labels_disambiguate_deterministically():
    ranked = {0: ["invoice", "delayed", "payment", "fee"], 1: ["delayed", "invoice", "payment", "refund"],
              2: ["invoice", "payment", "delayed"], 3: [], -1: ["misc", "other"]}
    names = unique_labels(ranked)
    assert names[0] == "Invoice · Delayed · Payment"
    assert names[1] == "Delayed · Invoice · Refund"  # the same word set gets its next word instead
    assert names[2] == "Invoice · Payment · Delayed (2)"  # nothing left to swap in: the id
    assert names[3] == "Unnamed" and names[-1] == "Outliers: Misc · Other"
    assert unique_labels(ranked) == names
    assert len({n.lower() for n in names.values()}) == len(names)


def test_fit_topic_model_names_by_the_configured_method(model):
    from curation_dagster.lib.clustering import ClusterSettings
    from curation_dagster.lib.topic_model import fit_topic_model, name_clusters

    docs, labels = hand_made()
    vecs = np.asarray(model.encode(docs, normalize_embeddings=True), dtype=np.float32)
    ids = [f"g{i:04d}" for i in range(len(docs))]
    s = ClusterSettings(algorithm="kmeans", kmeans_k=4, seed=1)
    plain = fit_topic_model(ids, vecs, docs, s, naming="ctfidf")
    readable = fit_topic_model(ids, vecs, docs, s, embedding_model=model)  # keybert_mmr is the default
    assert plain.naming == "ctfidf" and readable.naming == "keybert_mmr"
    assert all(" / " in n for n in plain.names.values())
    assert all(LABEL_SEPARATOR in n for n in readable.names.values())
    assert len(set(readable.names.values())) == len(readable.cluster_ids) == 4
    # renaming is not refitting: same version, so reviewers' cluster decisions still apply
    assert readable.version == plain.version and readable.keywords == plain.keywords
    assert fit_topic_model(ids, vecs, docs, s).naming == "ctfidf"  # no model given: the keyword label
    with pytest.raises(ValueError, match="CURATION_LLM_BASE_URL"):
        name_clusters(docs, labels, vecs, "llm")
    with pytest.raises(ValueError, match="unknown naming"):
        name_clusters(docs, labels, vecs, "topics")
