"""Text helpers shared by rules, dedup, hashing and export."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def words(text: str) -> list[str]:
    """Lower-cased alphabetic tokens (apostrophes kept inside words)."""
    return [w.lower() for w in _WORD_RE.findall(text)]


class _PunctToSpace(dict):
    r"""str.translate table, filled as characters are met: what `[^\w\s]` matches (not alphanumeric,
    not "_", not whitespace) becomes a space. A third of the regex's time on real pools (every
    refresh normalises each pool row's prompt), and the same result."""

    def __missing__(self, code: int) -> int | str:
        ch = chr(code)
        self[code] = code if (ch.isalnum() or ch == "_" or ch.isspace()) else " "
        return self[code]


_PUNCT_TO_SPACE = _PunctToSpace()


def normalize_for_dedup(text: str) -> str:
    """Fold case, punctuation and whitespace so trivially different copies compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.translate(_PUNCT_TO_SPACE).split())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def content_hash(*parts: str | None) -> str:
    """Stable hash of several text fields; None and "" differ so nulls never collide with empties."""
    h = hashlib.sha256()
    for p in parts:
        if p is None:
            h.update(b"\x00N")
        else:
            h.update(b"\x00S" + p.encode("utf-8", errors="surrogatepass"))
    return h.hexdigest()


def stable_unit_hash(*parts: object) -> float:
    """A seeded, order-independent pseudo-random number in [0, 1) derived from its inputs."""
    key = "\x1f".join(str(p) for p in parts).encode("utf-8", errors="surrogatepass")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64


def encoding_problem(text: str) -> str | None:
    """Describe why a text is not clean UTF-8, or None if it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains lone surrogate code points (invalid unicode)"
    if "\ufffd" in text:
        return "contains U+FFFD replacement characters (text was mis-decoded upstream)"
    if _CONTROL_RE.search(text):
        return "contains control characters"
    return None
