"""Language of a text: a model-backed detector for the language rule, stop-word shares for gibberish.

`detect_language` runs lingua (the PyPI package `lingua-language-detector`; its n-gram models ship
inside the wheel, so nothing is downloaded at run time). The detector is built once per process for a
restricted set of candidate languages, in low-accuracy mode (see `_detector`): the targets plus
`DEFAULT_CANDIDATES` (27 languages in 10 scripts), which is faster than all 75 and still lets a text
in a non-target language be recognised as such rather than forced onto the nearest target. Texts with fewer than `MIN_LANGUAGE_LETTERS`
letters get no verdict (`None`): lingua, like every n-gram detector, is unreliable on a word or two.

`stopword_shares` (dependency-free) stays for the gibberish rule: a text with no stop words of any
language is not language at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from curation_dagster.lib.memory import RunMemo, per_run_cache
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


# ------------------------------------------------------------------------------------------------
# model-backed detection (lingua)
# ------------------------------------------------------------------------------------------------

#: candidates besides the targets: the languages a product like this one is most likely to see
DEFAULT_CANDIDATES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi", "cs", "ro", "hu", "tr", "id",
    "vi", "ru", "uk", "el", "he", "ar", "hi", "zh", "ja", "ko",
)
#: below this many letters the detector abstains (a word or two is too little to tell languages apart)
MIN_LANGUAGE_LETTERS = 30
#: longer texts are judged on their first characters: the verdict does not change, the cost does
MAX_DETECT_CHARS = 2_000


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ISO 639-1 code, lower case
    confidence: float  # lingua's relative confidence among the candidates, 0..1
    # the targets' summed confidence: related languages (zh/ja, ru/uk) split a text's confidence, so
    # the top guess alone can look unsure while the text is plainly not in a target language
    target_share: float = 0.0


def validate_language_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Lower-cased ISO 639-1 codes; ValueError naming the first code lingua does not know."""
    from lingua import IsoCode639_1

    out = []
    for c in codes:
        try:
            IsoCode639_1.from_str(str(c).strip().upper())
        except ValueError:
            raise ValueError(f"unknown language code {c!r}: use ISO 639-1 codes such as en, de, fr, es") from None
        out.append(str(c).strip().lower())
    return tuple(out)


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...], high_accuracy: bool = False):
    """One lingua detector per candidate set and process. Low-accuracy mode (trigram models only) is the
    default: on the generator's outputs it gives the same verdicts as high-accuracy mode at the same
    speed, and its 27 preloaded models take ~60 MB and 0.2 s instead of ~620 MB and 5 s; it is weaker
    only on very short texts, where the rule abstains anyway."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    isos = [IsoCode639_1.from_str(c.upper()) for c in codes]
    if len(isos) < 2:  # lingua needs two or more languages
        isos.append(IsoCode639_1.EN if codes != ("en",) else IsoCode639_1.DE)
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_preloaded_language_models()
    return (builder if high_accuracy else builder.with_low_accuracy_mode()).build()


def candidate_languages(targets: Iterable[str], extra: Iterable[str] = DEFAULT_CANDIDATES) -> tuple[str, ...]:
    """Targets first, then the other candidates, each once, validated."""
    return _candidates(tuple(targets), tuple(extra))


@lru_cache(maxsize=64)
def _candidates(targets: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for c in validate_language_codes(targets + extra):
        seen.setdefault(c, None)
    return tuple(seen)


def _sample(text: object, min_letters: int) -> str | None:
    """What the detector reads of text (its first MAX_DETECT_CHARS characters, lone surrogates dropped),
    or None when that has fewer than `min_letters` letters."""
    if not isinstance(text, str):
        return None
    sample = text[:MAX_DETECT_CHARS].encode("utf-8", "ignore").decode("utf-8")
    return sample if sum(ch.isalpha() for ch in sample) >= min_letters else None


#: (sample, candidates, high_accuracy) -> the detector's confidence values, of the texts
#: remember_languages was last given
_DETECTED: RunMemo = per_run_cache(RunMemo())


def remember_languages(texts: Iterable[object], candidates: Iterable[str] = DEFAULT_CANDIDATES,
                       min_letters: int = MIN_LANGUAGE_LETTERS, high_accuracy: bool = False) -> None:
    """Run the detector over these texts in one call on every core (lingua's parallel call) and keep the
    values, replacing the last batch's, for detect_language to read back. A day's language rule spent
    most of its time in the detector, one core busy. The values are those of one text at a time up to
    the last bits, which lingua moves from one call to the next either way (measured: the same texts
    twice in a row, one at a time, differ there); on the real development half's 8,793 rows every
    verdict and reason came out the same."""
    _DETECTED.clear()
    cands = tuple(candidates)
    todo = list(dict.fromkeys(s for t in texts if (s := _sample(t, min_letters)) is not None))
    if todo:
        found = _detector(cands, high_accuracy).compute_language_confidence_values_in_parallel(todo)
        _DETECTED.update(((s, cands, high_accuracy), v) for s, v in zip(todo, found))


def detect_language(text: str | None, candidates: Iterable[str] = DEFAULT_CANDIDATES,
                    min_letters: int = MIN_LANGUAGE_LETTERS, high_accuracy: bool = False,
                    targets: Iterable[str] | None = None) -> LanguageGuess | None:
    """The most likely candidate language of text with its confidence, or None when the text has fewer
    than `min_letters` letters or the detector cannot decide. With `targets`, `target_share` is the
    confidence the detector gives the targets together. Read back when remember_languages saw it."""
    sample = _sample(text, min_letters)
    if sample is None:
        return None
    cands = tuple(candidates)
    values = _DETECTED.get((sample, cands, high_accuracy))
    if values is None:
        values = _detector(cands, high_accuracy).compute_language_confidence_values(sample)
    if not values or values[0].value <= 0:
        return None
    top = values[0]
    targets = tuple(targets or ())
    share = sum(float(v.value) for v in values if v.language.iso_code_639_1.name.lower() in targets)
    return LanguageGuess(top.language.iso_code_639_1.name.lower(), float(top.value), share)
