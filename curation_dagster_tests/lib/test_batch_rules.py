"""Batch rules: one registry with the row rules, phases that decide what each rule sees, one loop."""

import json
import pandas as pd
import pytest

from curation_dagster.lib.batch_rules import Hit, batch_rule
from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.rules import FILTER_RULES, RULES, FilterSettings, rule, rule_descriptions, rule_order


NOTE = (
    "Hi Maria,\n\nThank you for taking the time to interview with us for the product designer role. "
    "After careful consideration we have decided to move forward with another candidate whose experience "
    "matches our current needs a little more closely. We were impressed by your portfolio and hope you "
    "will apply again in the future. Lunch on Friday is still on.\n\nBest regards,\nAnna Lee"
)


def row(gid, output, **kw):  # a row every content rule passes (as in test_rules)
    return {"generation_id": gid, "created_at": pd.Timestamp("2026-11-01 10:00"), "template_id": "candidate_rejection",
            "generator_version": "1.5.0", "instruction": "Tell Maria we chose another candidate for the designer role",
            "identity": json.dumps({"name": "Anna Lee", "role": "Recruiter", "company": "Northwind", "tone": "friendly"}),
            "input_message": None, "output": output, "copied": True, "sent": True, "edit_ratio": 0.1, "rating": 5, **kw}


@pytest.fixture
def registry():
    """Leaves the registry as it found it, whatever a test registers."""
    before_rules, before_row = dict(FILTER_RULES), dict(RULES)
    yield
    FILTER_RULES.clear(), FILTER_RULES.update(before_rules)
    RULES.clear(), RULES.update(before_row)


def test_rule_order_is_phase_order_then_registration_order():
    order = rule_order()
    assert order[0] == "human_review" and order[-1] == "low_quality"
    assert order.index("pii") < order.index("eval_contamination") < order.index("exact_duplicate") \
        < order.index("near_duplicate") < order.index("low_quality")
    assert list(rule_descriptions()) == list(order)
    assert "13-gram" in rule_descriptions()["eval_contamination"]  # DecontaminationSettings.n, not retyped


def test_a_batch_rule_sees_its_phase_rows_and_fills_its_own_column(registry):
    seen = {}

    @batch_rule(("same_output_as_other_day", "test rule"), phase="dedup", columns=("other_day",))
    def same_output(batch):
        seen["dedup"] = [batch.records[i]["generation_id"] for i in batch.rows]
        return {i: Hit("same_output_as_other_day", "looks like another day's", {"other_day": "2026-11-01"})
                for i in batch.rows if batch.records[i]["generation_id"] == "b"}

    @batch_rule(("count_all", "test rule"), phase="after_dedup")
    def count_all(batch):
        seen["after_dedup"] = [batch.records[i]["generation_id"] for i in batch.rows]
        return {}

    day = pd.DataFrame([row("a", NOTE), row("b", NOTE.replace("Friday", "Thursday").replace("portfolio", "case studies").replace("closely", "well")), row("c", "ok")])  # c: too_short
    out = apply_filters(day, FilterSettings())
    assert seen == {"dedup": ["a", "b"], "after_dedup": ["a", "b", "c"]}  # dedup: only unrejected rows
    rej = out.rejected.set_index("generation_id")
    # b is also a near duplicate of a: the built-in rule registered first in the phase names the row
    assert rej.loc["b", "rules_fired"] == "near_duplicate,same_output_as_other_day"
    assert rej.loc["b", "rule"] == "near_duplicate" and rej.loc["b", "other_day"] == "2026-11-01"
    assert rej.loc["b", "duplicate_of"] == "a"
    assert "too_short" in rej.loc["c", "rules_fired"] and rej.loc["c", "other_day"] is None
    assert out.kept["generation_id"].tolist() == ["a"]
    assert out.rule_counts["near_duplicate"] == 1 and sum(out.rule_counts.values()) == 2


def test_a_row_rule_after_dedup_reports_a_copy_as_a_copy(registry):
    @rule("mentions_lunch", "test rule", phase="after_dedup")
    def mentions_lunch(r, s):
        return "mentions lunch" if "Lunch" in (r.get("output") or "") else None

    day = pd.DataFrame([row("a", NOTE), row("b", NOTE, created_at=pd.Timestamp("2026-11-01 11:00"))])
    rej = apply_filters(day, FilterSettings()).rejected.set_index("generation_id")
    assert rej.loc["a", "rule"] == "mentions_lunch"
    assert rej.loc["b", "rule"] == "exact_duplicate" and rej.loc["b", "rules_fired"] == "exact_duplicate,mentions_lunch"
    assert rej.loc["b", "duplicate_of"] == "a"


def test_registration_refuses_an_unknown_phase_and_a_name_twice(registry):
    with pytest.raises(ValueError, match="unknown phase 'later'"):
        rule("x", "test", phase="later")(lambda r, s: None)
    with pytest.raises(ValueError, match="registered twice"):
        rule("too_short", "again")(lambda r, s: None)


def test_every_output_of_a_large_batch_is_parsed_once_however_many_rules_read_it(registry, monkeypatch):
    # the rules run one after another over the whole batch: a reply cache smaller than the batch (it held
    # 4,096) made each rule parse every output again
    import curation_dagster.lib.rules as rules

    parsed, parse = [], rules.parse_reply

    def counting_parse(text):
        parsed.append(text)
        return parse(text)

    monkeypatch.setattr(rules, "parse_reply", counting_parse)
    FILTER_RULES.clear()  # only the two rules below: the count is theirs

    @rule("first_reader", "test rule")
    def first_reader(r, s):
        rules._reply(r)

    @rule("second_reader", "test rule")
    def second_reader(r, s):
        rules._reply(r)

    n = 5_000
    day = pd.DataFrame([row(f"g{i:05d}", f"answer number {i}") for i in range(n)])
    out = apply_filters(day, FilterSettings())
    assert len(out.kept) == n
    assert len(parsed) == n and len(set(parsed)) == n  # once each, not once per rule
    assert rules.reply_of.cache_info().currsize == 0  # and not held after the batch
