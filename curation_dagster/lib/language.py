"""Offline, dependency-free language guess from stop-word shares.

Good enough to separate English from the other European languages a drafting product sees and to
spot text that is no language at all; issue 6 may swap in a model-backed detector.
"""

from __future__ import annotations

from collections import Counter

from curation_dagster.lib.text import words

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the a an and or but to of in on at for with from by is are was were be been it this that "
        "i you we they he she my your our their me us him her as if not do does did have has had "
        "will would can could should please thank thanks hi hello dear best regards so about "
        "just let know am all any there here what when which who".split()
    ),
    "es": frozenset(
        "el la los las un una y o pero de del en con por para es son fue ser que se no su sus "
        "mi mis tu nos le lo al como más muy gracias hola estimado estimada saludos usted "
        "este esta estos le les".split()
    ),
    "de": frozenset(
        "der die das den dem des ein eine einen und oder aber zu von mit für ist sind war sein "
        "ich sie wir nicht ihr ihre mein meine uns auf im in an bei dass es wie sehr vielen dank "
        "hallo geehrte geehrter grüßen freundlichen liebe lieber auch noch".split()
    ),
    "fr": frozenset(
        "le la les un une et ou mais de du des en avec pour est sont était être que qui ne pas "
        "je vous nous il elle mon ma mes votre vos notre au aux dans sur merci bonjour cher "
        "chère cordialement bien très ce cette".split()
    ),
}


def stopword_shares(text: str) -> dict[str, float]:
    toks = words(text)
    if not toks:
        return {lang: 0.0 for lang in STOPWORDS}
    counts = Counter(toks)
    n = len(toks)
    return {lang: sum(c for w, c in counts.items() if w in sw) / n for lang, sw in STOPWORDS.items()}


def guess_language(text: str, min_share: float = 0.08) -> str:
    """Best language code, or "unknown" when no language's stop words make up min_share of the words."""
    shares = stopword_shares(text)
    lang, share = max(sorted(shares.items()), key=lambda kv: kv[1])
    return lang if share >= min_share else "unknown"
