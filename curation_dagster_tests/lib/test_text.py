"""normalize_for_dedup: the key text behind exact dedup, prompt repeats and split groups."""

import random
import re
import unicodedata

from curation_dagster.lib.text import normalize_for_dedup


def by_regex(text: str) -> str:
    # the definition it had as two regular expressions; the translate table must give the same bytes,
    # or every cached dedup key and prompt key would change
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip()


def test_hand_cases():
    assert normalize_for_dedup("  Hello,   WORLD!! ") == "hello world"
    assert normalize_for_dedup("snake_case stays; ½ and Ⅻ fold") == "snake_case stays 1 2 and xii fold"
    assert normalize_for_dedup("Straße\u00a0—\u2003naïve\ttab\nline") == "strasse naïve tab line"
    assert normalize_for_dedup("代码：打印(你好)！") == "代码 打印 你好"
    assert normalize_for_dedup("") == "" and normalize_for_dedup("?!…") == ""


def test_same_as_the_regular_expressions_on_any_unicode():
    rnd = random.Random(11)
    blocks = [(0x20, 0x7f), (0xa0, 0x250), (0x300, 0x370), (0x2000, 0x2070), (0x3000, 0x30ff), (0x4e00, 0x4f00),
              (0xfe30, 0xff70), (0x1f300, 0x1f650), (0x0600, 0x06ff), (0x0900, 0x097f)]
    for _ in range(3000):
        chars = []
        for _ in range(rnd.randrange(0, 60)):
            lo, hi = rnd.choice(blocks)
            chars.append(chr(rnd.randrange(lo, hi)))
        text = "".join(chars)
        assert normalize_for_dedup(text) == by_regex(text), repr(text)
