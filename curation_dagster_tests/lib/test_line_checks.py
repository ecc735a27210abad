"""The export gate's line checks kept between validations: the same answers, only new lines checked."""

import json

from curation_dagster.lib import line_checks, pii
from curation_dagster.lib.line_checks import check_lines
from curation_dagster.lib.tokens import DEFAULT_TOKENIZER, count_tokens


def line(user: str, reply: str, system: str | None = None) -> str:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return json.dumps({"messages": msgs}, ensure_ascii=False, separators=(", ", ": "))


LINES = [
    line("Thank Ann for the flowers", "Dear Ann, thank you!", system="You draft emails."),
    line("Ask Bo to call", "Bo, call me on +1 415-555-0132"),
    '{"messages": [{"role": "assistant", "content": "no user turn"}]}',
    "not json at all",
]


def test_answers_are_those_of_each_check_and_kept_ones_are_read_back(tmp_path, monkeypatch):
    cache = tmp_path / "state" / "x.line_checks.parquet"
    first = check_lines(LINES, DEFAULT_TOKENIZER, cache)
    assert first.checked == 4 and cache.is_file()
    assert first.problem[:2] == [None, None] and first.problem[2].startswith("roles out of order")
    assert first.problem[3].startswith("not JSON")
    assert first.pii == [None, "phone", None, None]
    assert first.users[:2] == ["Thank Ann for the flowers", "Ask Bo to call"] and first.users[2:] == [None, None]
    assert first.replies[1] == "Bo, call me on +1 415-555-0132"
    # tokens of every message's content, one per line; an invalid line counts 0
    assert first.tokens[0] == count_tokens(["You draft emails.\nThank Ann for the flowers\nDear Ann, thank you!"])[0]
    assert first.tokens[0] > 10 and first.tokens[2:] == [0, 0]
    # the next validation: three known lines (one twice) and a new one; only the new one is checked
    seen = []
    real = line_checks._check
    monkeypatch.setattr(line_checks, "_check", lambda lines, tok: seen.append(list(lines)) or real(lines, tok))
    new = line("Book the room", "Booked for Tuesday.")
    again = check_lines([LINES[1], new, LINES[0], LINES[1]], DEFAULT_TOKENIZER, cache)
    assert seen == [[new]] and again.checked == 1
    assert again.pii == ["phone", None, None, "phone"] and again.tokens[2] == first.tokens[0]
    assert again.problem == [None, None, None, None]


def test_another_detector_tokenizer_or_an_unreadable_file_checks_every_line(tmp_path, monkeypatch):
    cache = tmp_path / "x.line_checks.parquet"
    check_lines(LINES, DEFAULT_TOKENIZER, cache)
    assert check_lines(LINES, DEFAULT_TOKENIZER, cache).checked == 0
    monkeypatch.setattr(line_checks, "detector_identity", lambda: b"another version of lib/pii.py")
    assert check_lines(LINES, DEFAULT_TOKENIZER, cache).checked == 4
    # another tokenizer (a stand-in that counts words): every line is counted again, with it
    monkeypatch.setattr(line_checks, "count_tokens", lambda texts, tok: [len(t.split()) for t in texts])
    other = check_lines(LINES, "another/tokenizer", cache)
    assert other.checked == 4 and other.tokens[0] == len("You draft emails. Thank Ann for the flowers Dear Ann, thank you!".split())
    cache.write_bytes(b"garbage")
    assert check_lines(LINES, DEFAULT_TOKENIZER, cache).checked == 4
    assert pii.detector_identity() != b"another version of lib/pii.py"


def test_no_lines_and_no_cache():
    empty = check_lines([], DEFAULT_TOKENIZER)
    assert empty.problem == [] and empty.tokens == [] and empty.checked == 0
    assert check_lines(LINES[:1], DEFAULT_TOKENIZER).problem == [None]
