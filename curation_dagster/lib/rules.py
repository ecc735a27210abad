"""Noisy-input rules: small pure functions in an ordered registry.

A rule takes one generation (a dict following the data contract) and the FilterSettings and returns a
human-readable reason when the row should be rejected, or None. `apply_filters` runs every rule on
every row, records all that fired, and names the first in rule order as the row's rule.
Register your own with `@rule("name")`.

Rules that need the whole batch (reviewers' rejections, decontamination, duplicates) are batch rules
(lib/batch_rules.py, `@batch_rule`): `(Batch) -> {row index: reason or Hit}`. Every rule, row or
batch, belongs to a phase (PHASES); rule order, the order that picks a row's rule, is phase order,
then registration order.
"""

from __future__ import annotations

import json
import re
from collections import Counter
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from curation_dagster.lib.decontamination import DecontaminationSettings
from curation_dagster.lib.language import (DEFAULT_CANDIDATES, MIN_LANGUAGE_LETTERS, STOPWORDS, candidate_languages,
                                           detect_language, remember_languages, stopword_shares)
from curation_dagster.lib.export import conversation_history, to_chat_record
from curation_dagster.lib.markdown import Reply, parse_reply
from curation_dagster.lib.pii import KIND_PHRASES, PII_KINDS, PII_TEXT_COLUMNS, first_pii_kind
from curation_dagster.lib.quality import QualityWeights, row_quality_score
from curation_dagster.lib.text import encoding_problem, words
from curation_dagster.lib.tokens import (DEFAULT_MAX_TOKENS, DEFAULT_TOKENIZER, example_text, remember_token_counts,
                                        token_count)
from curation_dagster.lib.toxicity import DEFAULT_TOXICITY_THRESHOLD, MODEL_NAME, toxicity

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
    # "continue", "give me 10 more" as the instruction, or as (or "expand your last response" in) the first turn of
    # a conversation: instruction_junk (they need a turn before)
    reject_continuations: bool = True
    # guards against absurd inputs only; the length that matters is the token budget below
    max_instruction_chars: int = 100_000
    min_output_words: int = 25
    max_output_chars: int = 100_000
    max_input_message_chars: int = 400_000
    # the one token budget: the filter rejects longer examples, the export check verifies it
    max_tokens_per_example: int = DEFAULT_MAX_TOKENS
    tokenizer: str = DEFAULT_TOKENIZER  # model folder or package whose tokenizer counts (the packaged MiniLM)
    target_languages: tuple[str, ...] = ("en",)
    # non_target_language: lingua over the targets + these candidates; abstains under min_language_letters
    language_candidates: tuple[str, ...] = DEFAULT_CANDIDATES
    min_language_letters: int = MIN_LANGUAGE_LETTERS
    min_language_confidence: float = 0.5  # reject only when the foreign guess is at least this confident
    min_language_share: float = 0.08  # below this stop-word share in every language, text is gibberish
    max_symbol_share: float = 0.15
    max_top_token_share: float = 0.25
    # toxic_output: reject when the offline classifier's probability that the output's prose is offensive
    # reaches this (above 1: the rule is off)
    toxicity_threshold: float = DEFAULT_TOXICITY_THRESHOLD
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
        if not self.toxicity_threshold > 0:
            raise ValueError(f"toxicity_threshold must be above 0 (a probability; above 1 turns toxic_output off), "
                             f"not {self.toxicity_threshold!r}")


@dataclass(frozen=True)
class Phase:
    """When rules run: on which texts (as they arrive, or as exported: after PII redaction) and over
    which rows (all of the batch, or those no earlier phase rejected)."""
    name: str
    description: str
    exported_texts: bool = False
    unrejected_only: bool = False


PHASES: tuple[Phase, ...] = (
    Phase("review", "reviewers' rejections: they outrank every automatic rule"),
    Phase("content", "one row at a time, on the texts as they arrive"),
    Phase("contamination", "the batch against the registered evaluation sets, on the texts as exported",
          exported_texts=True),
    Phase("dedup", "the rows no earlier rule rejected, against each other", exported_texts=True,
          unrejected_only=True),
    Phase("after_dedup", "after dedup, so a copy of a poor row is reported as a copy", exported_texts=True),
)
PHASE_NAMES = tuple(p.name for p in PHASES)

RuleFn = Callable[[dict, FilterSettings], "str | None"]


@dataclass(frozen=True)
class FilterRule:
    """One registered rule: its name (the `rule` column), description, phase, and either a row
    function or the batch function that reports it (one batch function may report several names)."""
    name: str
    description: str
    phase: str
    row: RuleFn | None = None
    batch: Callable | None = None
    columns: tuple[str, ...] = ()  # extra columns of rejected_generations its hits fill
    # a row rule's optional (records, settings) -> None, called once with the records it is about to
    # judge: to do for all of them at once what each row would do alone (tokenize them in one batch)
    prepare: Callable | None = None


#: every rule by name, in registration order (rule_order() sorts by phase)
FILTER_RULES: dict[str, FilterRule] = {}
#: the row rules alone, name -> function
RULES: dict[str, RuleFn] = {}


def register(spec: FilterRule) -> None:
    if spec.phase not in PHASE_NAMES:
        raise ValueError(f"rule {spec.name!r}: unknown phase {spec.phase!r}; use one of {', '.join(PHASE_NAMES)}")
    if spec.name in FILTER_RULES:
        raise ValueError(f"rule {spec.name!r} is registered twice")
    FILTER_RULES[spec.name] = spec


def rule(name: str, description: str = "", phase: str = "content", prepare: Callable | None = None):
    def add(fn: RuleFn) -> RuleFn:
        register(FilterRule(name, description or (fn.__doc__ or "").strip().splitlines()[0], phase, row=fn,
                            prepare=prepare))
        RULES[name] = fn
        return fn

    return add


def rule_order() -> tuple[str, ...]:
    """Every rule name, phase by phase, registration order within a phase: the first that fired on
    a row is its `rule`."""
    rank = {p: i for i, p in enumerate(PHASE_NAMES)}
    return tuple(sorted(FILTER_RULES, key=lambda n: rank[FILTER_RULES[n].phase]))  # sorted() is stable


def rule_descriptions() -> dict[str, str]:
    """name -> description, in rule order (what the UI lists)."""
    return {n: FILTER_RULES[n].description for n in rule_order()}


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


def _budget_text(row: dict, s: FilterSettings) -> str | None:
    """The example's text when it may exceed the token budget, else None."""
    if not all(_is_text(row.get(c)) or _missing(row.get(c)) for c in ("instruction", "output", "input_message",
                                                                     "identity")):
        return None  # invalid_record reports it
    text = example_text(to_chat_record(row)["messages"])
    # a WordPiece token spans at least one non-space character: shorter texts cannot exceed the budget
    return text if len(text) - text.count(" ") - text.count("\n") > s.max_tokens_per_example else None


def _count_budget_texts(records: list[dict], s: FilterSettings) -> None:
    # one batch for the tokenizer's threads instead of a call per row (real conversations: 2.7 s of a
    # 630-row day's filter were single-text calls)
    remember_token_counts([t for r in records if (t := _budget_text(r, s)) is not None], s.tokenizer)


@rule("too_many_tokens", "the example (system prompt, history, instruction, output) is longer than the token budget",
      prepare=_count_budget_texts)
def too_many_tokens(row: dict, s: FilterSettings) -> str | None:
    text = _budget_text(row, s)
    if text is None:
        return None
    n = token_count(text, s.tokenizer)
    return (f"example has {n:,} tokens (budget max_tokens_per_example {s.max_tokens_per_example:,})"
            if n > s.max_tokens_per_example else None)


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


@rule("instruction_junk", "instruction is empty, a placeholder or keyboard mash, or it (or the conversation's first "
      "turn) asks for more of an earlier answer")
def instruction_junk(row: dict, s: FilterSettings) -> str | None:
    v = row.get("instruction")
    if _missing(v) or not _is_text(v) or not v.strip():
        return "instruction is empty"
    norm = " ".join(v.strip().lower().split())
    if norm in PLACEHOLDERS or norm.strip(".?! ") in PLACEHOLDERS:
        return f"instruction is a placeholder ({v.strip()[:30]!r})"
    if s.reject_continuations and continuation_request(v):
        return f"instruction only asks to continue an earlier answer ({' '.join(v.split())[:40]!r})"
    opener = opening_request(row) if s.reject_continuations else None
    if opener is not None and (continuation_request(opener) or refers_to_missing_turn(opener)):
        # a chunk of a split dump: its first answer goes on from one the conversation does not hold
        return f"the conversation opens on an earlier answer it does not hold ({' '.join(opener.split())[:40]!r})"
    toks = words(v)
    if len(toks) < s.min_instruction_words:
        return f"instruction has {len(toks)} words (minimum {s.min_instruction_words})"
    if all(is_keyboard_mash(t) for t in toks):
        return "instruction is keyboard mash"
    return None


#: instructions that only ask for more of an earlier answer: the pair teaches nothing on its own and the
#: reply continues a turn that was itself cut off (ShareGPT: "continue", "go on", "give me 10 more")
_CONTINUATION_RE = re.compile(
    r"^\W*(?:ok(?:ay)?[,.!]?\s+|great[,.!]?\s+|thanks?[,.!]?\s+|now\s+|and\s+)?(?:please\s+|pls\s+|can you\s+|could you\s+)?"
    r"(?:continue|cont\b|go on|keep going|carry on|proceed|next(?:\s+(?:one|part|page|step|section|chapter))?\W*$"
    r"|more\W*$|finish(?:\s+(?:it|that|the|your))|complete (?:it|that|the (?:code|rest|answer|response|list|table))"
    r"|write (?:the )?(?:rest|remaining|more|after)|(?:what is |show (?:me )?)?the (?:rest|remaining part)"
    r"|(?:give|show|list|write|tell) (?:me )?(?:\w+ )?(?:a few |some |\d+ )?more\b|list more|another \d+"
    r"|create another|generate (?:\d+ )?more|(?:do )?(?:the )?same (?:for|with)? ?(?:the )?(?:rest|next))",
    re.IGNORECASE)
_CONTINUATION_WORDS = ("繼續", "继续", "계속", "続け", "続き", "продолж", "weiter", "continua", "contin\u00faa")


#: an opening turn that points at an assistant turn before it ("redo your previous response"); "the above"
#: is left alone: in a first message it is as often the text pasted above the question
_BACK_REFERENCE_RE = re.compile(
    r"\b(?:your|the) (?:last|previous|prior|earlier) (?:responses?|answers?|repl(?:y|ies)|messages?|code|outputs?|"
    r"scripts?|examples?|versions?|lists?|suggestions?)\b", re.IGNORECASE)


def opening_request(row: dict) -> str | None:
    """The first user turn of an imported conversation that holds earlier turns (input_message's
    conversation_history), or the instruction of a one-turn row; None when there is none, or when the
    row holds the message its instruction answers ("reply to the last message": it is there)."""
    history = conversation_history(row.get("input_message"))
    if history is None:
        v, message = row.get("instruction"), row.get("input_message")
        if _is_text(message) and message.strip():
            return None
        return v if _is_text(v) else None
    return next((t["content"] for t in history if t["role"] == "user" and _is_text(t["content"])), None)


def refers_to_missing_turn(text: str) -> bool:
    """True for a short request that names an earlier answer ("expand your last response"): as the first
    turn of a conversation, the answer it names is not there."""
    t = " ".join(text.split())
    return len(t) <= 200 and bool(_BACK_REFERENCE_RE.search(t))


def continuation_request(text: str) -> bool:
    """True for an instruction that only asks to continue or repeat an earlier answer."""
    t = " ".join(text.split())
    if len(t) > 160 and not t.lower().startswith("continue from"):
        return False
    return bool(_CONTINUATION_RE.match(t)) or (len(t) <= 40 and any(w in t.lower() for w in _CONTINUATION_WORDS))


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


#: the rules run one after another over a whole batch, so the cache must hold a batch's replies or every
#: rule parses every output again (4,096 held: an 8,188-row batch parsed its outputs 39,510 times instead
#: of 7,902); apply_filters empties it after each batch
REPLY_CACHE_ROWS = 65_536


@lru_cache(maxsize=REPLY_CACHE_ROWS)
def reply_of(text: str) -> Reply:
    """The parsed reply, shared by the rules that judge one output (each row is parsed once)."""
    return parse_reply(text)


def _reply(row: dict) -> Reply:
    return reply_of(_out(row))


@rule("html_markup", "output prose contains HTML tags or entities (HTML inside code is content)")
def html_markup(row: dict, s: FilterSettings) -> str | None:
    # unfenced code-looking lines count: HTML an answer shows as content belongs in a code block
    m = _HTML_RE.search(_reply(row).outside_fences)
    return f"output contains HTML markup outside code ({m.group(0)[:20]!r})" if m else None


_CHAR_RUN_RE = re.compile(r"(\S)\1{29,}")
#: a reply with fewer prose words than this is judged as code, not as language
MIN_PROSE_WORDS = 8
#: running text shorter than this is too little to expect stop words in (a one-line answer, a label)
MIN_STOPWORD_TEST_WORDS = 10


def normalize_sentence(x: str) -> str:
    return " ".join(words(x))


_LETTER_RE = re.compile(r"[^\W\d_]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _latin_share(text: str) -> float:
    n = len(_LETTER_RE.findall(text))
    return len(_LATIN_RE.findall(text)) / n if n else 0.0


@rule("gibberish_output", "output is not language: prose with no stop words, mostly symbols, or a token, "
                          "sentence or code line repeated")
def gibberish_output(row: dict, s: FilterSettings) -> str | None:
    reply = _reply(row)
    prose = reply.prose
    toks = words(prose)
    if len(toks) < MIN_PROSE_WORDS and reply.code.strip():
        # a code answer is judged as code: random characters or one line over and over are not a program
        lines = [ln.strip() for ln in reply.code.splitlines() if len(ln.strip()) > 3]
        if len(lines) >= 10:
            top = max(lines.count(x) for x in set(lines))
            if top / len(lines) > 0.5:
                return f"one code line makes up {top / len(lines):.0%} of the output"
        run = _CHAR_RUN_RE.search(reply.code)
        if run and len(run.group(0)) >= max(200, len(reply.code) // 2):
            return f"output holds a run of {len(run.group(0))} identical characters"
        return None
    stripped = re.sub(r"\s", "", prose)
    # symbols and a dominant token mean noise only where the prose has few stop words: formulas, data
    # and short code-introducing sentences have plenty
    language_like = max(stopword_shares(prose).values()) >= 2 * s.min_language_share if toks else False
    if len(stripped) >= 20 and not language_like:
        symbols = sum(1 for c in stripped if not c.isalnum()) / len(stripped)
        if symbols > s.max_symbol_share:
            return f"{symbols:.0%} of the output's prose characters are symbols"
    run = _CHAR_RUN_RE.search(prose)
    if run:
        return f"output holds a run of {len(run.group(0))} identical characters"
    if len(toks) >= 8:
        top_token, n_top = max(Counter(toks).items(), key=lambda kv: (kv[1], kv[0]))
        top = n_top / len(toks)
        if top > s.max_top_token_share and (top_token not in STOPWORDS["en"] or top > 0.4):
            return f"one token makes up {top:.0%} of the output"
    sentences = [normalize_sentence(x) for x in re.split(r"(?<=[.!?])\s+", prose) if len(x.split()) >= 3]
    if len(sentences) >= 4:
        top_sentence = max(sentences.count(x) for x in set(sentences))
        if top_sentence >= 3 and top_sentence / len(sentences) > 0.4:
            return f"one sentence repeats {top_sentence} times"
    # stop words are judged on running text (lists of titles or terms have few), in Latin script (other
    # scripts are the language rule's to judge)
    running = words(reply.sentences)
    if (len(running) >= MIN_STOPWORD_TEST_WORDS and _latin_share(reply.sentences) >= 0.5
            and max(stopword_shares(reply.sentences).values()) < s.min_language_share):
        return "output has no stop words of any known language (gibberish)"
    return None


def _detect_batch_languages(records: list[dict], s: FilterSettings) -> None:
    # one parallel detector call for the batch instead of one call per row on one core
    remember_languages([_reply(r).prose for r in records], candidate_languages(s.target_languages, s.language_candidates),
                       s.min_language_letters)


@rule("non_target_language", "output prose (code ignored) is not in one of the target languages",
      prepare=_detect_batch_languages)
def non_target_language(row: dict, s: FilterSettings) -> str | None:
    guess = detect_language(_reply(row).prose, candidate_languages(s.target_languages, s.language_candidates),
                            s.min_language_letters, targets=s.target_languages)
    if guess and guess.language not in s.target_languages and 1 - guess.target_share >= s.min_language_confidence:
        return (f"output looks {guess.language} (confidence {guess.confidence:.2f}, targets together "
                f"{guess.target_share:.2f}); targets are {','.join(s.target_languages)}")
    return None


@rule("toxic_output", "output prose (code ignored) reads as offensive to the offline classifier "
                           "(alt-profanity-check); the instruction is not judged")
def toxic_output(row: dict, s: FilterSettings) -> str | None:
    # the output only: it is what the fine-tuned model learns to write. A rude prompt answered politely
    # is good training data; a toxic answer never is
    if s.toxicity_threshold > 1:
        return None
    p = toxicity(_reply(row).prose)
    if p is not None and p >= s.toxicity_threshold:
        return (f"output reads as offensive (probability {p:.2f} >= toxicity_threshold "
                f"{s.toxicity_threshold:.2f}, {MODEL_NAME})")
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


_END_RE = re.compile(r"[.!?)\"'\u201d\u2019;\]}>`\u3002\uff01\uff1f\u300d\u300f\uff09\u2026]$")
_PLACEHOLDER_LINE_RE = re.compile(r"^\[[^\]]{2,40}\]$|^\{[^}]{2,40}\}$|^<[^>]{2,40}>$")
_TRAILING_MARKS_RE = re.compile(r"[\s*_~]+$")
#: a sentence does not end on these words: an answer that stops on one was cut off
DANGLING_WORDS = frozenset(
    "the a an and or but nor to of in on at for with from by into onto about over under between through "
    "via per as than that which who whose whom what where when while if because since although though is are "
    "was were be been being am has have had do does did will would can could should may might must shall "
    "this these those their your our my its his her such also very more most less each every any some "
    "including like using based not no".split())
#: a line of just one of these is a sentence that was cut after its first word
SINGLE_WORD_CUTS = DANGLING_WORDS | frozenset("i you we they he she it there here".split())
#: a last line of at most this many words without end punctuation can be a title, a name or "END"
SHORT_LINE_WORDS = 6


def _ended(line: str) -> bool:
    t = _TRAILING_MARKS_RE.sub("", line)
    if not t:
        return True
    last = t[-1]
    return bool(_END_RE.search(t)) or unicodedata.category(last) in ("So", "Sk") or t.split()[-1].startswith("#")


def _title_like(line: str) -> bool:
    toks = [t for t in re.findall(r"[^\W\d_][\w'-]*", _LIST_MARK_RE.sub("", line)) if t.lower() not in DANGLING_WORDS]
    return bool(toks) and all(t[0].isupper() for t in toks)


_LIST_MARK_RE = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")


@rule("truncated_output", "output stops mid-sentence or inside an unclosed code block")
def truncated_output(row: dict, s: FilterSettings) -> str | None:
    out = _out(row).rstrip()
    if not out:
        return None
    reply = _reply(row)
    if reply.open_fence:
        return f"output ends inside a code block that is never closed (…{reply.last_line[-30:]!r})"
    if reply.last_kind == "code":
        cut = code_cut(reply.last_code, reply.last_code_fenced)
        return f"output's last code block stops mid-statement ({cut}: …{reply.last_line[-30:]!r})" if cut else None
    if reply.last_kind == "table":
        return table_cut(out)
    if reply.last_kind == "empty":
        return None
    lines = [ln.strip() for ln in out.replace("\u200b", "").splitlines() if ln.strip()]
    last = reply.last_line
    structural = references_cut(lines) or options_cut(lines)
    if structural:
        return structural
    if _ended(last) or has_signoff(lines) or any(_PLACEHOLDER_LINE_RE.match(x) for x in lines[-3:]):
        return None  # punctuation, an emoji or hashtag, a sign-off, or a "[Your Name]" placeholder
    toks = words(last)
    why = f"output ends mid-sentence (…{last[-30:]!r})"
    if reply.last_kind == "heading":
        return f"output ends on a heading with nothing under it (…{last[-30:]!r})"
    if toks and toks[-1] in DANGLING_WORDS:
        return why
    siblings = [x for x in reply.last_siblings if not (len(words(x)) <= SHORT_LINE_WORDS and _title_like(x))]
    if reply.last_kind == "list" and reply.last_siblings and all(_ended(x) for x in reply.last_siblings):
        return f"output ends on a list item that stops mid-sentence (…{last[-30:]!r})"
    if reply.last_kind == "list" and not reply.last_siblings and len(toks) <= 2:
        return f"output ends on a one-item list that stops after {len(toks)} word(s) (…{last[-30:]!r})"
    siblings_ended = [_ended(x) for x in siblings]
    # a list of titles, a poem or a song ends its lines without punctuation, and so may its last line
    unended_block = sum(not e for e in siblings_ended) * 2 > len(siblings_ended) and (
        len(siblings_ended) >= (1 if reply.last_kind == "list" else 2))
    if unended_block:
        return None
    if len(toks) <= SHORT_LINE_WORDS and _title_like(last) and not (len(toks) == 1 and toks[0] in SINGLE_WORD_CUTS):
        return None  # a title, a name or "END"
    return why


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_cut(text: str) -> str | None:
    """A table ends an answer, unless its last row starts filling the columns and stops: two or more
    cells filled, the trailing ones empty, where the header names every column (a corner cell aside).
    A footnote row (one cell) is not a cut."""
    rows: list[str] = []
    for ln in reversed([x for x in text.splitlines() if x.strip()]):
        if not ln.strip().startswith("|"):
            break
        rows.append(ln)
    rows.reverse()
    if len(rows) < 3:
        return None
    header, last = _cells(rows[0]), _cells(rows[-1])
    trailing = next((i for i, c in enumerate(reversed(last)) if c), len(last))
    filled = len(last) - trailing
    if all(header[1:]) and filled >= 2 and trailing >= 2 and len(last) == len(header):
        return f"output's last table row stops after {filled} of {len(header)} columns"
    return None


_CITATION_RE = re.compile(r"\[(\d{1,3})\]")
_OPTION_RE = re.compile(r"^([A-Ha-h])[).]\s+\S")


def references_cut(lines: list[str]) -> str | None:
    """A reference list that stops before the last source the text cites ([9] cited, list ends at [1])."""
    m = re.match(r"^\[(\d{1,3})\]\s+\S", lines[-1]) if lines else None
    if not m:
        return None
    listed = int(m.group(1))
    cited = [int(c) for ln in lines[:-1] if not re.match(r"^\[\d{1,3}\]\s", ln) for c in _CITATION_RE.findall(ln)]
    if cited and max(cited) > listed:
        return f"output's reference list stops at [{listed}] while the text cites [{max(cited)}]"
    return None


def options_cut(lines: list[str]) -> str | None:
    """A multiple-choice question whose options stop before the letters the other questions have."""
    groups: list[list[str]] = []
    current: list[str] = []
    for ln in lines:
        m = _OPTION_RE.match(ln)
        if m:
            current.append(m.group(1).lower())
        elif current:
            groups.append(current)
            current = []
    if not current or not groups:
        return None  # the answer does not end inside an option list
    usual = max(len(g) for g in groups)
    if len(groups) >= 2 and all(len(g) == usual for g in groups) and len(current) < usual:
        return f"output's last question stops after {len(current)} of {usual} options"
    return None


_CODE_COMMENT_RE = re.compile(r"^\s*(#|//|--|;|%)")
_OPEN_COMMENT_RE = re.compile(r"/\*(?!.*\*/)|<!--(?!.*-->)")
_STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`\n]*`')
_CONTRACTION_RE = re.compile(r"[^\W\d_]'[^\W\d_]")
#: a statement does not end on these (an assignment, a call, an operator, a key with no value)
_CUT_CODE_END_RE = re.compile(r"(?:[=(\[,+\\:]|&&|\|\||\.|->|=>)$")
_CODE_PLACEHOLDER_RE = re.compile(r"\.\.\.|\u2026|\b(rest|remaining|etc|more|same|other)\b", re.IGNORECASE)


def code_cut(block: str, fenced: bool) -> str | None:
    """Why the code a reply ends with was cut off mid-statement, or None when it ends cleanly.

    ShareGPT-style dumps close the fence of an answer that was cut inside code, so a closing fence
    alone does not mean the code is complete: the last line and the bracket balance tell."""
    lines = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    if _OPEN_COMMENT_RE.search(last):
        return "a comment is never closed"
    if _CODE_COMMENT_RE.match(last):
        if len(lines) >= 3 and not _CODE_PLACEHOLDER_RE.search(last) and not re.match(r"^\s*#!", last):
            return "it ends on a comment announcing code that never comes"
        return None
    bare = _CONTRACTION_RE.sub("", _STRING_RE.sub('""', last))
    if bare.count('"') % 2 or bare.count("'") % 2:
        return "a string is never closed"
    if _CUT_CODE_END_RE.search(bare) and not bare.endswith(("...", "\u2026")):
        return f"the last line ends on {bare[-2:].strip()!r}"
    if sum(ln.endswith(";") for ln in lines[:-1]) >= 3 and re.search(r"[\w$]$", bare):
        return "a statement in code that ends its statements with ';' stops on a bare word"
    if fenced and len(lines) >= 2:
        depth = 0
        for ln in lines:
            if _CODE_COMMENT_RE.match(ln):
                continue
            code_only = _STRING_RE.sub('""', ln.split(" //")[0].split(" #")[0])
            depth += sum(code_only.count(c) for c in "([{") - sum(code_only.count(c) for c in ")]}")
        if depth > 0:
            return f"{depth} bracket(s) are never closed"
    return None


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
    if _is_text(row.get("input_message")) and all(_is_text(row.get(c)) or _missing(row.get(c))
                                                   for c in ("instruction", "output", "identity")):
        # the export check reads the exported messages, not the JSON-escaped history column: judge those too
        kind = first_pii_kind(example_text(to_chat_record(row)["messages"]), s.pii_kinds)
        if kind:
            return f"the conversation history contains {KIND_PHRASES[kind]}"
    return None


@rule("low_quality", "quality score from usage signals is below the configured minimum", phase="after_dedup")
def low_quality(row: dict, s: FilterSettings) -> str | None:
    q = row.get("quality_score")
    if q is None:
        q = row_quality_score(row, s.quality_weights)
    return f"quality score {q:.2f} below minimum {s.min_quality:.2f}" if q < s.min_quality else None


# the batch rules register themselves into the same registry (imported last: they import this module)
from curation_dagster.lib import batch_rules  # noqa: E402,F401
