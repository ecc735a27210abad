"""Deterministic generator of synthetic writing-assistant generations with labelled noise.

The data imitates the logs of an AI email-drafting product: a user picks a template, types a short
instruction, has identity settings (name, role, company, tone), optionally pastes the message they
are replying to, and the model writes the email. Usage signals (copied, sent, edit ratio, rating)
come with each generation. About a quarter of the rows carry exactly one kind of injected noise;
the second returned frame holds the ground truth.

Determinism: every random draw goes through ``random.Random`` instances seeded from ``seed``; no
global random state, no ``hash()`` of strings, no iteration over sets. Same arguments give
byte-identical frames.

Only the standard library, numpy and pandas are used.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import uuid

import numpy as np
import pandas as pd

from curation_dagster.lib.pii import luhn_check_digit

from . import texts as T

CURRENT_VERSIONS = ("1.4.0", "1.5.0", "1.6.0")
OLD_VERSIONS = ("1.2.0", "1.3.1")

NOISE_KINDS = (
    "clean",
    "empty_instruction",
    "placeholder_instruction",
    "junk_identity",
    "gibberish_output",
    "truncated_output",
    "wrong_language",
    "exact_duplicate",
    "near_duplicate",
    "pii",
    "old_generator_version",
    "low_quality",
    "html_output",
    "invalid_record",
    "cross_day_duplicate",
)

# Share of all rows per noise kind; "clean" gets the rest (about 73.5%).
NOISE_SHARES = {
    "empty_instruction": 0.015,
    "placeholder_instruction": 0.015,
    "junk_identity": 0.02,
    "gibberish_output": 0.015,
    "truncated_output": 0.02,
    "wrong_language": 0.02,
    "exact_duplicate": 0.02,
    "near_duplicate": 0.02,
    "pii": 0.02,
    "old_generator_version": 0.03,
    "low_quality": 0.05,
    "html_output": 0.01,
    "invalid_record": 0.01,
}

GENERAL_SHARE = 0.40
TEMPLATES = ("general",) + tuple(T.SPECIFIC_TEMPLATES)

GENERATION_COLUMNS = (
    "generation_id", "created_at", "template_id", "generator_version", "instruction", "identity",
    "input_message", "output", "copied", "sent", "edit_ratio", "rating",
)
LABEL_COLUMNS = ("generation_id", "noise_kind", "is_noise", "duplicate_of", "detail", "language")

INVALID_SUBKINDS = (
    "output_none", "output_empty", "template_none", "template_unknown", "version_none",
    "lone_surrogate", "replacement_char", "control_char", "identity_not_object",
)
NEAR_DUPLICATE_EDITS = (
    "greeting_changed", "word_swapped", "case_changed", "sentence_added", "sentence_removed", "sentences_reordered",
)
MEGABYTE_SUBKIND = "megabyte_output"
MEGABYTE_CHARS = 1_100_000
MAX_MEGABYTE_ROWS = 3

_COPIED_FIELDS = ("template_id", "generator_version", "instruction", "identity", "input_message", "output")
_DAY_MS = 86_400_000
_DUP_MAX_DELAY_MS = 20 * 60 * 1000
_MIN_WORDS = 60
_IMPERATIVE_VERBS = (
    "Write", "Ask", "Email", "Send", "Tell", "Let", "Request", "Reply", "Invite", "Apologize",
    "Congratulate", "Thank", "Follow", "Remind", "Introduce", "Make", "Offer", "Complain", "Cancel",
    "Draft", "Reject", "Set", "Say", "Reach", "Answer", "Respond", "Propose", "Pitch", "Accept",
    "Resign", "Message", "Nudge", "Politely",
)
_WORD_RE = re.compile(r"\w+")
_GREETING_RE = re.compile(r"^(" + "|".join(sorted(T.GREETING_WORDS, key=len, reverse=True)) + r")\b")

# Scenarios as flat, ordered lists: (template_id, scenario_key, scenario_dict).
_GENERAL_SCENARIOS = tuple(("general", key, scen) for key, scen in T.GENERAL_TOPICS.items())
_SPECIFIC_IDS = tuple(T.SPECIFIC_TEMPLATES)
_SPECIFIC_WEIGHTS = tuple(T.TEMPLATE_WEIGHTS[t] for t in _SPECIFIC_IDS)


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------


def _fmt_day(d: dt.date) -> str:
    """``Thursday, November 12`` (locale independent)."""
    return f"{T.WEEKDAYS[d.weekday()]}, {T.MONTHS[d.month - 1]} {d.day}"


def _fmt_past(d: dt.date) -> str:
    """``November 3``."""
    return f"{T.MONTHS[d.month - 1]} {d.day}"


def _workday(d: dt.date) -> dt.date:
    """Move a weekend date to the following Monday."""
    wd = d.weekday()
    return d + dt.timedelta(days=7 - wd) if wd >= 5 else d


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def _words(text: str) -> int:
    return len(text.split())


def _shingles(text: str, n: int = 3) -> set:
    toks = _WORD_RE.findall(text.lower())
    return {tuple(toks[i : i + n]) for i in range(max(0, len(toks) - n + 1))}


def shingle_jaccard(a: str, b: str, n: int = 3) -> float:
    """Jaccard similarity of lower-cased word n-gram sets (used to check near-duplicates)."""
    sa, sb = _shingles(a, n), _shingles(b, n)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def _first_word(text: str) -> str:
    m = _WORD_RE.search(text)
    return m.group(0).lower() if m else ""


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ------------------------------------------------------------------------------------------------
# Clean drafts
# ------------------------------------------------------------------------------------------------


def _context(rng: random.Random, day: dt.date, sender: dict, scenario: dict) -> dict:
    """All slot values for one row (see ``texts.BASE_SLOTS``), plus scenario-specific slots."""
    rfirst = rng.choice(T.FIRST_NAMES)
    while rfirst == sender["first"]:
        rfirst = rng.choice(T.FIRST_NAMES)
    rlast = rng.choice(T.LAST_NAMES)
    rcompany = rng.choice(T.COMPANIES)
    while rcompany == sender["company"]:
        rcompany = rng.choice(T.COMPANIES)
    company2 = rng.choice(T.COMPANIES)
    colleague = f"{rng.choice(T.FIRST_NAMES)} {rng.choice(T.LAST_NAMES)}"
    soon = _workday(day + dt.timedelta(days=rng.randint(1, 4)))
    when = _workday(day + dt.timedelta(days=rng.randint(5, 12)))
    when2 = _workday(when + dt.timedelta(days=rng.randint(2, 9)))
    past = day - dt.timedelta(days=rng.randint(1, 14))
    month = T.MONTHS[(day.month - 1 + rng.randint(1, 3)) % 12]
    past_month = T.MONTHS[(day.month - 1 - rng.randint(2, 6)) % 12]
    fee_cents = rng.randint(1200, 24000)
    airline, code = rng.choice(T.AIRLINES)
    time1 = rng.choice(T.TIMES)
    time2 = rng.choice(T.TIMES)
    ctx = {
        "name": rfirst,
        "rlast": rlast,
        "rfull": f"{rfirst} {rlast}",
        "rcompany": rcompany,
        "rrole": rng.choice(T.ROLES["general"]),
        "me": sender["name"],
        "me_first": sender["first"],
        "role": sender["role"],
        "company": sender["company"],
        "company2": company2,
        "day": _fmt_day(when),
        "day2": _fmt_day(when2),
        "soon_day": _fmt_day(soon),
        "past_day": _fmt_past(past),
        "weekday": T.WEEKDAYS[rng.randint(0, 4)],
        "time": time1,
        "time2": time2,
        "month": month,
        "past_month": past_month,
        "amount": f"${rng.randint(8, 480) * 50:,}",
        "fee": _money(fee_cents),
        "half": _money(fee_cents // 2),
        "invoice": f"INV-{rng.randint(1000, 99999)}",
        "order": f"#{rng.randint(10000, 999999)}",
        "ticket": f"#{rng.randint(10000, 99999)}",
        "product": rng.choice(T.PRODUCTS),
        "feature": rng.choice(T.FEATURES),
        "job": rng.choice(T.JOBS),
        "salary": f"${rng.randint(55, 180) * 1000:,}",
        "event": rng.choice(T.EVENTS),
        "venue": rng.choice(T.VENUES),
        "city": rng.choice(T.CITIES),
        "project": rng.choice(T.PROJECTS),
        "topic": rng.choice(T.TOPICS),
        "deliverable": rng.choice(T.DELIVERABLES),
        "ndays": rng.choice(T.NUMBER_WORDS),
        "hours": rng.choice(T.HOUR_WORDS),
        "pct": rng.choice(T.PERCENTS),
        "duration": rng.choice(T.DURATIONS),
        "duration_adj": rng.choice(T.DURATIONS_ADJ),
        "colleague": colleague,
        "quarter": rng.choice(T.QUARTERS),
        "team_size": rng.choice(T.TEAM_SIZES),
        "issue": rng.choice(T.ISSUES),
        "unit": f"Apartment {rng.randint(1, 24)}{rng.choice('ABCDEF')}",
        "team": rng.choice(T.TEAMS),
        "airline": airline,
        "flight": f"{code} {rng.randint(100, 2999)}",
        "booking": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
        "room": str(rng.randint(101, 1240)),
        "member_id": f"M-{rng.randint(10000, 99999)}",
    }
    for key, options in scenario.get("slots", {}).items():
        ctx[key] = rng.choice(options)
    return ctx


def _pick_scenario(rng: random.Random) -> tuple[str, str, dict]:
    if rng.random() < GENERAL_SHARE:
        return rng.choice(_GENERAL_SCENARIOS)
    template_id = rng.choices(_SPECIFIC_IDS, weights=_SPECIFIC_WEIGHTS, k=1)[0]
    scenarios = T.SPECIFIC_TEMPLATES[template_id]
    idx = rng.randrange(len(scenarios))
    return template_id, f"{template_id}#{idx}", scenarios[idx]


def _sender(rng: random.Random, scenario: dict) -> dict:
    first, last = rng.choice(T.FIRST_NAMES), rng.choice(T.LAST_NAMES)
    return {
        "first": first,
        "name": f"{first} {last}",
        "role": rng.choice(T.ROLES[scenario.get("role_group", "general")]),
        "company": rng.choice(T.COMPANIES),
        "tone": rng.choices(T.TONES, weights=T.TONE_WEIGHTS, k=1)[0],
    }


def _decorate_instruction(rng: random.Random, text: str, tone: str) -> str:
    """Make user instructions look typed: optional politeness prefix, tone hint, casing, punctuation."""
    first = text.split(" ", 1)[0]
    is_verb = first in _IMPERATIVE_VERBS
    r = rng.random()
    if is_verb and r < 0.10:
        text = "Please " + text[0].lower() + text[1:]
    elif is_verb and r < 0.16:
        text = "Can you please " + text[0].lower() + text[1:]
        text = text[:-1] + "?" if text.endswith(".") else text + "?"
    elif is_verb and r < 0.22:
        text = "pls " + text[0].lower() + text[1:]
    elif is_verb and r < 0.30:
        text = text[0].lower() + text[1:]
    if rng.random() < 0.30:
        bank = T.INSTRUCTION_SUFFIXES[tone] if rng.random() < 0.6 else T.INSTRUCTION_SUFFIXES["neutral"]
        suffix = rng.choice(bank)
        if _words(text) + _words(suffix) <= 30:
            text = (text if text.endswith((".", "?", "!")) else text + ".") + " " + suffix
    if text.endswith(".") and rng.random() < 0.15:
        text = text[:-1]
    return text


def _input_message(rng: random.Random, scenario: dict, ctx: dict) -> str:
    """The message the user pasted in (written by the recipient to the user)."""
    sents = scenario["input"]
    k = rng.randint(min(2, len(sents)), len(sents))
    chosen = sorted(rng.sample(range(len(sents)), k))
    greeting = rng.choice(T.INPUT_GREETINGS).format_map(ctx)
    body = " ".join(sents[i].format_map(ctx) for i in chosen)
    signoff = rng.choice(T.INPUT_SIGNOFFS).format_map(ctx)
    return f"{greeting}\n\n{body}\n\n{signoff}"


def render(parts: dict) -> str:
    """Render email parts (greeting, sentences, closer, sign-off, signature) into the output text."""
    sents = parts["sentences"]
    split = parts["split"]
    if 0 < split < len(sents):
        paras = [" ".join(sents[:split]), " ".join(sents[split:])]
    else:
        paras = [" ".join(sents)]
    if parts["closer_inline"]:
        paras[-1] = paras[-1] + " " + parts["closer"]
    else:
        paras.append(parts["closer"])
    return parts["greeting"] + "\n\n" + "\n\n".join(paras) + "\n\n" + parts["signoff"] + "\n" + parts["signature"]


def _compose(rng: random.Random, scenario: dict, tone: str, ctx: dict, sender: dict, replying: bool) -> dict:
    """Build the parts of a clean email for one scenario."""
    fmt = lambda s: s.format_map(ctx)  # noqa: E731
    greetings = scenario.get("greetings") or T.GREETINGS[tone]
    greeting = fmt(rng.choice(greetings))
    generic = scenario.get("generic_close", True)

    lead: list[str] = []
    if replying:
        lead.append(fmt(rng.choice(scenario.get("reply_open") or T.REPLY_OPENERS)))
    elif generic and rng.random() < 0.3:
        lead.append(rng.choice(T.PLEASANTRIES[tone]))
    opener = fmt(rng.choice(scenario["open"]))

    body = scenario["body"]
    extra = list(range(1, len(body)))
    k = len(extra) if rng.random() < 0.5 else rng.randint(min(1, len(extra)), len(extra))
    chosen = [0] + sorted(rng.sample(extra, k))
    body_sents = [fmt(rng.choice(body[i])) for i in chosen]

    closers = tuple(scenario["close"]) + (T.TONE_CLOSERS[tone] if generic else ())
    closer = fmt(rng.choice(closers))
    signoffs = scenario.get("signoffs") or T.SIGNOFFS[tone]
    signoff = rng.choice(signoffs)
    if _first_word(signoff) == _first_word(closer):  # avoid "Thanks so much, ...\n\nThanks so much,"
        signoff = next((x for x in signoffs if _first_word(x) != _first_word(closer)), signoff)
    signature = sender["first"] if tone in ("friendly", "casual") and rng.random() < 0.5 else sender["name"]

    def total_words() -> int:
        return sum(_words(s) for s in lead + [opener] + body_sents) + _words(greeting) + _words(closer) + 4

    # Pad short drafts with the unused body slots, then with a pleasantry.
    unused = [i for i in extra if i not in chosen]
    while total_words() < _MIN_WORDS and unused:
        i = unused.pop(0)
        chosen = sorted(chosen + [i])
        body_sents = [fmt(rng.choice(body[j])) for j in chosen]
    if total_words() < _MIN_WORDS and generic and not (lead and lead[-1] in T.PLEASANTRIES[tone]):
        lead.append(rng.choice(T.PLEASANTRIES[tone]))

    sentences = lead + [opener] + body_sents
    n = len(sentences)
    split = rng.randint(1, n - 1) if n >= 3 and rng.random() < 0.75 else 0
    return {
        "greeting": greeting,
        "sentences": sentences,
        "split": split,
        "closer": closer,
        "closer_inline": rng.random() < 0.3,
        "signoff": signoff,
        "signature": signature,
    }


def _draft(rng: random.Random, day: dt.date) -> dict:
    """One clean generation: template, instruction, identity, input message, output parts."""
    template_id, scenario_key, scenario = _pick_scenario(rng)
    sender = _sender(rng, scenario)
    ctx = _context(rng, day, sender, scenario)
    replying = "input" in scenario and rng.random() < scenario.get("reply_p", 0.0)
    instruction = _decorate_instruction(rng, rng.choice(scenario["instructions"]).format_map(ctx), sender["tone"])
    input_message = _input_message(rng, scenario, ctx) if replying else None
    parts = _compose(rng, scenario, sender["tone"], ctx, sender, replying)
    identity = {"name": sender["name"], "role": sender["role"], "company": sender["company"], "tone": sender["tone"]}
    return {
        "template_id": template_id,
        "scenario": scenario_key,
        "ctx": ctx,
        "sender": sender,
        "instruction": instruction,
        "identity": identity,
        "input_message": input_message,
        "parts": parts,
        "output": render(parts),
    }


# ------------------------------------------------------------------------------------------------
# Usage signals
# ------------------------------------------------------------------------------------------------


def _usage_clean(rng: random.Random) -> tuple[bool, bool, float, int | None]:
    # A clean draft was used: copied out, sent through the mail integration, or both. The ground
    # truth calls a draft the user neither copied nor sent and disliked "low_quality".
    copied = rng.random() < 0.80
    sent = rng.random() < (0.72 if copied else 1.0)
    if rng.random() < (0.5 if not copied else 0.0):
        edit = math.nan
    else:
        edit = round(min(0.65 if sent else 0.4, rng.betavariate(1.3, 7.0)), 3)
    rating = None
    if rng.random() < 0.25:
        rating = rng.choices((5, 4, 3, 2, 1), weights=(0.50, 0.32, 0.11, 0.04, 0.03), k=1)[0]
    # A clean row never looks like a low_quality one (not used + a strong negative signal).
    if not copied and not sent and rating is not None and rating <= 2:
        rating = rng.choice((3, 4, None))
    return copied, sent, edit, rating


def _usage_noisy(rng: random.Random) -> tuple[bool, bool, float, int | None]:
    copied = rng.random() < 0.25
    sent = copied and rng.random() < 0.4
    r = rng.random()
    if r < 0.15:
        edit = math.nan
    elif r < 0.85:
        edit = round(rng.uniform(0.5, 1.0), 3)
    else:
        edit = round(rng.uniform(0.0, 0.5), 3)
    rating = None
    if rng.random() < 0.30:
        rating = rng.choices((1, 2, 3, 4, 5), weights=(0.40, 0.30, 0.15, 0.10, 0.05), k=1)[0]
    return copied, sent, edit, rating


def _usage_low_quality(rng: random.Random) -> tuple[bool, bool, float, int | None, str]:
    """Never copied or sent, plus a high edit ratio and/or a 1-2 rating (at least one of them)."""
    edit = round(rng.uniform(0.7, 1.0), 3) if rng.random() < 0.7 else math.nan
    rating = rng.choice((1, 2)) if rng.random() < 0.5 else None
    if math.isnan(edit) and rating is None:
        if rng.random() < 0.5:
            edit = round(rng.uniform(0.7, 1.0), 3)
        else:
            rating = rng.choice((1, 2))
    signals = ["not_copied", "not_sent"]
    if not math.isnan(edit):
        signals.append("edit_ratio_high")
    if rating is not None:
        signals.append("rating_low")
    return False, False, edit, rating, "+".join(signals)


# ------------------------------------------------------------------------------------------------
# Noise makers
# ------------------------------------------------------------------------------------------------


def _pseudo_word(rng: random.Random, lo: int = 2, hi: int = 9) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(lo, hi)))


def _gibberish(rng: random.Random, draft: dict) -> tuple[str, str]:
    """Degenerate model output; returns (text, detail)."""
    kind = rng.choice(("letter_soup", "repeated_token", "symbol_mix", "keyboard_mash", "repeated_sentence", "char_run"))
    greeting = draft["parts"]["greeting"]
    if kind == "letter_soup":
        lead = rng.choice(("Dear ", "Hi ", "Hello ", ""))
        words = [_pseudo_word(rng) for _ in range(rng.randint(25, 90))]
        text = lead + " ".join(words)
        if rng.random() < 0.5:
            text += "."
    elif kind == "repeated_token":
        tok = rng.choice(T.GIBBERISH_TOKENS)
        text = " ".join([tok] * rng.randint(30, 150))
        if rng.random() < 0.5:
            text = greeting + "\n\n" + text
    elif kind == "symbol_mix":
        toks: list[str] = []
        for _ in range(rng.randint(20, 60)):
            r = rng.random()
            if r < 0.2 and not (toks and toks[-1].isdigit()):
                toks.append(str(rng.randint(1, 999)))
            elif r < 0.5:
                toks.append(rng.choice(T.SYMBOLS))
            else:
                toks.append(_pseudo_word(rng, 3, 7))
        text = " ".join(toks)
    elif kind == "keyboard_mash":
        toks = [rng.choice(T.KEYBOARD_MASH) for _ in range(rng.randint(20, 60))]
        text = " ".join(toks)
        if rng.random() < 0.5:
            text = greeting + "\n\n" + text
    elif kind == "repeated_sentence":
        sent = draft["parts"]["sentences"][0]
        text = greeting + "\n\n" + " ".join([sent] * rng.randint(8, 30))
    else:  # char_run
        ch = rng.choice(("a", ".", "?", "!", "x", "\u2026"))
        text = greeting + " " + ch * rng.randint(200, 800)
    return text, kind


def _truncate(rng: random.Random, draft: dict) -> tuple[str, str]:
    """Cut the output mid-sentence: before the sign-off, keeping at least ~45% of the text."""
    parts = draft["parts"]
    full = draft["output"]
    pre = full[: full.rfind("\n\n" + parts["signoff"])]
    lo, hi = int(len(pre) * 0.5), int(len(pre) * 0.9)
    mode = rng.choice(("mid_word", "after_comma", "mid_sentence"))
    if mode == "after_comma":
        commas = [i for i in range(lo, hi) if pre[i] == "," and i + 1 < len(pre) and pre[i + 1] == " "]
        if commas:
            cut = rng.choice(commas) + 1
            return pre[:cut], mode
        mode = "mid_word"
    if mode == "mid_word":
        spots = [i for i in range(lo, hi) if pre[i - 1].isalpha() and pre[i].isalpha() and pre[i + 1].isalpha()]
        if spots:
            return pre[: rng.choice(spots)], mode
        mode = "mid_sentence"
    spots = [i for i in range(lo, hi) if pre[i] == " " and pre[i - 1].isalpha()]
    cut = rng.choice(spots) if spots else hi
    text = pre[:cut].rstrip()
    while text and text[-1] in ".!?:;,\n":
        text = text[:-1].rstrip()
    return text, "mid_sentence"


def _foreign(rng: random.Random, draft: dict, lang: str) -> str:
    bank = T.FOREIGN[lang]
    ctx = draft["ctx"]
    greeting = rng.choice(bank["greetings"]).format_map(ctx)
    opener = rng.choice(bank["open"])
    body = [bank["body"][i] for i in sorted(rng.sample(range(len(bank["body"])), rng.randint(2, 4)))]
    closer = rng.choice(bank["close"])
    signoff = rng.choice(bank["signoffs"])
    paras = [opener + " " + " ".join(body[:1]), " ".join(body[1:])]
    body = "\n\n".join(p for p in paras if p)
    return f"{greeting}\n\n{body}\n\n{closer}\n\n{signoff}\n{draft['sender']['name']}"


def _credit_card(rng: random.Random) -> str:
    if rng.random() < 0.2:
        number = "4111111111111111"
    else:
        prefix = "4" if rng.random() < 0.6 else "5" + str(rng.randint(1, 5))
        body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(15 - len(prefix)))
        number = body + luhn_check_digit(body)
    sep = rng.choice((" ", "-", " ", ""))
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    digits = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    country = rng.choice(("DE", "GB", "NL", "FR"))
    if country == "DE":
        bban = digits(18)
    elif country == "GB":
        bban = rng.choice(("NWBK", "BARC", "LOYD", "MIDL")) + digits(14)
    elif country == "NL":
        bban = rng.choice(("ABNA", "INGB", "RABO")) + digits(10)
    else:
        bban = digits(23)
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    iban = f"{country}{check:02d}{bban}"
    if rng.random() < 0.75:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


def _phone(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(("phone_us", "phone_us", "phone_uk", "phone_intl"))
    n4 = f"{rng.randint(0, 9999):04d}"
    if kind == "phone_us":
        area = rng.choice(T.US_AREA_CODES)
        fmt = rng.choice(("+1 {a}-555-{n}", "({a}) 555-{n}", "{a}.555.{n}", "{a}-555-{n}", "+1 ({a}) 555-{n}"))
        return fmt.format(a=area, n=n4), kind
    if kind == "phone_uk":
        n3 = f"{rng.randint(0, 999):03d}"
        fmt = rng.choice(("(020) 7946 {n}", "+44 20 7946 {n}", "07700 900{m}", "+44 7700 900{m}"))
        return fmt.format(n=n4, m=n3), kind
    fmt = rng.choice(("+49 30 {a}{n}", "+33 1 42 68 {b} {c}", "+61 2 9374 {n}"))
    return fmt.format(a=rng.randint(1000, 9999), n=n4, b=rng.randint(10, 99), c=rng.randint(10, 99)), kind


def _email_address(rng: random.Random, full_name: str, company: str) -> str:
    first, last = full_name.lower().split(" ", 1)
    last = re.sub(r"[^a-z]", "", last)
    user = rng.choice(
        (f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}", f"{first}.{last}+work")
    )
    if rng.random() < 0.25:
        domain = re.sub(r"[^a-z]", "", company.lower()) + ".com"
    else:
        domain = rng.choice(T.EMAIL_DOMAINS)
    return f"{user}@{domain}"


def _inject_pii(rng: random.Random, row: dict, draft: dict) -> str:
    """Put one piece of PII into the output, instruction or input message; returns the detail."""
    r = rng.random()
    if r < 0.35:
        group, value, kind = "email", _email_address(rng, draft["sender"]["name"], draft["sender"]["company"]), "email"
    elif r < 0.75:
        value, kind = _phone(rng)
        group = "phone"
    elif r < 0.88:
        group, value, kind = "credit_card", _credit_card(rng), "credit_card"
    else:
        group, value, kind = "iban", _iban(rng), "iban"

    locations = ["body", "instruction"]
    if group in T.PII_SIGNATURE_LINES:
        locations += ["signature", "signature"]
    if row["input_message"] is not None:
        locations.append("input_message")
    where = rng.choice(locations)
    fill = dict(draft["ctx"], pii=value, exp=f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}")
    parts = dict(draft["parts"])
    if where == "signature":
        parts["signature"] = parts["signature"] + "\n" + rng.choice(T.PII_SIGNATURE_LINES[group]).format_map(fill)
        row["output"] = render(parts)
    elif where == "body":
        parts["sentences"] = parts["sentences"] + [rng.choice(T.PII_BODY_SENTENCES[group]).format_map(fill)]
        row["output"] = render(parts)
    elif where == "instruction":
        instr = row["instruction"]
        instr = instr if instr.endswith((".", "?", "!")) else instr + "."
        row["instruction"] = instr + " " + rng.choice(T.PII_INSTRUCTION_SUFFIXES[group]).format_map(fill)
    else:
        msg = row["input_message"]
        head, sep, tail = msg.rpartition("\n\n")
        row["input_message"] = head + " " + rng.choice(T.PII_INPUT_SENTENCES[group]).format_map(fill) + sep + tail
    return f"{kind}:{where}"


def _htmlify(rng: random.Random, draft: dict) -> tuple[str, str]:
    p = draft["parts"]
    sents = p["sentences"]
    split = p["split"]
    paras = [" ".join(sents[:split]), " ".join(sents[split:])] if 0 < split < len(sents) else [" ".join(sents)]
    paras = paras + [p["closer"]]
    sign = f"{p['signoff']}<br>{p['signature']}"
    kind = rng.choice(("p_tags", "div_br", "nbsp_entities", "full_document", "inline_tags"))
    if kind == "p_tags":
        sep = rng.choice(("", "\n", "<br>"))
        text = sep.join([f"<p>{p['greeting']}</p>"] + [f"<p>{x}</p>" for x in paras] + [f"<p>{sign}</p>"])
    elif kind == "div_br":
        text = "<div>" + p["greeting"] + "<br><br>" + "<br><br>".join(paras) + "<br><br>" + sign + "</div>"
    elif kind == "nbsp_entities":
        text = draft["output"].replace("\n\n", "<br>\n", 2)
        text = text.replace(". ", ".&nbsp; ", rng.randint(1, 3))
        if rng.random() < 0.5:
            text = text.replace(", ", ",&nbsp;", 1)
    elif kind == "full_document":
        inner = "".join(f"<p>{x}</p>" for x in [p["greeting"]] + paras + [sign])
        text = '<html><head><meta charset="utf-8"></head><body>' + inner + "</body></html>"
    else:
        tag = rng.choice(("b", "strong", "i", "em", "u"))
        target = rng.choice(sents)
        text = draft["output"].replace(target, f"<{tag}>{target}</{tag}>", 1)
    return text, kind


def _near_duplicate(rng: random.Random, original: dict) -> tuple[str, str]:
    """A lightly edited copy of an original output: (text, edit kind)."""
    base = original["output"]
    p = original["parts"]
    for _ in range(6):
        edit = rng.choice(NEAR_DUPLICATE_EDITS)
        q = dict(p, sentences=list(p["sentences"]))
        if edit == "greeting_changed":
            q["greeting"] = _swap_greeting(rng, q["greeting"])
        elif edit == "word_swapped":
            body = " ".join(q["sentences"]) + " " + q["closer"]
            cands = [(a, b) for a, b in T.SYNONYMS if re.search(r"\b" + a + r"\b", body)]
            if not cands:
                continue
            a, b = rng.choice(cands)
            idx = [i for i, s in enumerate(q["sentences"]) if re.search(r"\b" + a + r"\b", s)]
            if idx:
                i = rng.choice(idx)
                q["sentences"][i] = re.sub(r"\b" + a + r"\b", b, q["sentences"][i], count=1)
            else:
                q["closer"] = re.sub(r"\b" + a + r"\b", b, q["closer"], count=1)
        elif edit == "case_changed":
            mode = rng.random()
            if mode < 0.4:
                q["greeting"] = q["greeting"].lower()
            elif mode < 0.7:
                i = rng.randrange(len(q["sentences"]))
                q["sentences"][i] = q["sentences"][i][0].lower() + q["sentences"][i][1:]
            else:
                q["closer"] = q["closer"].upper()
        elif edit == "sentence_added":
            extra = rng.choice(T.EXTRA_SENTENCES)
            if extra in q["sentences"] or extra == q["closer"]:
                continue
            q["sentences"].append(extra)
        elif edit == "sentence_removed":
            if len(q["sentences"]) < 3:
                continue
            del q["sentences"][rng.randrange(1, len(q["sentences"]))]
            q["split"] = min(q["split"], len(q["sentences"]) - 1)
        else:
            if len(q["sentences"]) < 3:
                continue
            i = rng.randrange(1, len(q["sentences"]) - 1)
            q["sentences"][i], q["sentences"][i + 1] = q["sentences"][i + 1], q["sentences"][i]
        text = render(q)
        if text != base and shingle_jaccard(text, base) > 0.6:
            return text, edit
    q = dict(p, greeting=_swap_greeting(rng, p["greeting"]))
    return render(q), "greeting_changed"


def _add_cross_day_duplicates(rng: random.Random, rows: list[dict], drafts: list[dict], n: int, days: int,
                              new_id) -> None:
    """Exact or near copies of clean rows, 1-3 days after their original."""
    eligible = [i for i, r in enumerate(rows) if r["noise_kind"] == "clean" and r["t_ms"] // _DAY_MS < days - 1]
    for i in rng.sample(eligible, min(n, len(eligible))):
        orig, draft = rows[i], drafts[i]
        day = orig["t_ms"] // _DAY_MS + rng.randint(1, min(3, days - 1 - orig["t_ms"] // _DAY_MS))
        dup = {k: orig[k] for k in _COPIED_FIELDS}
        dup.update(generation_id=new_id(), t_ms=day * _DAY_MS + orig["t_ms"] % _DAY_MS, language="en",
                   duplicate_of=orig["generation_id"], noise_kind="cross_day_duplicate", detail="exact_copy")
        if rng.random() < 0.5:
            dup["output"], dup["detail"] = _near_duplicate(rng, draft)
        dup["copied"], dup["sent"], dup["edit_ratio"], dup["rating"] = _usage_clean(rng)
        rows.append(dup)


def _swap_greeting(rng: random.Random, greeting: str) -> str:
    m = _GREETING_RE.match(greeting)
    if not m:
        return "Hi " + greeting
    options = [w for w in T.GREETING_WORDS if w != m.group(1)]
    return rng.choice(options) + greeting[m.end() :]


def _junk_identity(rng: random.Random, identity: dict) -> tuple[str, str]:
    r = rng.random()
    if r < 0.25:
        junk = {k: rng.choice(T.KEYBOARD_MASH) for k in ("name", "role", "company")}
        junk["tone"] = identity["tone"] if rng.random() < 0.5 else rng.choice(T.KEYBOARD_MASH)
        return json.dumps(junk), "keyboard_mash"
    if r < 0.5:
        junk = {k: rng.choice(T.TEST_VALUES) for k in ("name", "role", "company")}
        junk["tone"] = identity["tone"]
        return json.dumps(junk), "test_values"
    if r < 0.65:
        junk = dict(identity, name=rng.choice(T.KEYBOARD_MASH + T.TEST_VALUES))
        return json.dumps(junk), "junk_name"
    if r < 0.75:
        return json.dumps({"name": "", "role": "", "company": "", "tone": ""}), "empty_fields"
    detail, value = rng.choice(T.BROKEN_IDENTITIES)
    return value, detail


def _placeholder_detail(text: str) -> str:
    low = text.lower()
    if not any(c.isalnum() for c in text):
        return "punctuation_only"
    if "lorem" in low:
        return "lorem_ipsum"
    if "test" in low:
        return "test_word"
    if low in T.KEYBOARD_MASH or low in ("asdf", "fdsa", "jjjj", "aaaa", "xxx", "x", "abc", "123"):
        return "keyboard_mash"
    return "too_generic"


def _invalid(rng: random.Random, row: dict, draft: dict, sub: str) -> None:
    """Turn a row into a broken record of the given sub-kind (in place)."""
    out = row["output"]
    if sub == "output_none":
        row["output"] = None
    elif sub == "output_empty":
        row["output"] = ""
    elif sub == "template_none":
        row["template_id"] = None
    elif sub == "template_unknown":
        row["template_id"] = rng.choice(T.TEMPLATE_UNKNOWN_IDS)
    elif sub == "version_none":
        row["generator_version"] = None
    elif sub == "megabyte_output":
        para = " ".join(draft["parts"]["sentences"]) + "\n\n"
        reps = MEGABYTE_CHARS // len(para) + 1
        row["output"] = draft["parts"]["greeting"] + "\n\n" + para * reps
    elif sub == "lone_surrogate":
        i = rng.randrange(len(out) // 4, len(out))
        row["output"] = out[:i] + rng.choice(("\ud800", "\udc00", "\udfff", "\ud83d")) + out[i:]
    elif sub == "replacement_char":
        chars = list(out)
        spots = [i for i, c in enumerate(chars) if c in "'s,e"]
        for i in rng.sample(spots, min(len(spots), rng.randint(3, 6))):
            chars[i] = "\ufffd"
        row["output"] = "".join(chars)
    elif sub == "control_char":
        i = rng.randrange(len(out) // 4, len(out))
        row["output"] = out[:i] + rng.choice(("\x00", "\x00\x00", "\x1b[0m", "\x08", "\x07")) + out[i:]
    elif sub == "identity_not_object":
        ident = draft["identity"]
        row["identity"] = rng.choice(
            (
                json.dumps([ident["name"], ident["role"], ident["company"], ident["tone"]]),
                json.dumps(ident["name"]),
                "42",
                "null",
                "true",
            )
        )
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(sub)


# ------------------------------------------------------------------------------------------------
# Orchestration
# ------------------------------------------------------------------------------------------------


def _kind_counts(n_rows: int) -> dict:
    counts = {k: int(round(s * n_rows)) for k, s in NOISE_SHARES.items()}
    order = list(NOISE_SHARES)
    while sum(counts.values()) > n_rows * 0.5:  # only matters for tiny datasets
        biggest = max(order, key=lambda k: (counts[k], -order.index(k)))
        counts[biggest] -= 1
    counts = {"clean": n_rows - sum(counts.values()), **counts}
    return counts


def _timestamps(rng: random.Random, n: int, start: dt.date, days: int) -> list[int]:
    """Sorted millisecond offsets from the start date.

    Weekend days get fewer rows; within a day 70% of rows cluster around working hours and the
    rest are uniform over the 24 hours.
    """
    weights = [0.6 if (start + dt.timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)]
    day_idx = rng.choices(range(days), weights=weights, k=n)
    out = []
    for d in day_idx:
        if rng.random() < 0.7:
            sec = min(max(rng.gauss(13.5 * 3600, 3.3 * 3600), 0.0), 86_399.999)
        else:
            sec = rng.uniform(0.0, 86_399.999)
        out.append(d * _DAY_MS + int(sec * 1000))
    return sorted(out)


def _version_for_day(day_idx: int, days: int) -> str:
    return CURRENT_VERSIONS[min(len(CURRENT_VERSIONS) - 1, len(CURRENT_VERSIONS) * day_idx // days)]


def generate_sample_data(
    n_rows: int = 3000, days: int = 14, start_date: str = "2026-11-01", seed: int = 7,
    cross_day_duplicates: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate ``(generations, labels)`` for ``n_rows`` generations over ``days`` days.

    ``generations`` has the columns of :data:`GENERATION_COLUMNS` (sorted by ``created_at``);
    ``labels`` has :data:`LABEL_COLUMNS`, one row per generation in the same order. Every noisy
    row has exactly one ``noise_kind`` from :data:`NOISE_KINDS`; duplicates point at their
    original through ``duplicate_of``.

    ``cross_day_duplicates`` (a share of ``n_rows``, default 0 so the default data stays as calibrated)
    turns that many clean rows into duplicates a single day cannot see: exact or near copies of another
    clean row, 1-3 days after it, with usage as good as a clean row's.
    """
    if n_rows < 0 or days < 1:
        raise ValueError("n_rows must be >= 0 and days >= 1")
    rng = random.Random(f"curation-sample:{seed}:{n_rows}:{days}:{start_date}")
    start = dt.date.fromisoformat(str(start_date)[:10])
    base_ns = int(pd.Timestamp(start).value)

    counts = _kind_counts(n_rows)
    n_dup = counts["exact_duplicate"] + counts["near_duplicate"]
    n_cross = int(round(cross_day_duplicates * n_rows))
    counts["clean"] -= n_cross
    if counts["clean"] < 2 * n_cross:
        raise ValueError("cross_day_duplicates leaves too few clean rows to copy")
    base_kinds: list[str] = []
    for kind in NOISE_KINDS:
        if kind not in ("exact_duplicate", "near_duplicate") and kind in counts:
            base_kinds += [kind] * counts[kind]
    rng.shuffle(base_kinds)
    times = _timestamps(rng, len(base_kinds), start, days)

    n_invalid = counts["invalid_record"]
    n_mega = min(MAX_MEGABYTE_ROWS, max(1, n_invalid // 10)) if n_invalid >= 3 else 0
    cycle = list(INVALID_SUBKINDS)
    rng.shuffle(cycle)
    invalid_subs = [MEGABYTE_SUBKIND] * n_mega + [cycle[i % len(cycle)] for i in range(n_invalid - n_mega)]
    rng.shuffle(invalid_subs)

    rows: list[dict] = []
    drafts: list[dict] = []
    seen_outputs: set = set()
    seen_ids: set = set()

    def new_id() -> str:
        gid = _new_id(rng)
        while gid in seen_ids:
            gid = _new_id(rng)
        seen_ids.add(gid)
        return gid

    for kind, t_ms in zip(base_kinds, times):
        day_idx = t_ms // _DAY_MS
        day = start + dt.timedelta(days=day_idx)
        draft = _draft(rng, day)
        while draft["output"] in seen_outputs:
            draft = _draft(rng, day)
        seen_outputs.add(draft["output"])

        row = {
            "generation_id": new_id(),
            "t_ms": t_ms,
            "template_id": draft["template_id"],
            "generator_version": _version_for_day(day_idx, days),
            "instruction": draft["instruction"],
            "identity": json.dumps(draft["identity"]),
            "input_message": draft["input_message"],
            "output": draft["output"],
            "noise_kind": kind,
            "duplicate_of": None,
            "detail": "",
            "language": "en",
        }
        usage = None
        if kind == "empty_instruction":
            row["detail"], row["instruction"] = rng.choice(T.EMPTY_INSTRUCTIONS)
        elif kind == "placeholder_instruction":
            row["instruction"] = rng.choice(T.PLACEHOLDER_INSTRUCTIONS)
            row["detail"] = _placeholder_detail(row["instruction"])
        elif kind == "junk_identity":
            row["identity"], row["detail"] = _junk_identity(rng, draft["identity"])
        elif kind == "gibberish_output":
            row["output"], row["detail"] = _gibberish(rng, draft)
        elif kind == "truncated_output":
            row["output"], row["detail"] = _truncate(rng, draft)
        elif kind == "wrong_language":
            lang = rng.choice(("es", "de", "fr"))
            row["language"] = lang
            row["output"] = _foreign(rng, draft, lang)
            if rng.random() < 0.4:
                row["instruction"] = rng.choice(T.FOREIGN[lang]["instructions"]).format_map(draft["ctx"])
                row["detail"] = f"instruction_{lang}"
            else:
                row["detail"] = "instruction_en"
        elif kind == "pii":
            row["detail"] = _inject_pii(rng, row, draft)
        elif kind == "old_generator_version":
            row["generator_version"] = rng.choice(OLD_VERSIONS)
            row["detail"] = row["generator_version"]
        elif kind == "low_quality":
            *usage, row["detail"] = _usage_low_quality(rng)
        elif kind == "html_output":
            row["output"], row["detail"] = _htmlify(rng, draft)
        elif kind == "invalid_record":
            sub = invalid_subs.pop()
            _invalid(rng, row, draft, sub)
            row["detail"] = sub

        if usage is None:
            if kind == "clean":
                usage = _usage_clean(rng)
            elif kind in ("old_generator_version", "junk_identity") and rng.random() < 0.3:
                usage = _usage_clean(rng)  # the text is fine, so usage is sometimes fine too
            else:
                usage = _usage_noisy(rng)
        if kind == "invalid_record" and not row["output"]:
            usage = (False, False, math.nan, usage[3])
        row["copied"], row["sent"], row["edit_ratio"], row["rating"] = usage
        rows.append(row)
        drafts.append(draft)

    # Duplicates of clean rows from the same day, a few minutes later.
    if n_dup:
        latest = _DAY_MS - _DUP_MAX_DELAY_MS - 1000  # the copy must stay on the original's day
        eligible = [i for i, r in enumerate(rows) if r["noise_kind"] == "clean" and r["t_ms"] % _DAY_MS < latest]
        originals = rng.sample(eligible, min(n_dup, len(eligible)))
        for j, i in enumerate(originals):
            orig, draft = rows[i], drafts[i]
            dup = {k: orig[k] for k in _COPIED_FIELDS}
            dup["generation_id"] = new_id()
            dup["t_ms"] = orig["t_ms"] + rng.randint(45_000, _DUP_MAX_DELAY_MS)
            dup["duplicate_of"] = orig["generation_id"]
            dup["language"] = "en"
            if j < counts["exact_duplicate"]:
                dup["noise_kind"], dup["detail"] = "exact_duplicate", "exact_copy"
            else:
                dup["noise_kind"] = "near_duplicate"
                dup["output"], dup["detail"] = _near_duplicate(rng, draft)
            dup["copied"], dup["sent"], dup["edit_ratio"], dup["rating"] = _usage_noisy(rng)
            rows.append(dup)
    if n_cross:
        _add_cross_day_duplicates(random.Random(f"curation-sample-cross:{seed}:{n_rows}:{days}"), rows, drafts,
                                  n_cross, days, new_id)

    rows.sort(key=lambda r: (r["t_ms"], r["generation_id"]))
    return _frames(rows, base_ns)


def _frames(rows: list[dict], base_ns: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ns = np.array([base_ns + r["t_ms"] * 1_000_000 for r in rows], dtype="int64")
    gens = pd.DataFrame(
        {
            "generation_id": pd.Series([r["generation_id"] for r in rows], dtype=object),
            "created_at": pd.Series(ns.view("datetime64[ns]")),
            "template_id": pd.Series([r["template_id"] for r in rows], dtype=object),
            "generator_version": pd.Series([r["generator_version"] for r in rows], dtype=object),
            "instruction": pd.Series([r["instruction"] for r in rows], dtype=object),
            "identity": pd.Series([r["identity"] for r in rows], dtype=object),
            "input_message": pd.Series([r["input_message"] for r in rows], dtype=object),
            "output": pd.Series([r["output"] for r in rows], dtype=object),
            "copied": pd.Series([bool(r["copied"]) for r in rows], dtype=bool),
            "sent": pd.Series([bool(r["sent"]) for r in rows], dtype=bool),
            "edit_ratio": pd.Series([float(r["edit_ratio"]) for r in rows], dtype="float64"),
            "rating": pd.array([r["rating"] for r in rows], dtype="Int64"),
        },
        columns=list(GENERATION_COLUMNS),
    )
    labels = pd.DataFrame(
        {
            "generation_id": pd.Series([r["generation_id"] for r in rows], dtype=object),
            "noise_kind": pd.Series([r["noise_kind"] for r in rows], dtype=object),
            "is_noise": pd.Series([r["noise_kind"] != "clean" for r in rows], dtype=bool),
            "duplicate_of": pd.Series([r["duplicate_of"] for r in rows], dtype=object),
            "detail": pd.Series([r["detail"] for r in rows], dtype=object),
            "language": pd.Series([r["language"] for r in rows], dtype=object),
        },
        columns=list(LABEL_COLUMNS),
    )
    return gens, labels


if __name__ == "__main__":  # pragma: no cover - manual smoke run
    import time

    t0 = time.perf_counter()
    gens, labels = generate_sample_data()
    elapsed = time.perf_counter() - t0
    print(f"{len(gens)} rows in {elapsed:.2f}s")
    print(labels["noise_kind"].value_counts().reindex(NOISE_KINDS).to_string())
    pd.set_option("display.max_colwidth", 200)
    for _, r in gens.sample(3, random_state=0).iterrows():
        print("-" * 80)
        for col in GENERATION_COLUMNS:
            val = r[col]
            if col == "output" and isinstance(val, str):
                val = "\n" + val[:1200]
            print(f"{col}: {val}")
