"""Personal data in text: find it, name its kind, and redact it with typed placeholders.

One detector for the whole pipeline: the `pii` filter rule, the filter stage's redact mode and the
export validation all call `find_pii`, so "the export never carries them" is judged by the same code
that cleaned the rows. Pattern-based and offline (no model); every pattern is checked by a validator:

=========  ==============================================================  ===========
kind       what counts                                                      placeholder
=========  ==============================================================  ===========
email      local@domain.tld, any case                                      [EMAIL]
url        http(s):// or www. URL whose query names a secret (token, key,  [URL]
           sig, password, ...), that carries user:password@, or whose
           path/query holds a long random-looking value (reset links, JWTs)
card       13-19 digits, optional space/dash separators, IIN 2-6, Luhn ok  [CARD]
iban       country code + 2 check digits + BBAN (spaces allowed), the      [IBAN]
           country's length where known, ISO 13616 mod-97 == 1
phone      +CC international, (area) national, or 3+ groups of digits      [PHONE]
           separated by space . - ; 9-15 digits (8-15 after +); bare digit
           runs only after a phone word (call, tel, mobile, ...)
=========  ==============================================================  ===========

Not phone numbers, on purpose: dates (2026-11-25, 25.11.2026), times, prices ($1,299.00), version
numbers (1.4.0, v10.0.19041.1234), IPv4 addresses, order / invoice / ticket ids (#123456789,
INV-12345) and 7-digit local numbers (555-1234, too close to ids to call without context).

Names: the identity settings' `name` is the user's own name, used in sign-offs. It is not contact
data and is kept by default; `redact_identity` replaces it (and other configured personal keys) with
[NAME] in the identity JSON and wherever it appears verbatim in the texts, when a team asks for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

import pandas as pd

PII_KINDS: tuple[str, ...] = ("email", "url", "iban", "card", "phone")
PLACEHOLDERS: dict[str, str] = {"email": "[EMAIL]", "url": "[URL]", "iban": "[IBAN]", "card": "[CARD]",
                                "phone": "[PHONE]", "name": "[NAME]"}
#: how a kind reads in a rule's reason ("output contains an email address")
KIND_PHRASES: dict[str, str] = {"email": "an email address", "url": "a URL carrying a token or secret",
                                "iban": "an IBAN", "card": "a payment card number", "phone": "a phone number",
                                "name": "a personal name"}
PII_TEXT_COLUMNS: tuple[str, ...] = ("output", "instruction", "input_message")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


# ------------------------------------------------------------------------------------------------
# email
# ------------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]*\w@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])", re.UNICODE)


#: role accounts (info@, support@) are an organisation's published contact, not a person's data
ROLE_MAILBOXES = frozenset(
    "info contact contacts support sales hello admin office team help press media hr jobs careers noreply "
    "no-reply webmaster enquiries inquiries billing service customerservice marketing".split())


#: documentation and template addresses (RFC 2606 domains, "john.doe@", "you@yourcompany.com")
_PLACEHOLDER_EMAIL_RE = re.compile(
    r"^(?:john\.?doe|jane\.?doe|your\.?name|yourname|your\.?email|name|user|username|someone|you|me)@"
    r"|@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|example|test|invalid|localhost|domain\.com|email\.com|"
    r"yourdomain\.com|yourcompany\.com|company\.com|mydomain\.com)$", re.IGNORECASE)


def _emails(text: str) -> Iterable[Finding]:
    if "@" not in text:
        return
    for m in _EMAIL_RE.finditer(text):
        if m.group(0).split("@", 1)[0].lower() in ROLE_MAILBOXES or _PLACEHOLDER_EMAIL_RE.search(m.group(0)):
            continue
        yield Finding("email", m.start(), m.end(), m.group(0))


# ------------------------------------------------------------------------------------------------
# URLs carrying secrets
# ------------------------------------------------------------------------------------------------

_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAIL = ".,;:!?)]}'\""
_SECRET_PARAM_RE = re.compile(
    r"(^|[_\-.])(token|access_?token|refresh_?token|id_?token|auth|authorization|key|api_?key|apikey|"
    r"secret|client_?secret|sig|signature|password|passwd|pwd|pass|session|sessionid|sid|"
    r"credential|credentials|otp|code|jwt|bearer|hmac|hash|x-amz-signature|x-amz-credential|"
    r"x-amz-security-token|se|sv|sp)$|token|secret|passw|api_?key|signature|credential",
    re.IGNORECASE,
)
_TOKENISH_RE = re.compile(r"^[A-Za-z0-9_\-.~+=%]+$")


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def looks_random(value: str, min_len: int = 20) -> bool:
    """A token-like value: long, one 'word' of letters mixed with digits (or pure hex / base64),
    high character entropy; slugs of words like 'how-to-write-a-cover-letter' are not tokens."""
    v = unquote(value)
    if len(v) < min_len or not _TOKENISH_RE.match(v):
        return False
    if v.startswith("eyJ") and v.count(".") >= 1:  # JWT
        return True
    pieces = [p for p in re.split(r"[-_.~]", v) if p]
    if pieces and all(p.isalpha() for p in pieces):
        return False  # a slug of words
    digits = sum(c.isdigit() for c in v)
    letters = sum(c.isalpha() for c in v)
    if re.fullmatch(r"[0-9a-fA-F]{24,}", v) or re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", v):
        return True  # hex digest or UUID
    if digits < 2 or letters < 2:
        return False
    longest_piece = max((len(p) for p in pieces), default=0)
    return longest_piece >= 16 and _entropy(v) >= 3.5


def url_secret_reason(url: str) -> str | None:
    """Why a URL carries a secret (a named parameter, credentials, a random path segment), or None."""
    u = url if "://" in url else "http://" + url
    try:
        parts = urlsplit(u)
        netloc = parts.netloc
    except ValueError:
        return None
    if "@" in netloc and ":" in netloc.split("@", 1)[0]:
        return "user:password credentials"
    for name, value in parse_qsl(parts.query, keep_blank_values=True) + parse_qsl(parts.fragment, keep_blank_values=True):
        if value and _SECRET_PARAM_RE.search(name):
            return f"query parameter {name!r}"
        if looks_random(value):
            return "random-looking query value"
    for seg in parts.path.split("/"):
        if looks_random(seg):
            return "random-looking path segment"
    return None


def _urls(text: str) -> Iterable[Finding]:
    low = text.lower()
    if "http" not in low and "www." not in low:
        return
    for m in _URL_RE.finditer(text):
        raw = m.group(0)
        url = raw.rstrip(_URL_TRAIL)
        if url_secret_reason(url):
            yield Finding("url", m.start(), m.start() + len(url), url)


# ------------------------------------------------------------------------------------------------
# payment cards
# ------------------------------------------------------------------------------------------------

_CARD_RE = re.compile(r"(?<![\w+.,#/-])\d(?:[ -]?\d){12,18}(?![\w.,/-]?\d)(?![\w])")


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body` + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(digits: str) -> bool:
    return len(digits) > 1 and luhn_check_digit(digits[:-1]) == digits[-1]


#: how card numbers are grouped when written with separators (16: 4-4-4-4, Amex 4-6-5, Diners 4-6-4, ...)
_CARD_GROUPS = {(4, 4, 4, 4), (4, 4, 4, 3), (4, 4, 5), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3)}


def _cards(text: str) -> Iterable[Finding]:
    for m in _CARD_RE.finditer(text):
        raw = m.group(0)
        digits = re.sub(r"\D", "", raw)
        groups = tuple(len(g) for g in re.split(r"[ -]", raw))
        if len(groups) > 1 and (groups not in _CARD_GROUPS or len(set(re.findall(r"[ -]", raw))) > 1):
            continue  # "3704 0044 0532 0130 01" (the tail of an IBAN) or "4111 1111-1111 1111" is no card
        if re.search(r"[A-Z]{2}\d{2} ?$", text[max(0, m.start() - 5) : m.start()]):
            continue  # the BBAN of an IBAN-shaped string
        if digits[0] in "23456" and len(set(digits)) > 1 and luhn_valid(digits):
            yield Finding("card", m.start(), m.end(), raw)


# ------------------------------------------------------------------------------------------------
# IBAN
# ------------------------------------------------------------------------------------------------

#: ISO 13616 lengths of the registry's countries (a few common ones; others: 15-34 accepted)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "KW": 30, "KZ": 20, "LB": 28,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "ME": 22, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29,
}
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def iban_valid(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    if s[:2] in IBAN_LENGTHS and len(s) != IBAN_LENGTHS[s[:2]]:
        return False
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


def _ibans(text: str) -> Iterable[Finding]:
    for m in _IBAN_RE.finditer(text):
        raw = m.group(0)
        # the pattern may run into the next upper-case word: try the country's length, else longest first
        ends = [i + 1 for i, c in enumerate(raw) if c != " "]
        country = raw[:2]
        lengths = [IBAN_LENGTHS[country]] if country in IBAN_LENGTHS else range(len(ends), 14, -1)
        for n in lengths:
            if n > len(ends):
                continue
            end = ends[n - 1]
            tail = text[m.start() + end : m.start() + end + 1]
            if tail.isalnum():
                continue  # would cut a word in two
            if iban_valid(raw[:end]):
                yield Finding("iban", m.start(), m.start() + end, raw[:end])
                break


# ------------------------------------------------------------------------------------------------
# phone numbers
# ------------------------------------------------------------------------------------------------

_SEP = r"[ .\-\u00a0]"
_PHONE_RE = re.compile(
    r"(?<![\w#$€£¥+/.,:\-])(?:"
    rf"\+\d{{1,3}}(?:{_SEP}?\(\d{{1,4}}\))?(?:{_SEP}?\d{{1,5}}){{1,6}}"      # +44 20 7946 0958, +1 (415) 555-0132
    rf"|\(\d{{2,5}}\){_SEP}?\d{{2,4}}(?:{_SEP}?\d{{2,5}}){{1,3}}"             # (555) 123-4567, (020) 7946 0958
    rf"|(?:1{_SEP})?\d{{2,5}}(?:{_SEP}\d{{2,5}}){{2,4}}"                      # 555.123.4567, 1-800-555-0199
    rf"|0\d{{3,4}}{_SEP}\d{{5,7}}"                                            # 07700 900123
    r"|\d{10,11}"                                                             # 4155550132 (needs a phone word)
    r")(?![\w%/\-]|[.,:]\d)"
)
_PHONE_WORD_RE = re.compile(r"\b(phone|tel|telephone|mobile|cell|call|text|sms|whatsapp|fax|direct|reach|dial|ring)"
                            r"\b[^\n\d]{0,25}$", re.IGNORECASE)
_ID_WORD_RE = re.compile(r"\b(order|invoice|ticket|account|acct|reference|ref|booking|tracking|member|"
                         r"confirmation|case|id|no|po|sku|serial)\b[^\n\d]{0,25}$", re.IGNORECASE)
_DATE_IN_RE = re.compile(r"\b(\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})\b")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _phones(text: str) -> Iterable[Finding]:
    for m in _PHONE_RE.finditer(text):
        raw = m.group(0)
        digits = re.sub(r"\D", "", raw)
        intl = raw.startswith("+")
        if not (8 if intl else 9) <= len(digits) <= 15:
            continue
        if (_DATE_IN_RE.search(raw) or _IPV4_RE.match(raw) or digits in ("1234567890", "11234567890")
                or digits[-10:] == "5555555555" or len(set(digits)) == 1):
            continue  # (123) 456-7890, 555-555-5555 and 000-000-0000 are the textbook placeholder numbers
        if not intl and not raw.startswith("("):
            groups = re.split(r"[ .\-\u00a0]", raw)
            before = text[max(0, m.start() - 40) : m.start()]
            if len(groups) > 2 and all(len(g) <= 3 for g in groups) and " " in raw and not re.search(r"[.\-]", raw):
                continue  # "5 41 249 296": space-separated small numbers are a row of figures, not a phone
            if len(groups) == 1 and (not _PHONE_WORD_RE.search(before) or _ID_WORD_RE.search(before)):
                continue  # a bare run of digits is an id unless a phone word (and no id word) precedes it
            if len(groups) > 1 and len({s for s in re.findall(r"[ .\-\u00a0]", raw)}) > 1 and "." in raw:
                continue  # "1.299 00" - mixed separators with dots read as numbers, not phones
        yield Finding("phone", m.start(), m.end(), raw)


# ------------------------------------------------------------------------------------------------
# all kinds together
# ------------------------------------------------------------------------------------------------

_DETECTORS = {"email": _emails, "url": _urls, "iban": _ibans, "card": _cards, "phone": _phones}
_PRIORITY = {k: i for i, k in enumerate(("url", "email", "iban", "card", "phone"))}


def find_pii(text: str | None, kinds: Iterable[str] = PII_KINDS) -> list[Finding]:
    """Every piece of personal data in text, in text order, without overlaps (a URL wins over the email
    inside it, an IBAN or card over a phone-shaped part of it, then the longer match)."""
    if not isinstance(text, str) or not text:
        return []
    found: list[Finding] = []
    for kind in kinds:
        if kind not in _DETECTORS:
            raise ValueError(f"unknown PII kind {kind!r}; known: {', '.join(PII_KINDS)}")
        found.extend(_DETECTORS[kind](text))
    found.sort(key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    chosen: list[Finding] = []
    for f in found:
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def first_pii_kind(text: str | None, kinds: Iterable[str] = PII_KINDS) -> str | None:
    """The kind of the first finding in text order, or None (for rule reasons and export checks)."""
    found = find_pii(text, kinds)
    return found[0].kind if found else None


@lru_cache(maxsize=1)
def detector_identity() -> bytes:
    # every detector is in this file (stdlib imports only): another version of it is another key
    return hashlib.sha256(Path(__file__).read_bytes()).digest()


def redact(text: str, kinds: Iterable[str] = PII_KINDS) -> tuple[str, list[Finding]]:
    """(text with each finding replaced by its typed placeholder, the findings)."""
    findings = find_pii(text, kinds)
    if not findings:
        return text, []
    out, pos = [], 0
    for f in findings:
        out.append(text[pos : f.start])
        out.append(PLACEHOLDERS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out), findings


# ------------------------------------------------------------------------------------------------
# names in the identity settings
# ------------------------------------------------------------------------------------------------


def identity_personal_values(identity: str | None, personal_keys: Iterable[str] = ("name",)) -> list[str]:
    """The non-empty string values of the identity JSON's personal keys (none when it is not a JSON object)."""
    try:
        ident = json.loads(identity) if isinstance(identity, str) else None
    except ValueError:
        return []
    if not isinstance(ident, dict):
        return []
    return [v.strip() for k in personal_keys if isinstance(v := ident.get(k), str) and v.strip()]


def _name_patterns(values: list[str], name_parts: bool) -> list[re.Pattern]:
    terms = sorted(set(values), key=len, reverse=True)
    if name_parts:  # "Anna" alone in a casual sign-off; parts under 3 letters ("Li", "Jo") are too common
        parts = {p for v in values for p in re.split(r"\s+", v) if len(p) >= 3 and p not in terms}
        terms += sorted(parts, key=len, reverse=True)
    return [re.compile(rf"(?<!\w){re.escape(t)}(?!\w)") for t in terms]


def redact_names(text: str, values: list[str], name_parts: bool = True) -> tuple[str, int]:
    """Replace each value (case-sensitive, whole words; then each of its words, if name_parts) with [NAME]."""
    if not isinstance(text, str) or not values:
        return text, 0
    n = 0
    for pat in _name_patterns(values, name_parts):
        text, k = pat.subn(PLACEHOLDERS["name"], text)
        n += k
    return text, n


def redact_identity(row: dict, personal_keys: Iterable[str] = ("name",), name_parts: bool = True,
                    text_columns: Iterable[str] = PII_TEXT_COLUMNS) -> tuple[dict, int]:
    """(a copy of row whose identity's personal values and their verbatim uses in the texts read [NAME],
    the number of replacements). The identity stays a JSON object with the same keys."""
    personal_keys = tuple(personal_keys)
    values = identity_personal_values(row.get("identity"), personal_keys)
    if not values:
        return dict(row), 0
    out = dict(row)
    ident = json.loads(row["identity"])
    n = 0
    for k in personal_keys:
        if isinstance(ident.get(k), str) and ident[k].strip():
            ident[k] = PLACEHOLDERS["name"]
            n += 1
    out["identity"] = json.dumps(ident, ensure_ascii=False)
    for col in text_columns:
        out[col], k = redact_names(row.get(col), values, name_parts)
        n += k
    return out, n


# ------------------------------------------------------------------------------------------------
# rows and frames
# ------------------------------------------------------------------------------------------------


def redact_row(row: dict, *, contact: bool = True, names: bool = False, personal_keys: Iterable[str] = ("name",),
               kinds: Iterable[str] = PII_KINDS, text_columns: Iterable[str] = PII_TEXT_COLUMNS) -> tuple[dict, int]:
    """(a copy of row with contact data and/or identity names redacted in its text columns, count)."""
    out, n = (redact_identity(row, personal_keys, text_columns=text_columns) if names else (dict(row), 0))
    if contact:
        for col in text_columns:
            v = out.get(col)
            if isinstance(v, str):
                out[col], found = redact(v, kinds)
                n += len(found)
    return out, n


def redact_pii(df: pd.DataFrame, settings) -> pd.DataFrame:
    """The filter stage's redact step: a copy of df whose text columns are redacted as settings ask
    (`pii_action == "redact"`: contact data of `pii_kinds`; `redact_identity_names`: identity names), with a
    `pii_redactions` column counting the replacements per row (0 everywhere when neither is on)."""
    df = df.copy()
    contact = getattr(settings, "pii_action", "reject") == "redact"
    names = bool(getattr(settings, "redact_identity_names", False))
    counts = [0] * len(df)
    if contact or names:
        keys = tuple(getattr(settings, "identity_personal_keys", ("name",)))
        kinds = tuple(getattr(settings, "pii_kinds", PII_KINDS))
        cols = [c for c in (*PII_TEXT_COLUMNS, "identity") if c in df.columns]
        records = df[cols].to_dict("records")
        new = {c: [] for c in cols}
        for i, rec in enumerate(records):
            red, counts[i] = redact_row(rec, contact=contact, names=names, personal_keys=keys, kinds=kinds,
                                        text_columns=[c for c in PII_TEXT_COLUMNS if c in cols])
            for c in cols:
                new[c].append(red.get(c))
        for c in cols:
            df[c] = new[c]
    df["pii_redactions"] = counts
    return df
