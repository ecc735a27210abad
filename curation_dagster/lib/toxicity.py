"""Toxicity of an assistant reply: the offline classifier behind the `toxic_output` rule.

`toxicity` runs alt-profanity-check (the PyPI package `alt-profanity-check`): a TF-IDF vocabulary and a
calibrated linear SVM trained on about 200,000 human-labelled comments (offensive / not offensive), both
shipped inside the wheel as joblib files and loaded once per process, so nothing is downloaded at run
time. Each alt-profanity-check release is trained with, and pins, one scikit-learn version (1.9.1 here,
as constraints.txt pins): upgrade the two together, or the pickled model warns (see `_model`).

The rule scores the reply's prose as a whole (code, inline code, math and URLs removed by
lib/markdown.py): the model was trained on whole comments, and on real ShareGPT answers scoring single
lines or short windows fired on fiction dialogue, recipe lines ("Fat: 10g") and form fields ("Sex:")
far more often than on anything offensive (benchmarks/toxicity.py measures both). It abstains (`None`)
where the model does not know the language: prose that is not mostly Latin script, or whose German,
Spanish or French stop words outnumber its English ones. The vocabulary is English, and the foreign words
it happens to contain score at random (a German answer about a class scored 0.80 on the development
half); with a target language other than English, such rows would otherwise be dropped as toxic. An
answer that is all code leaves no prose and scores ~0.04 (the model's intercept): abstaining on short
prose as well changed no verdict on any measured set, so the rule does not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from curation_dagster.lib.language import stopword_shares
from curation_dagster.lib.text import words

#: the rule's default threshold on the classifier's probability (see the README's measured table)
DEFAULT_TOXICITY_THRESHOLD = 0.8
#: the package whose packaged model this module loads (named in the rule's reasons)
MODEL_NAME = "alt-profanity-check"

@dataclass(frozen=True)
class _Model:
    vectorizer: object  # the packaged TfidfVectorizer
    classifier: object  # the packaged CalibratedClassifierCV (5 sigmoid-calibrated LinearSVCs)
    # the same model as arrays, or None where its shape is not the one below: the vectorizer's analyzer,
    # its vocabulary and idf, and one column per calibrated SVM (idf * weights, intercept, sigmoid a, b)
    analyzer: object = None
    vocabulary: dict | None = None
    idf: np.ndarray | None = None
    idf_weights: np.ndarray | None = None
    intercepts: np.ndarray | None = None
    a: np.ndarray | None = None
    b: np.ndarray | None = None


@lru_cache(maxsize=1)
def _model() -> _Model:
    """The packaged vectorizer and classifier, loaded once. A scikit-learn other than the one the model
    was pickled with makes sklearn warn (InconsistentVersionWarning): that is turned into an error
    naming both versions, so a mismatched install fails loudly instead of scoring with a model whose
    internals may have changed.

    Judged one row at a time, sklearn costs ~8 ms per text (`transform` 1 ms, `predict_proba` 7: five
    calibrated SVMs, each validating its input), 70 s for a day of 8,800 real rows. The same arithmetic
    on arrays (the vectorizer's own analyzer, counts x idf, l2 norm, then the mean over the SVMs of
    sigmoid(-(a * (x . w + c) + b))) takes ~30 microseconds and gives the same probabilities (tested
    against `predict_proba`). A model of any other shape falls back to sklearn."""
    from sklearn.exceptions import InconsistentVersionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            from profanity_check import profanity_check as pc
        except InconsistentVersionWarning as w:
            raise RuntimeError(f"{MODEL_NAME}'s model was pickled with another scikit-learn version ({w}); "
                               f"install the alt-profanity-check release that matches the pinned scikit-learn "
                               f"(constraints.txt)") from None
    vec, clf = pc.vectorizer, pc.model
    try:
        parts = clf.calibrated_classifiers_
        params = vec.get_params()
        if (list(clf.classes_) != [0, 1] or any(p.method != "sigmoid" or len(p.calibrators) != 1 for p in parts)
                or params["norm"] != "l2" or not params["use_idf"] or params["sublinear_tf"] or params["binary"]):
            raise AttributeError("not a binary sigmoid-calibrated model over l2-normalised tf-idf")
        weights = np.column_stack([np.ravel(p.estimator.coef_) for p in parts])
        idf = np.asarray(vec.idf_, dtype=float)
        return _Model(vec, clf, vec.build_analyzer(), dict(vec.vocabulary_), idf, idf[:, None] * weights,
                      np.array([float(np.ravel(p.estimator.intercept_)[0]) for p in parts]),
                      np.array([float(p.calibrators[0].a_) for p in parts]),
                      np.array([float(p.calibrators[0].b_) for p in parts]))
    except AttributeError:
        return _Model(vec, clf)


def _probability(m: _Model, text: str) -> float:
    counts: dict[int, int] = {}
    for token in m.analyzer(text):
        j = m.vocabulary.get(token)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    decision = m.intercepts
    if counts:
        idx = np.fromiter(counts, dtype=np.intp, count=len(counts))
        c = np.fromiter(counts.values(), dtype=float, count=len(counts))
        decision = decision + c @ m.idf_weights[idx] / np.sqrt(np.sum((c * m.idf[idx]) ** 2))
    return float(np.mean(1.0 / (1.0 + np.exp(m.a * decision + m.b))))


def toxicity_probabilities(texts: Sequence[str]) -> list[float]:
    """The classifier's probability that each text is offensive, 0..1, with no abstention."""
    if not texts:
        return []
    m = _model()
    if m.analyzer is None:
        return [float(p) for p in m.classifier.predict_proba(m.vectorizer.transform(list(texts)))[:, 1]]
    return [_probability(m, t) for t in texts]


def abstention(text: str | None) -> str | None:
    """Why the classifier gives no verdict on text (a short phrase), or None when it judges it."""
    if not isinstance(text, str):
        return "no text"
    toks = words(text)
    letters = sum(len(t) for t in toks)
    if sum(len(t) for t in toks if t.isascii()) * 2 < letters:
        return "prose is not mostly Latin script"
    shares = stopword_shares(text)
    english, other = shares.pop("en"), max(shares.items(), key=lambda kv: kv[1])
    if other[1] > english:
        return f"prose reads as {other[0]} (stop words), not English"
    return None


def toxicity(text: str | None) -> float | None:
    """The probability that text is offensive, or None where the classifier abstains (see the module)."""
    if abstention(text) is not None:
        return None
    return toxicity_probabilities([text])[0]
