"""Noisy-input rules: small pure functions in an ordered registry.

A rule takes one generation (a dict following the data contract) and the FilterSettings and returns a
human-readable reason when the row should be rejected, or None. `apply_filters` runs every rule on
every row, records all that fired, and names the first in registry order as the row's rule.
Register your own with `@rule("name")`; order of registration is evaluation order.
Batch rules (duplicates) live in dedup.py and run after the row rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

from curation_dagster.lib.decontamination import DecontaminationSettings
from curation_dagster.lib.language import (DEFAULT_CANDIDATES, MIN_LANGUAGE_LETTERS, candidate_languages,
                                           detect_language, stopword_shares)
from curation_dagster.lib.pii import KIND_PHRASES, PII_KINDS, PII_TEXT_COLUMNS, first_pii_kind
from curation_dagster.lib.quality import QualityWeights, row_quality_score
from curation_dagster.lib.text import encoding_problem, words

DEFAULT_TEMPLATES: tuple[str, ...] = (
    "general", "candidate_rejection", "meeting_request", "follow_up", "sales_outreach", "thank_you",
    "apology", "job_offer", "invoice_reminder", "introduction", "networking", "feedback_request",
    "customer_support_reply", "event_invitation", "deadline_extension", "partnership_proposal",
)


@dataclass(frozen=True)
class FilterSettings:
    """Thresholds of the rules; every field is config in the Dagster launchpad."""

    known_templates: tuple[str, ...] = DEFAULT_TEMPLATES  # empty tuple accepts any template id
    min_generator_version: str = "1.4.0"
    require_generator_version: bool = True  # False for imported data that never recorded one
    require_identity: bool = True  # False for imported data: no identity (or only a system prompt) passes
    min_instruction_words: int = 3
    max_instruction_chars: int = 2_000
    min_output_words: int = 25
    max_output_chars: int = 8_000
    max_input_message_chars: int = 20_000
    target_languages: tuple[str, ...] = ("en",)
    # non_target_language: lingua over the targets + these candidates; abstains under min_language_letters
    language_candidates: tuple[str, ...] = DEFAULT_CANDIDATES
    min_language_letters: int = MIN_LANGUAGE_LETTERS
    min_language_confidence: float = 0.5  # reject only when the foreign guess is at least this confident
    min_language_share: float = 0.08  # below this stop-word share in every language, text is gibberish
    max_symbol_share: float = 0.15
    max_top_token_share: float = 0.25
    min_quality: float = 0.4
    quality_weights: QualityWeights = field(default_factory=QualityWeights)
    # pii: "reject" drops rows whose texts carry contact data; "redact" keeps them with typed placeholders
    pii_action: str = "reject"
    pii_kinds: tuple[str, ...] = PII_KINDS
    redact_identity_names: bool = False  # the identity name is the user's own sign-off name: kept by default
    identity_personal_keys: tuple[str, ...] = ("name",)
    # decontamination: rows overlapping a registered evaluation set are rejected (no eval sets: off)
    decontamination: DecontaminationSettings = field(default_factory=DecontaminationSettings)

    def __post_init__(self) -> None:
        if self.pii_action not in ("reject", "redact"):
            raise ValueError(f"pii_action must be 'reject' or 'redact', not {self.pii_action!r}")
        unknown = set(self.pii_kinds) - set(PII_KINDS)
        if unknown:
            raise ValueError(f"unknown pii_kinds {sorted(unknown)}; known: {', '.join(PII_KINDS)}")
        if not self.target_languages:
            raise ValueError("target_languages is empty: name at least one language to keep")
        candidate_languages(self.target_languages, self.language_candidates)  # ValueError on unknown codes


RuleFn = Callable[[dict, FilterSettings], "str | None"]
RULES: dict[str, RuleFn] = {}
RULE_DESCRIPTIONS: dict[str, str] = {}


def rule(name: str, description: str = ""):
    def register(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        RULE_DESCRIPTIONS[name] = description or (fn.__doc__ or "").strip().splitlines()[0]
        return fn

    return register


def _is_text(v) -> bool:
    return isinstance(v, str)


def _out(row: dict) -> str:
    v = row.get("output")
    return v if isinstance(v, str) else ""


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return v != v  # NaN / NaT / pd.NA-safe
    except TypeError:
        return False


PLACEHOLDERS = frozenset(
    {"test", "testing", "test test", "asdf", "asd", "qwerty", "xxx", "xx", "x", "todo", "tbd", "hi",
     "hello", "hey", "?", "??", "...", "..", ".", "lorem ipsum", "lorem ipsum dolor sit amet",
     "write something", "something", "sample", "example", "placeholder", "foo", "bar", "foobar",
     "n/a", "na", "none", "null", "undefined", "aaa", "aaaa", "abc", "123", "1234", "ok"}
)
JUNK_VALUES = frozenset(
    {"test", "testing", "test user", "tester", "foo", "bar", "foobar", "baz", "xxx", "xx", "x", "n/a",
     "na", "none", "null", "undefined", "asdf", "qwerty", "abc", "aaa", "name", "my name", "user",
     "company", "my company", "role", "lorem ipsum", "123", "1234", "-", ".", "?", "tbd", "todo",
     "john doe", "jane doe", "placeholder", "dummy", "sample", "example"}
)
_NUMBERED_JUNK_RE = re.compile(r"^(user|test|name|foo|bar|admin|demo|sample|company|role)[\s_-]*\d*$")
_TEST_WORDS = frozenset({"test", "testing", "dummy", "asdf", "qwerty", "lorem", "ipsum", "foo", "foobar"})
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")


def is_keyboard_mash(s: str) -> bool:
    """True for strings like 'asdfgh', 'jjjjj', 'sdfsdf', 'qwpzkx' that no person is called."""
    t = re.sub(r"[\s\-_.]", "", s.lower())
    if len(t) < 3:
        return False
    if len(set(t)) == 1:
        return True
    for k in range(2, len(t) // 2 + 1):
        if len(t) % k == 0 and t == t[:k] * (len(t) // k):
            return True
    for row in _KEYBOARD_ROWS:
        for i in range(len(row) - 3):
            if row[i : i + 4] in t:
                return True
    if t.isalpha() and len(t) >= 4 and not re.search(r"[aeiouy]", t):
        return True
    return False


def _is_junk_value(v) -> bool:
    if not isinstance(v, str):
        return True
    s = v.strip().lower()
    return (s == "" or s in JUNK_VALUES or s.isdigit() or bool(_NUMBERED_JUNK_RE.match(s))
            or bool(set(s.split()) & _TEST_WORDS)
            or all(is_keyboard_mash(p) for p in s.split()))


@rule("invalid_record", "required fields missing or of the wrong type")
def invalid_record(row: dict, s: FilterSettings) -> str | None:
    if _missing(row.get("generation_id")) or not _is_text(row.get("generation_id")):
        return "generation_id is missing"
    if _missing(row.get("created_at")):
        return "created_at is missing"
    for col in ("output", "template_id", "generator_version"):
        v = row.get(col)
        if _missing(v):
            if col == "generator_version" and not s.require_generator_version:
                continue
            return f"{col} is null"
        if not _is_text(v):
            return f"{col} has type {type(v).__name__}, expected string"
    for col in ("instruction", "input_message", "identity"):
        v = row.get(col)
        if not _missing(v) and not _is_text(v):
            return f"{col} has type {type(v).__name__}, expected string"
    if not row["output"].strip():
        return "output is empty"
    ident = row.get("identity")
    if _is_text(ident) and ident.strip()[:1] not in ("{", ""):
        try:
            parsed = json.loads(ident)
        except ValueError:
            parsed = {}  # not JSON at all: identity_junk reports it
        if not isinstance(parsed, dict):
            return f"identity is JSON {type(parsed).__name__}, expected an object"
    return None


@rule("invalid_unicode", "text fields hold lone surrogates, replacement or control characters")
def invalid_unicode(row: dict, s: FilterSettings) -> str | None:
    for col in ("instruction", "input_message", "output", "identity"):
        v = row.get(col)
        if _is_text(v):
            problem = encoding_problem(v)
            if problem:
                return f"{col} {problem}"
    return None


@rule("text_too_long", "a text is longer than its configured maximum")
def text_too_long(row: dict, s: FilterSettings) -> str | None:
    for col, limit in (("output", s.max_output_chars), ("instruction", s.max_instruction_chars),
                       ("input_message", s.max_input_message_chars)):
        v = row.get(col)
        if _is_text(v) and len(v) > limit:
            return f"{col} has {len(v):,} characters (limit {limit:,})"
    return None


@rule("unknown_template", "template_id is not in the configured template catalog")
def unknown_template(row: dict, s: FilterSettings) -> str | None:
    t = row.get("template_id")
    if s.known_templates and t not in s.known_templates:
        return f"template_id {t!r} is not in the catalog of {len(s.known_templates)} templates"
    return None


def parse_version(v: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", v)
    if not nums:
        raise ValueError(f"no version number in {v!r}")
    return tuple(int(n) for n in nums[:3]) + (0,) * (3 - min(3, len(nums)))


@rule("old_generator_version", "produced by a generator version older than the configured cut-off")
def old_generator_version(row: dict, s: FilterSettings) -> str | None:
    v = row.get("generator_version")
    if not _is_text(v):
        return None
    try:
        if parse_version(v) < parse_version(s.min_generator_version):
            return f"generator_version {v} is older than cut-off {s.min_generator_version}"
    except ValueError:
        return f"generator_version {v!r} is not a version number"
    return None


@rule("instruction_junk", "instruction is empty, a placeholder or keyboard mash")
def instruction_junk(row: dict, s: FilterSettings) -> str | None:
    v = row.get("instruction")
    if _missing(v) or not _is_text(v) or not v.strip():
        return "instruction is empty"
    norm = " ".join(v.strip().lower().split())
    if norm in PLACEHOLDERS or norm.strip(".?! ") in PLACEHOLDERS:
        return f"instruction is a placeholder ({v.strip()[:30]!r})"
    toks = words(v)
    if len(toks) < s.min_instruction_words:
        return f"instruction has {len(toks)} words (minimum {s.min_instruction_words})"
    if all(is_keyboard_mash(t) for t in toks):
        return "instruction is keyboard mash"
    return None


@rule("identity_junk", "identity settings are not valid JSON or hold test values / keyboard mash")
def identity_junk(row: dict, s: FilterSettings) -> str | None:
    v = row.get("identity")
    if (_missing(v) or (_is_text(v) and not v.strip())) and not s.require_identity:
        return None
    if _missing(v) or not _is_text(v) or not v.strip():
        return "identity settings are empty"
    try:
        ident = json.loads(v)
    except ValueError:
        return "identity settings are not valid JSON"
    if not isinstance(ident, dict) or not ident:
        return "identity settings are not a JSON object with fields"
    for key in ("name", "role", "company"):
        if key in ident and _is_junk_value(ident[key]):
            return f"identity {key} looks like a test value or keyboard mash ({str(ident[key])[:20]!r})"
    if "name" not in ident and s.require_identity:
        return "identity settings have no name"
    return None


_HTML_RE = re.compile(
    r"</?\s*(p|br|div|span|html|body|head|a|b|i|u|strong|em|ul|ol|li|table|tr|td|h[1-6]|font|style|script)\b[^>]*>"
    r"|&(nbsp|amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)


@rule("html_markup", "output contains HTML tags or entities")
def html_markup(row: dict, s: FilterSettings) -> str | None:
    m = _HTML_RE.search(_out(row))
    return f"output contains HTML markup ({m.group(0)[:20]!r})" if m else None


_CHAR_RUN_RE = re.compile(r"(\S)\1{29,}")


def normalize_sentence(x: str) -> str:
    return " ".join(words(x))


@rule("gibberish_output", "output is not language: no stop words, mostly symbols, or a token or sentence repeated")
def gibberish_output(row: dict, s: FilterSettings) -> str | None:
    out = _out(row)
    stripped = re.sub(r"\s", "", out)
    if stripped:
        symbols = sum(1 for c in stripped if not c.isalnum()) / len(stripped)
        if symbols > s.max_symbol_share:
            return f"{symbols:.0%} of the output's characters are symbols"
    run = _CHAR_RUN_RE.search(out)
    if run:
        return f"output holds a run of {len(run.group(0))} identical characters"
    toks = words(out)
    if len(toks) >= 8:
        top = max(toks.count(t) for t in set(toks)) / len(toks)
        if top > s.max_top_token_share:
            return f"one token makes up {top:.0%} of the output"
    sentences = [normalize_sentence(x) for x in re.split(r"(?<=[.!?])\s+", out) if len(x.split()) >= 3]
    if len(sentences) >= 4:
        top_sentence = max(sentences.count(x) for x in set(sentences))
        if top_sentence >= 3 and top_sentence / len(sentences) > 0.4:
            return f"one sentence repeats {top_sentence} times"
    if toks and max(stopword_shares(out).values()) < s.min_language_share:
        return "output has no stop words of any known language (gibberish)"
    return None


@rule("non_target_language", "output is not in one of the target languages")
def non_target_language(row: dict, s: FilterSettings) -> str | None:
    guess = detect_language(_out(row), candidate_languages(s.target_languages, s.language_candidates),
                            s.min_language_letters)
    if guess and guess.language not in s.target_languages and guess.confidence >= s.min_language_confidence:
        return (f"output looks {guess.language} (confidence {guess.confidence:.2f}); "
                f"targets are {','.join(s.target_languages)}")
    return None


_NAME_LINE_RE = re.compile(r"^[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3}$")
_CONTACT_LINE_RE = re.compile(r"@|\d[\d\s().+-]{6,}|^(phone|tel|mobile|cell|email|e-mail|www\.)", re.IGNORECASE)


def has_signoff(lines: list[str]) -> bool:
    """A closing ("Best regards," / "Thanks!"), a name line (and maybe a title line), maybe contact lines."""
    while len(lines) > 2 and _CONTACT_LINE_RE.search(lines[-1]):
        lines = lines[:-1]
    for n_name_lines in (1, 2):  # "Anna Lee" or "Anna Lee\nSenior Recruiter"
        if len(lines) <= n_name_lines or not all(_NAME_LINE_RE.match(x) for x in lines[-n_name_lines:]):
            return False
        closing = lines[-n_name_lines - 1]
        if len(closing.split()) <= 5 and closing[-1:] in {",", "!", ".", "-"}:
            return True
    return False


@rule("truncated_output", "output stops mid-sentence with no sign-off")
def truncated_output(row: dict, s: FilterSettings) -> str | None:
    out = _out(row).rstrip()
    if not out:
        return None
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    if re.search(r"[.!?)\"'\u201d:]$", lines[-1]) or has_signoff(lines):
        return None
    return f"output ends mid-sentence (…{lines[-1][-30:]!r})"


@rule("too_short", "output has fewer words than the configured minimum")
def too_short(row: dict, s: FilterSettings) -> str | None:
    n = len(words(_out(row)))
    return f"output has {n} words (minimum {s.min_output_words})" if n < s.min_output_words else None


@rule("pii", "instruction, input message or output contains an email, phone, card number, IBAN or secret URL")
def pii(row: dict, s: FilterSettings) -> str | None:
    if s.pii_action != "reject":
        return None  # redact mode: the filter stage rewrites the texts instead (lib/pii.redact_pii)
    for col in PII_TEXT_COLUMNS:
        v = row.get(col)
        if _is_text(v):
            kind = first_pii_kind(v, s.pii_kinds)
            if kind:
                return f"{col} contains {KIND_PHRASES[kind]}"
    return None


@rule("low_quality", "quality score from usage signals is below the configured minimum")
def low_quality(row: dict, s: FilterSettings) -> str | None:
    q = row.get("quality_score")
    if q is None:
        q = row_quality_score(row, s.quality_weights)
    return f"quality score {q:.2f} below minimum {s.min_quality:.2f}" if q < s.min_quality else None


# The duplicate rules run on the batch (see dedup.py); listed here so metadata and docs show them.
RULE_DESCRIPTIONS["human_review"] = "rejected by reviewers (review_decisions: majority or adjudicator), with their reasons"
RULE_DESCRIPTIONS["eval_contamination"] = ("shares a word n-gram (13 by default) with an item of a registered "
                                           "evaluation set (decontamination)")
RULE_DESCRIPTIONS["exact_duplicate"] = "same normalised instruction, input and output as an earlier row"
RULE_DESCRIPTIONS["near_duplicate"] = "word 3-shingle Jaccard of instruction + input + output above the threshold with an earlier row"
