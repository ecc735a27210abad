import json

import pandas as pd
import pytest

from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.quality import quality_score
from curation_dagster.lib.pii import first_pii_kind
from curation_dagster.lib.rules import RULES, FilterSettings, is_keyboard_mash, parse_version

S = FilterSettings()
OUTPUT = (
    "Hi Maria,\n\nThank you for taking the time to interview with us for the product designer role. "
    "After careful consideration we have decided to move forward with another candidate whose experience "
    "matches our current needs a little more closely. We were impressed by your portfolio and hope you "
    "will apply again in the future.\n\nBest regards,\nAnna Lee"
)


def row(**over):
    base = dict(
        generation_id="g1", created_at=pd.Timestamp("2026-11-01 10:00"), template_id="candidate_rejection",
        generator_version="1.5.0", instruction="Tell Maria we chose another candidate for the designer role",
        identity=json.dumps({"name": "Anna Lee", "role": "Recruiter", "company": "Northwind", "tone": "friendly"}),
        input_message=None, output=OUTPUT, copied=True, sent=True, edit_ratio=0.1, rating=5,
    )
    base.update(over)
    return base


def fired(r):
    return {name for name, fn in RULES.items() if fn(r, S)}


def test_clean_row_passes_every_rule():
    assert fired(row()) == set()


@pytest.mark.parametrize("over, rule", [
    ({"output": None}, "invalid_record"),
    ({"output": 123}, "invalid_record"),
    ({"output": "   "}, "invalid_record"),
    ({"template_id": None}, "invalid_record"),
    ({"output": OUTPUT + "\ufffd"}, "invalid_unicode"),
    ({"output": OUTPUT.replace("Hi", "Hi\ud800")}, "invalid_unicode"),
    ({"output": OUTPUT + "\x00"}, "invalid_unicode"),
    ({"output": OUTPUT * 600}, "text_too_long"),  # beyond the 100,000-character guard
    ({"output": OUTPUT * 100}, "too_many_tokens"),  # 34,600 characters, 6,300 MiniLM tokens: over 4,096
    ({"template_id": "legacy_v0_template"}, "unknown_template"),
    ({"generator_version": "1.2.0"}, "old_generator_version"),
    ({"instruction": ""}, "instruction_junk"),
    ({"instruction": None}, "instruction_junk"),
    ({"instruction": "asdf"}, "instruction_junk"),
    ({"instruction": "lorem ipsum"}, "instruction_junk"),
    ({"instruction": "?"}, "instruction_junk"),
    ({"identity": "not json"}, "identity_junk"),
    ({"identity": "{}"}, "identity_junk"),
    ({"identity": json.dumps({"name": "asdfgh", "role": "x", "company": "y"})}, "identity_junk"),
    ({"identity": json.dumps({"name": "Test User", "role": "Recruiter", "company": "Acme"})}, "identity_junk"),
    ({"output": "<p>Hi Maria,</p><br>" + OUTPUT}, "html_markup"),
    ({"output": " ".join(["qwzx plmk trvb ghyu"] * 10)}, "gibberish_output"),
    ({"output": " ".join(["the"] * 40)}, "gibberish_output"),
    ({"output": "Estimada María, gracias por su tiempo y por la entrevista. Lamentamos informarle que "
                "hemos decidido continuar con otro candidato para el puesto. Le deseamos mucho éxito en "
                "su búsqueda y esperamos que vuelva a postularse en el futuro. Saludos cordiales, Ana"},
     "non_target_language"),
    ({"output": OUTPUT[: OUTPUT.index("consideration") + 5]}, "truncated_output"),
    ({"output": "Hi Maria, thanks for your time."}, "too_short"),
    ({"output": OUTPUT.replace("Anna Lee", "Anna Lee\n+1 415-555-0132")}, "pii"),
    ({"output": OUTPUT.replace("Anna Lee", "Anna Lee\nanna.lee@gmail.com")}, "pii"),
    ({"copied": False, "sent": False, "edit_ratio": 0.9, "rating": 1}, "low_quality"),
])
def test_each_rule_catches_its_case(over, rule):
    assert rule in fired(row(**over))


@pytest.mark.parametrize("text, kind", [
    ("Call me at +1 415-555-0132 tomorrow", "phone"),
    ("Call me at (020) 7946 0958.", "phone"),
    ("My cell is 415.555.0199", "phone"),
    ("Pay to DE89 3704 0044 0532 0130 00 by Friday", "iban"),
    ("Card 4111 1111 1111 1111 expires soon", "card"),
    ("Write to jane.doe+work@example.co.uk", "email"),
    ("The invoice of $1,200 is due on March 14, 2026.", None),
    ("We met on 2026-11-03 at 10:30.", None),
])
def test_find_pii(text, kind):
    assert first_pii_kind(text) == kind


def test_pii_rule_names_the_column_and_kind_and_stands_down_in_redact_mode():
    r = row(output=OUTPUT.replace("Anna Lee", "Anna Lee\n+1 415-555-0132"))
    assert RULES["pii"](r, S) == "output contains a phone number"
    assert RULES["pii"](row(instruction="Send it to ANNA.LEE@GMAIL.COM please"), S) == "instruction contains an email address"
    assert RULES["pii"](r, FilterSettings(pii_action="redact")) is None
    assert RULES["pii"](r, FilterSettings(pii_kinds=("email",))) is None
    with pytest.raises(ValueError):
        FilterSettings(pii_action="mask")


def test_non_target_language_uses_configured_targets_and_abstains_on_short_text():
    german = ("Sehr geehrte Frau Weber,\n\nvielen Dank für Ihre Bewerbung und das freundliche Gespräch. Leider "
              "haben wir uns für eine andere Kandidatin entschieden. Wir wünschen Ihnen alles Gute.\n\n"
              "Mit freundlichen Grüßen\nAnna Lee")
    reason = RULES["non_target_language"](row(output=german), S)
    assert reason and "looks de" in reason
    assert RULES["non_target_language"](row(output=german), FilterSettings(target_languages=("en", "de"))) is None
    assert RULES["non_target_language"](row(output="Danke schön!"), S) is None  # too short to judge
    assert RULES["non_target_language"](row(), FilterSettings(target_languages=("de",))) is not None
    with pytest.raises(ValueError):
        FilterSettings(target_languages=("english",))


def test_keyboard_mash_and_versions():
    assert all(is_keyboard_mash(s) for s in ["asdfgh", "jjjjj", "sdfsdf", "qwpzkx"])
    assert not any(is_keyboard_mash(s) for s in ["Anna", "Recruiter", "Northwind Traders", "Oliver"])
    assert parse_version("1.10.0") > parse_version("1.9.3") > parse_version("1.2")


def test_quality_score_renormalises_missing_signals():
    assert quality_score(True, True, 0.0, 5) == 1.0
    assert quality_score(False, False, 1.0, 1) == 0.0
    assert quality_score(None, None, None, 5) == 1.0  # only a rating: scored on it alone
    assert quality_score(None, None, float("nan"), None) == 0.5  # no signals: neutral


def test_apply_filters_accounts_for_every_row_and_names_duplicates():
    bodies = [
        OUTPUT,
        ("Hello Jonas,\n\nThanks again for the quick turnaround on the quarterly numbers. Could you add the "
         "regional breakdown we discussed and send the final version to the board by Friday? Let me know if "
         "anything is blocking you and I will clear time on my calendar.\n\nCheers,\nAnna Lee"),
        ("Dear Priya,\n\nI am delighted to invite you to our customer summit in Lisbon this spring. The agenda "
         "covers product roadmaps, hands-on workshops and a dinner with the founders, and we would love to "
         "hear your perspective on the panel about data privacy.\n\nWarm wishes,\nAnna Lee"),
    ]
    rows = [row(generation_id=f"g{i}", created_at=pd.Timestamp("2026-11-01 10:00") + pd.Timedelta(minutes=i),
                output=body, instruction=f"Write to {name} about the next steps please")
            for i, (name, body) in enumerate(zip(["Maria", "Jonas", "Priya"], bodies))]
    rows.append(row(generation_id="g9", created_at=pd.Timestamp("2026-11-01 11:00"),
                    output=bodies[1].upper(), instruction=rows[1]["instruction"]))
    rows.append(row(generation_id="g8", created_at=pd.Timestamp("2026-11-01 11:30"),
                    output=bodies[2].replace("Dear Priya", "Hi Priya"), instruction="Invite Priya to the summit"))
    rows.append(row(generation_id="g10", created_at=pd.Timestamp("2026-11-01 12:00"), output=None))
    df = pd.DataFrame(rows)
    out = apply_filters(df, S)
    assert len(out.kept) + len(out.rejected) == len(df)
    rej = out.rejected.set_index("generation_id")
    assert rej.loc["g9", "rule"] == "exact_duplicate" and rej.loc["g9", "duplicate_of"] == "g1"
    assert rej.loc["g8", "rule"] == "near_duplicate" and rej.loc["g8", "duplicate_of"] == "g2"
    assert rej.loc["g10", "rule"] == "invalid_record"
    assert rej["reason"].str.len().min() > 0
    assert set(out.kept["generation_id"]) == {"g0", "g1", "g2"}
    assert out.kept["content_hash"].nunique() == 3


def test_redact_mode_keeps_pii_rows_with_placeholders_and_counts_them():
    body = OUTPUT.replace("Anna Lee", "Anna Lee\nMobile: +44 20 7946 0958\nanna.lee@gmail.com")
    df = pd.DataFrame([row(generation_id="g1", output=body)])
    reject = apply_filters(df, S)
    assert reject.kept.empty and reject.rejected.loc[0, "rule"] == "pii"
    assert "pii_redactions" not in reject.rejected.columns

    out = apply_filters(df, FilterSettings(pii_action="redact"))
    assert out.rejected.empty and len(out.kept) == 1
    kept = out.kept.iloc[0]
    assert kept["output"].endswith("Anna Lee\nMobile: [PHONE]\n[EMAIL]")
    assert kept["pii_redactions"] == 2
    assert json.loads(kept["identity"])["name"] == "Anna Lee"  # the user's own name is kept by default

    named = apply_filters(df, FilterSettings(pii_action="redact", redact_identity_names=True)).kept.iloc[0]
    assert named["output"].endswith("[NAME]\nMobile: [PHONE]\n[EMAIL]") and "Anna" not in named["output"]
    assert json.loads(named["identity"])["name"] == "[NAME]" and named["pii_redactions"] == 4
    assert apply_filters(pd.DataFrame([row()]), S).kept.loc[0, "pii_redactions"] == 0


def test_token_budget_counts_a_batch_once_and_gives_each_row_its_own_count(monkeypatch):
    # too_many_tokens prepares its rows: every text that may exceed the budget goes to the tokenizer in
    # one call, and each row's reason carries the count of its own text
    from curation_dagster.lib import tokens
    from curation_dagster.lib.export import to_chat_record

    small = FilterSettings(max_tokens_per_example=200)
    rows = [row(generation_id=f"g{i}", output=OUTPUT * k) for i, k in enumerate((1, 3, 6, 6))]
    rows[3]["instruction"] = "Tell Maria we chose another candidate, and thank her twice"
    texts = [tokens.example_text(to_chat_record(r)["messages"]) for r in rows]
    expected = tokens.count_tokens(texts)
    assert expected[0] < 200 < expected[1] < expected[2] < expected[3]
    calls = []
    real = tokens.count_tokens
    monkeypatch.setattr(tokens, "count_tokens", lambda t, p=tokens.DEFAULT_MODEL: calls.append(len(t)) or real(t, p))
    out = apply_filters(pd.DataFrame(rows), small)
    reasons = dict(zip(out.rejected["generation_id"], out.rejected["reason"]))
    assert set(reasons) == {"g1", "g2", "g3"} and "g0" in set(out.kept["generation_id"])
    for g, n in zip(("g1", "g2", "g3"), expected[1:]):
        assert reasons[g] == f"example has {n:,} tokens (budget max_tokens_per_example 200)"
    # one batch of the four texts (each over 200 non-space characters), no call per row
    assert calls == [4]


def test_a_failing_prepare_leaves_each_row_to_do_its_own_work(monkeypatch):
    from curation_dagster.lib import rules, tokens

    def broken(texts, tokenizer):
        raise RuntimeError("tokenizer threads unavailable")

    tokens._COUNTED.clear()
    monkeypatch.setattr(rules, "remember_token_counts", broken)
    out = apply_filters(pd.DataFrame([row(output=OUTPUT * 100)]), S)
    assert out.rejected["rule"].tolist() == ["too_many_tokens"]
    assert out.rejected["reason"].iloc[0].startswith("example has ")
