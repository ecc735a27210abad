from curation_dagster.lib.dedup import find_duplicates, jaccard, shingles

BASE = ("Hi Tom,\n\nI hope your week is going well. I wanted to follow up on the proposal we sent last "
        "Tuesday about the warehouse analytics project. Could we find twenty minutes on Thursday to walk "
        "through the pricing together? I am happy to adjust the scope if the timeline feels tight.\n\n"
        "Best,\nAnna")


def run(outputs):
    ids = [f"g{i}" for i in range(len(outputs))]
    return find_duplicates(ids, [(i,) for i in range(len(outputs))], ["x"] * len(outputs), [None] * len(outputs), outputs)


def test_same_text_in_different_case_or_spacing_is_exact_duplicate():
    spaced = BASE.replace(" ", "  ").replace("\n\n", " \n\n  ")  # doubled spaces, padded line breaks
    assert spaced != BASE
    hits = run([BASE, BASE.upper(), spaced])
    assert [(h.generation_id, h.duplicate_of, h.kind) for h in hits] == [
        ("g1", "g0", "exact_duplicate"), ("g2", "g0", "exact_duplicate")]


def test_changed_greeting_and_reordered_sentences_are_near_duplicates():
    changed_greeting = BASE.replace("Hi Tom,", "Hello Tom,")
    s = BASE.split(". ")
    reordered = ". ".join([s[1], s[0]] + s[2:])
    hits = run([BASE, changed_greeting, reordered])
    assert {(h.generation_id, h.duplicate_of, h.kind) for h in hits} == {
        ("g1", "g0", "near_duplicate"), ("g2", "g0", "near_duplicate")}


def test_different_emails_are_not_duplicates():
    other = ("Dear Ms. Patel,\n\nThank you for hosting the supplier workshop in Lyon. Our team left with a "
             "clear plan for the packaging changes, and we will share the revised samples before the end "
             "of the month.\n\nKind regards,\nOmar")
    assert run([BASE, other]) == []
    assert jaccard(shingles(BASE), shingles(other)) < 0.1
