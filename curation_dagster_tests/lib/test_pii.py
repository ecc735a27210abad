"""lib/pii.py: labelled cases per kind (tricky ones included), redaction text, identity names, frames."""

import json

import pandas as pd
import pytest

from curation_dagster.lib.pii import (find_pii, first_pii_kind, iban_valid, luhn_valid, redact, redact_identity,
                                      redact_pii, url_secret_reason)
from curation_dagster.lib.rules import FilterSettings


@pytest.mark.parametrize("text, kind, value", [
    # email
    ("Write to jane.doe+work@example.co.uk today", "email", "jane.doe+work@example.co.uk"),
    ("REPLY TO JANE.ROE@NORTHWIND-MAIL.COM PLEASE", "email", "JANE.ROE@NORTHWIND-MAIL.COM"),
    ("Email: m_lopez42@proton.me.", "email", "m_lopez42@proton.me"),
    # phone: international and national, with spaces, dots, dashes, parentheses
    ("Call me at +44 20 7946 0958 tomorrow", "phone", "+44 20 7946 0958"),
    ("My direct line is (555) 123-4567.", "phone", "(555) 123-4567"),
    ("Cell: 555.123.4567", "phone", "555.123.4567"),
    ("Call 415-555-0132 after lunch", "phone", "415-555-0132"),
    ("Tel. +1 (415) 555-0132", "phone", "+1 (415) 555-0132"),
    ("Mobile: 07700 900123", "phone", "07700 900123"),
    ("Ring me on +33 1 42 68 12 34.", "phone", "+33 1 42 68 12 34"),
    ("Reach me at +49 30 12345678", "phone", "+49 30 12345678"),
    ("Or text me at 4155550132 tonight", "phone", "4155550132"),
    ("Our hotline 1-800-555-0199 is open", "phone", "1-800-555-0199"),
    # URLs carrying secrets
    ("Reset it here: https://app.example.com/reset?token=a8f3k2.", "url", "https://app.example.com/reset?token=a8f3k2"),
    ("See https://files.example.com/doc.pdf?X-Amz-Signature=abc123&X-Amz-Expires=300", "url",
     "https://files.example.com/doc.pdf?X-Amz-Signature=abc123&X-Amz-Expires=300"),
    ("Join via www.meet.example.com/j/8f14e45fceea167a5a36dedd4bea2543 now", "url",
     "www.meet.example.com/j/8f14e45fceea167a5a36dedd4bea2543"),
    ("(https://api.example.com/v1/items?api_key=Zx9QwErTy)", "url", "https://api.example.com/v1/items?api_key=Zx9QwErTy"),
    ("Login at http://bob:hunter2@intranet.example.com/admin", "url", "http://bob:hunter2@intranet.example.com/admin"),
    # payment cards: Luhn-valid, separators or none
    ("Card 4111 1111 1111 1111 expires 09/28", "card", "4111 1111 1111 1111"),
    ("Charge 5500-0000-0000-0004 please", "card", "5500-0000-0000-0004"),
    ("Amex 378282246310005.", "card", "378282246310005"),
    # IBAN: with spaces, compact, GB with letters
    ("Pay to DE89 3704 0044 0532 0130 00 by Friday", "iban", "DE89 3704 0044 0532 0130 00"),
    ("IBAN GB29NWBK60161331926819, ref INV-2231", "iban", "GB29NWBK60161331926819"),
    ("IBAN GB29 NWBK 6016 1331 9268 19 INV 2231", "iban", "GB29 NWBK 6016 1331 9268 19"),
])
def test_each_kind_is_found_with_its_span(text, kind, value):
    found = find_pii(text)
    assert [(f.kind, f.text) for f in found] == [(kind, value)]
    f = found[0]
    assert text[f.start:f.end] == value and f.span == (f.start, f.end)


@pytest.mark.parametrize("text", [
    "Card 4111 1111 1111 1112 was declined",            # Luhn-invalid 16 digits
    "Reference 1234567812345678 on the statement",      # Luhn-invalid, no separators
    "The launch is on 2026-11-25 at 14:30.",            # ISO date and time
    "We met on 25.11.2026 10.30 in the lobby.",         # European date and time
    "The laptop costs $1,299.00 plus tax.",             # price
    "It is 1 299,00 EUR or $12,499 in total.",          # prices in other notations
    "Upgrade to version 1.4.0 or v10.0.19041.1234.",    # version numbers
    "Order #123456789 shipped; order number 1234567890 and INV-12345 are open.",  # order ids
    "Ticket 48213 is in room 1240, server 192.168.100.200.",
    "Call 555-1234 for the front desk.",                 # 7-digit local number: too close to ids to call
    "The 2025-2026 season runs 9:00-17:30 daily, 10 to 12 people per group.",
    "Read https://example.com/blog/how-to-write-a-great-follow-up-email?utm_source=newsletter&page=2",
    "Not an IBAN: DE89 3704 0044 0532 0130 01 (bad check digits).",
])
def test_lookalikes_are_not_flagged(text):
    assert find_pii(text) == []


def test_overlaps_resolve_to_the_enclosing_kind():
    # the email inside credentials belongs to the URL; the card is not also read as a phone
    assert [f.kind for f in find_pii("http://bob:pw@host.example.com/x and 4111-1111-1111-1111")] == ["url", "card"]


def test_redact_replaces_each_finding_with_a_typed_placeholder():
    text = ("Reach me at Anna.Lee@Gmail.com or +1 415-555-0132. Card 4111 1111 1111 1111, "
            "IBAN DE89 3704 0044 0532 0130 00, link https://x.example.com/r?token=abc. Due 2026-11-25, $1,299.00.")
    red, found = redact(text)
    assert red == ("Reach me at [EMAIL] or [PHONE]. Card [CARD], IBAN [IBAN], link [URL]. Due 2026-11-25, $1,299.00.")
    assert [f.kind for f in found] == ["email", "phone", "card", "iban", "url"]
    assert redact("nothing here") == ("nothing here", [])
    assert first_pii_kind(red) is None  # placeholders are not PII


def test_validators():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB29 NWBK 6016 1331 9268 19") and not iban_valid("GB29 NWBK 6016 1331 9268 18")
    assert url_secret_reason("https://x.io/a?session=1") and url_secret_reason("https://x.io/a?page=1") is None


IDENTITY = json.dumps({"name": "Anna Lee", "role": "Recruiter", "company": "Northwind", "tone": "friendly"})


def test_identity_names_are_redacted_in_identity_and_verbatim_in_texts():
    row = {"identity": IDENTITY, "instruction": "Sign it as Anna Lee", "input_message": None,
           "output": "Hi Maria,\n\nThanks for your time.\n\nBest,\nAnna\n\nAnna Lee | Recruiter\nAnnabelle said hi"}
    out, n = redact_identity(row)
    assert json.loads(out["identity"]) == {"name": "[NAME]", "role": "Recruiter", "company": "Northwind",
                                           "tone": "friendly"}
    assert out["instruction"] == "Sign it as [NAME]"
    assert out["output"] == "Hi Maria,\n\nThanks for your time.\n\nBest,\n[NAME]\n\n[NAME] | Recruiter\nAnnabelle said hi"
    assert n == 4 and out["input_message"] is None and row["identity"] == IDENTITY  # the input is not changed
    # other personal keys by config; verbatim-only when name parts are off
    out, _ = redact_identity(row, personal_keys=("name", "company"), name_parts=False)
    assert json.loads(out["identity"])["company"] == "[NAME]" and "\nAnna\n" in out["output"]
    assert redact_identity({"identity": "not json", "output": "Anna Lee"}) == ({"identity": "not json", "output": "Anna Lee"}, 0)


def test_redact_pii_frame_follows_settings():
    df = pd.DataFrame([
        {"identity": IDENTITY, "instruction": "Add my cell (555) 123-4567", "input_message": None,
         "output": "Hello,\n\nSee you Monday.\n\nBest,\nAnna Lee"},
        {"identity": "[]", "instruction": None, "input_message": None, "output": 42},  # bad rows pass through
    ])
    off = redact_pii(df, FilterSettings())
    assert off["pii_redactions"].tolist() == [0, 0] and off["instruction"].tolist() == df["instruction"].tolist()
    on = redact_pii(df, FilterSettings(pii_action="redact"))
    assert on.loc[0, "instruction"] == "Add my cell [PHONE]" and on.loc[0, "output"].endswith("Anna Lee")
    assert on["pii_redactions"].tolist() == [1, 0] and on.loc[1, "output"] == 42
    names = redact_pii(df, FilterSettings(redact_identity_names=True))  # names only: contact data stays
    assert names.loc[0, "instruction"] == "Add my cell (555) 123-4567" and names.loc[0, "output"].endswith("[NAME]")
    assert "pii_redactions" not in df.columns  # the input frame is not modified
    emails_only = redact_pii(df, FilterSettings(pii_action="redact", pii_kinds=("email",)))
    assert emails_only.loc[0, "instruction"] == "Add my cell (555) 123-4567"
