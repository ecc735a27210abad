"""lib/language.py: the offline lingua detector behind non_target_language, abstention on short text."""

import pytest

from curation_dagster.lib.language import (DEFAULT_CANDIDATES, MIN_LANGUAGE_LETTERS, candidate_languages,
                                           detect_language, guess_language, validate_language_codes)

SAMPLES = {
    "en": ("Hi Maria,\n\nThank you for taking the time to meet with us last week. We enjoyed learning about your "
           "work and would love to continue the conversation.\n\nBest regards,\nAnna"),
    "de": ("Hallo Maria,\n\nvielen Dank, dass Sie sich letzte Woche die Zeit für das Gespräch genommen haben. Wir "
           "würden uns freuen, die Unterhaltung bald fortzusetzen.\n\nViele Grüße\nAnna"),
    "fr": ("Bonjour Maria,\n\nmerci d'avoir pris le temps de nous rencontrer la semaine dernière. Nous serions "
           "ravis de poursuivre la conversation très bientôt.\n\nCordialement,\nAnna"),
    "es": ("Hola María,\n\ngracias por tomarse el tiempo de reunirse con nosotros la semana pasada. Nos encantaría "
           "continuar la conversación muy pronto.\n\nSaludos cordiales,\nAnna"),
}


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_detects_each_language_confidently(lang):
    guess = detect_language(SAMPLES[lang], candidate_languages(["en"]))
    assert guess is not None and guess.language == lang and guess.confidence > 0.9


def test_short_text_abstains():
    assert detect_language("Danke schön!") is None
    assert detect_language("Merci beaucoup, à bientôt") is None  # 21 letters < MIN_LANGUAGE_LETTERS
    assert MIN_LANGUAGE_LETTERS == 30
    assert detect_language("Vielen Dank für Ihre schnelle Antwort und die Unterlagen").language == "de"
    assert detect_language("Danke schön!", min_letters=5).language == "de"
    assert detect_language(None) is None and detect_language("") is None


def test_bad_unicode_and_long_text_do_not_break_detection():
    assert detect_language(SAMPLES["en"] + "\ud800").language == "en"  # lone surrogate dropped
    assert detect_language(SAMPLES["fr"] * 200).language == "fr"  # judged on the first 2,000 characters


def test_candidates_and_codes():
    assert candidate_languages(["de", "en"])[:2] == ("de", "en") and len(candidate_languages(["en"])) == len(DEFAULT_CANDIDATES)
    assert validate_language_codes([" EN", "de"]) == ("en", "de")
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        validate_language_codes(["en", "xx"])
    assert detect_language(SAMPLES["en"], ("en",)).language == "en"  # one candidate builds too


def test_stopword_guess_still_serves_the_gibberish_rule():
    assert guess_language(SAMPLES["de"]) == "de" and guess_language("qwzx plmk trvb") == "unknown"


def test_a_batch_detected_at_once_reads_back_the_one_at_a_time_verdicts(monkeypatch):
    from curation_dagster.lib import language
    from curation_dagster.lib.language import remember_languages
    from curation_dagster.lib.memory import release_freed_memory

    cands = candidate_languages(["en"])
    texts = [*SAMPLES.values(), SAMPLES["de"] + " \ud800", "Danke schön!", None, SAMPLES["en"] * 50]
    release_freed_memory()
    alone = [detect_language(t, cands, targets=["en"]) for t in texts]
    assert [g.language if g else None for g in alone] == ["en", "de", "fr", "es", "de", None, None, "en"]

    remember_languages(texts, cands)
    detector = language._detector(cands, False)
    calls = []
    # a read-back must not run the detector again: count its one-text calls through a wrapper
    monkeypatch.setattr(language, "_detector", lambda c, h: type("Spy", (), {
        "compute_language_confidence_values": lambda self, s: calls.append(s) or detector.compute_language_confidence_values(s)})())
    again = [detect_language(t, cands, targets=["en"]) for t in texts]
    assert calls == []
    # lingua's values move in the last bits from one call to the next, one at a time or not (measured):
    # the verdicts and confidences agree, not the bits
    assert [g.language if g else None for g in again] == [g.language if g else None for g in alone]
    assert all(abs(g.confidence - h.confidence) < 1e-9 and abs(g.target_share - h.target_share) < 1e-9
               for g, h in zip(again, alone) if g)
    # other candidates were not part of the batch: detected alone
    assert detect_language(SAMPLES["fr"], candidate_languages(["fr"]), targets=["fr"]).language == "fr"
    assert len(calls) == 1
    release_freed_memory()  # the batch's values go with the run's other caches
    assert detect_language(SAMPLES["es"], cands) is not None and len(calls) == 2
