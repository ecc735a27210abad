"""lib/judge.py without a server: the rubric per template, the prompt, strict parsing of answers, the
verdict from two samples (hand-computed cases), retries of unparseable answers with a fresh seed,
the verdict table and the verdict store."""

import json
import math

import pandas as pd
import pytest

from curation_dagster.lib.judge import (CRITERION_NAMES, ERROR, LOW, PASS, PROMPT_VERSION, UNCERTAIN, JudgeParseError,
                                        JudgeSettings, VerdictStore, build_messages, criteria_for, decide,
                                        judge_rows, judgements_frame, parse_answer, score_table, verdict_counts)
from curation_dagster.lib.llm import ChatResult

GENERAL = ("follows_instruction", "faithful_to_input", "structure_and_tone")


def answer(scores: dict, reasons: dict | None = None) -> str:
    return json.dumps({"scores": scores, "reasons": reasons or {c: f"about {c}" for c in scores}})


def test_the_rubric_has_the_qa_criterion_only_for_doc_qa():
    assert tuple(c.name for c in criteria_for("general")) == GENERAL
    assert tuple(c.name for c in criteria_for("candidate_rejection")) == GENERAL
    assert tuple(c.name for c in criteria_for(None)) == GENERAL
    assert tuple(c.name for c in criteria_for("doc_qa")) == GENERAL + ("answerable_from_passage",)
    assert CRITERION_NAMES == GENERAL + ("answerable_from_passage",)


def test_the_prompt_shows_the_rubric_and_the_example_cut_to_length():
    row = {"template_id": "doc_qa", "instruction": "What does the passage say about refunds?",
           "identity": '{"name": "Ana", "tone": "friendly"}', "input_message": "Refunds take 5 days. " * 10,
           "output": "x" * 300}
    system, user = build_messages(row, JudgeSettings(max_field_chars=100))
    assert system["role"] == "system" and '"scores"' in system["content"] and "JSON" in system["content"]
    text = user["content"]
    assert all(f"- {c}:" in text for c in CRITERION_NAMES)
    assert "Passage (the input message; the instruction is the question):" in text and '"name": "Ana"' in text
    assert "x" * 100 + " […cut]" in text and "x" * 101 not in text
    general = build_messages({"template_id": "general", "instruction": "Say hi", "input_message": None,
                              "output": "Hi"})[1]["content"]
    assert "answerable_from_passage" not in general and "Input message (what the reply answers):\n(none)" in general
    history = '{"conversation_history": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi!"}]}'
    convo = build_messages({"instruction": "and now?", "input_message": history, "output": "ok"})[1]["content"]
    assert "user: hello\nassistant: hi!" in convo


def test_a_valid_answer_parses_into_scores_and_one_line_reasons():
    scores, reasons = parse_answer(answer({"follows_instruction": 5, "faithful_to_input": 2, "structure_and_tone": 4},
                                          {"follows_instruction": "does it", "faithful_to_input": " invents a date ",
                                           "structure_and_tone": "fine"}), GENERAL)
    assert scores == {"follows_instruction": 5, "faithful_to_input": 2, "structure_and_tone": 4}
    assert reasons["faithful_to_input"] == "invents a date"
    # one ```json fence around the object is the only wrapping accepted
    fenced = "```json\n" + answer(dict.fromkeys(GENERAL, 3)) + "\n```"
    assert parse_answer(fenced, GENERAL)[0] == dict.fromkeys(GENERAL, 3)


@pytest.mark.parametrize("text, message", [
    (None, "empty answer"),
    ("   ", "empty answer"),
    ("Scores: 5, 5, 5", "not JSON"),
    ('Here you go: {"scores": {}, "reasons": {}}', "not JSON"),
    ('{"scores": {"follows_instruction": 5', "not JSON"),
    ("[1, 2, 3]", "a JSON list, not an object"),
    (json.dumps({"scores": dict.fromkeys(GENERAL, 4)}), "expected exactly ['reasons', 'scores']"),
    (json.dumps({"scores": dict.fromkeys(GENERAL, 4), "reasons": dict.fromkeys(GENERAL, "ok"), "overall": 4}),
     "expected exactly"),
    (answer({"follows_instruction": 4, "faithful_to_input": 4}), "scores misses structure_and_tone"),
    (answer({**dict.fromkeys(GENERAL, 4), "helpfulness": 4}), "scores has unknown criteria helpfulness"),
    (answer({**dict.fromkeys(GENERAL, 4), "faithful_to_input": 0}), "score of faithful_to_input is 0, outside 1-5"),
    (answer({**dict.fromkeys(GENERAL, 4), "faithful_to_input": 6}), "outside 1-5"),
    (answer({**dict.fromkeys(GENERAL, 4), "faithful_to_input": 4.5}), "is 4.5, not an integer"),
    (answer({**dict.fromkeys(GENERAL, 4), "faithful_to_input": "4"}), "is '4', not an integer"),
    (answer({**dict.fromkeys(GENERAL, 4), "faithful_to_input": True}), "not an integer"),
    (answer(dict.fromkeys(GENERAL, 4), {**dict.fromkeys(GENERAL, "ok"), "structure_and_tone": ""}),
     "reason of structure_and_tone is not a non-empty text"),
    (answer(dict.fromkeys(GENERAL, 4), {**dict.fromkeys(GENERAL, "ok"), "structure_and_tone": "one\ntwo"}),
     "more than one line"),
    (json.dumps({"scores": dict.fromkeys(GENERAL, 4), "reasons": ["ok"]}), "reasons is not an object"),
])
def test_anything_else_is_a_parse_failure_never_a_guess(text, message):
    with pytest.raises(JudgeParseError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        parse_answer(text, GENERAL)


def s(a, b, c):
    return dict(zip("abc", (a, b, c)))


@pytest.mark.parametrize("samples, verdict, why", [
    # means 4.5, 4.5, 5: overall 4.67, above the middle band
    ([s(5, 4, 5), s(4, 5, 5)], PASS, ""),
    # a: 2 and 1 agree (spread 1) at mean 1.5 <= 2
    ([s(2, 5, 4), s(1, 5, 4)], LOW, "low a 1.5"),
    # a: 1 and 4 are 3 apart
    ([s(1, 5, 5), s(4, 5, 5)], UNCERTAIN, "samples disagree on a (1/4)"),
    # 3 and 5 are exactly `disagreement` (2) apart
    ([s(5, 5, 3), s(5, 5, 5)], UNCERTAIN, "samples disagree on c (3/5)"),
    # means 3, 3, 3.5: overall 3.17 in [2.5, 3.5]
    ([s(3, 3, 4), s(3, 3, 3)], UNCERTAIN, "middle score 3.17"),
    # a: 2 and 3 (mean 2.5) is not low; means 2.5, 4, 4 give 3.5: still the middle band
    ([s(2, 4, 4), s(3, 4, 4)], UNCERTAIN, "middle score 3.5"),
    # a criterion both samples fail is low even when they disagree on another
    ([s(1, 1, 5), s(2, 5, 5)], LOW, "low a 1.5"),
    # one sample: no disagreement to measure; 2 <= 2 is low
    ([s(2, 4, 4)], LOW, "low a 2"),
    ([], ERROR, "no sample"),
])
def test_verdicts_hand_computed(samples, verdict, why):
    assert decide(samples, "abc", JudgeSettings()) == (verdict, why)


def test_thresholds_are_settings():
    strict = JudgeSettings(low_threshold=3, middle_low=3.6, middle_high=4.0)
    assert decide([s(3, 4, 4), s(3, 4, 5)], "abc", strict) == (LOW, "low a 3")
    assert decide([s(4, 4, 4), s(4, 4, 4)], "abc", strict) == (UNCERTAIN, "middle score 4")
    assert decide([s(4, 4, 4), s(4, 4, 4)], "abc", JudgeSettings()) == (PASS, "")
    with pytest.raises(ValueError, match="low_threshold"):
        JudgeSettings(low_threshold=5)
    with pytest.raises(ValueError, match="middle_low"):
        JudgeSettings(middle_low=4, middle_high=3)


class StubClient:
    """complete_many over a function of (row text, seed); records every request it was asked."""

    def __init__(self, respond):
        self.respond, self.asked = respond, []

    def complete_many(self, requests):
        self.asked += requests
        out = []
        for r in requests:
            text, seed = r.messages[-1]["content"], r.params["seed"]
            res = self.respond(text, seed)
            out.append(res if isinstance(res, ChatResult) else ChatResult(text=res))
        return out


GOOD = answer(dict.fromkeys(GENERAL, 5))


def rows(*outputs):
    return [{"generation_id": f"g{i}", "template_id": "general", "instruction": "Write it", "output": o}
            for i, o in enumerate(outputs)]


def test_an_unparseable_answer_is_asked_again_with_a_fresh_seed_then_is_judge_error():
    def respond(text, seed):
        if "fixed-by-retry" in text:
            return "not json" if seed == 42 else GOOD  # sample 1's first answer is broken, its retry is fine
        if "always-broken" in text:
            return "not json" if seed in (42, 44) else GOOD  # sample 1 and its retry broken
        if "endpoint-down" in text:
            return ChatResult(text=None, error="gave up after 3 attempts: ReadTimeout")
        return GOOD

    client = StubClient(respond)
    out = judge_rows(rows("fine", "fixed-by-retry", "always-broken", "endpoint-down"), client, JudgeSettings())
    assert [j.verdict for j in out] == [PASS, PASS, ERROR, ERROR]
    assert [j.retries for j in out] == [0, 1, 1, 0]
    assert out[2].why == "sample 1: unparseable answer (not JSON) in 2 tries"
    assert out[3].why == ("sample 1: request failed (gave up after 3 attempts: ReadTimeout); "
                          "sample 2: request failed (gave up after 3 attempts: ReadTimeout)")
    # first round: 2 samples x 4 rows (seeds 42, 43); second round: the two broken samples, seed 42 + 2
    seeds = [r.params["seed"] for r in client.asked]
    assert seeds[:8] == [42, 43] * 4 and seeds[8:] == [44, 44]
    first = client.asked[0]
    assert first.temperature == 0.7 and first.prompt_version == PROMPT_VERSION
    assert first.params["response_format"] == {"type": "json_object"} and first.params["max_tokens"] == 400
    # a request that failed is not asked again here (the client already retried it)
    assert sum("endpoint-down" in r.messages[-1]["content"] for r in client.asked) == 2


def test_no_retry_when_parse_retries_is_zero_and_no_json_mode_when_off():
    client = StubClient(lambda text, seed: "broken")
    (j,) = judge_rows(rows("x"), client, JudgeSettings(parse_retries=0, json_mode=False, samples=1))
    assert (j.verdict, j.why, len(client.asked)) == (ERROR, "sample 1: unparseable answer (not JSON)", 1)
    assert "response_format" not in client.asked[0].params


def test_the_verdict_table_and_its_score_table():
    answers = {"a": [s(5, 5, 4), s(5, 4, 4)], "b": [s(1, 5, 5), s(2, 5, 5)], "c": [s(3, 3, 3), s(3, 3, 3)]}

    def respond(text, seed):
        key = text.split("Reply to judge:\n")[1][0]
        sc = answers[key][seed - 42]
        return answer(dict(zip(GENERAL, sc.values())))

    judged = judgements_frame(judge_rows(rows("a", "b", "c"), StubClient(respond)) +
                              judge_rows(rows("?"), StubClient(lambda t, sd: "nope")), "judge-model")
    assert judged["verdict"].tolist() == [PASS, LOW, UNCERTAIN, ERROR]
    a, b, c, err = judged.to_dict("records")
    assert (a["score_follows_instruction"], a["score_faithful_to_input"], a["score_structure_and_tone"]) == (5, 4.5, 4)
    assert math.isnan(a["score_answerable_from_passage"]) and a["reason_faithful_to_input"] == "about faithful_to_input"
    assert (a["mean_score"], a["min_score"], a["max_spread"], a["samples"]) == (4.5, 4.0, 1.0, 2)
    assert json.loads(a["sample_scores"])[1] == {"faithful_to_input": 4, "follows_instruction": 5,
                                                 "structure_and_tone": 4}
    assert b["verdict_reason"] == "low follows_instruction 1.5"
    assert err["samples"] == 0 and math.isnan(err["mean_score"]) and err["reason_follows_instruction"] is None
    assert {a["model"], err["prompt_version"]} == {"judge-model", PROMPT_VERSION}
    table = score_table(judged)
    # over a, b, c (the judge_error row has no scores): means (5 + 1.5 + 3) / 3 and so on; share <= 2
    assert table.to_dict("records") == [
        {"criterion": "follows_instruction", "rows": 3, "mean": 3.17, "share_low": 0.3333},
        {"criterion": "faithful_to_input", "rows": 3, "mean": 4.17, "share_low": 0.0},
        {"criterion": "structure_and_tone", "rows": 3, "mean": 4.0, "share_low": 0.0}]
    assert verdict_counts(judged) == {PASS: 1, UNCERTAIN: 1, LOW: 1, ERROR: 1}


def test_the_verdict_store_keeps_the_latest_verdict_per_prompt_version(tmp_path):
    store = VerdictStore(tmp_path / "state" / "judge_verdicts.duckdb")
    assert store.ids() == set()  # no file yet: nothing judged low, and nothing created
    assert not (tmp_path / "state").exists()

    def frame(verdicts, version=PROMPT_VERSION):
        return pd.DataFrame({"generation_id": list(verdicts), "verdict": list(verdicts.values()),
                             "verdict_reason": "", "sample_scores": "[]", "model": "m", "prompt_version": version})

    assert store.put(frame({"g1": LOW, "g2": PASS, "g3": ERROR})) == 2  # judge_error is no verdict: not stored
    assert store.ids() == {"g1"} and store.ids(PASS) == {"g2"}
    store.put(frame({"g1": PASS, "g3": LOW}))
    assert store.ids() == {"g3"}
    store.put(frame({"g2": LOW}, version="judge/0"))
    assert store.ids() == {"g3"} and store.ids(LOW, "judge/0") == {"g2"}
    assert store.put(frame({})) == 0


def judged_frame(verdicts: dict) -> pd.DataFrame:
    return pd.DataFrame({"generation_id": list(verdicts), "verdict": list(verdicts.values()),
                         "verdict_reason": ["" if v == PASS else f"why {v}" for v in verdicts.values()],
                         "score_follows_instruction": [4.5 if v != ERROR else float("nan") for v in verdicts.values()],
                         "model": "m", "prompt_version": PROMPT_VERSION})


def test_the_export_drops_low_rows_unless_a_reviewer_kept_them_and_keeps_every_verdict():
    from curation_dagster.lib.dataset import apply_judge

    sampled = pd.DataFrame({"generation_id": ["a", "b", "c", "d", "e", "f"],
                            "review_state": [None, None, "accepted", None, None, None]})
    out, block, removed = apply_judge(sampled, judged_frame({"a": PASS, "b": LOW, "c": LOW, "d": UNCERTAIN,
                                                            "e": ERROR, "zz": LOW}))
    assert out["generation_id"].tolist() == ["a", "c", "d", "e", "f"] and removed == {"b"}
    judge = dict(zip(out["generation_id"], out["judge"]))
    assert judge["a"] == {"verdict": PASS, "scores": {"follows_instruction": 4.5}, "model": "m",
                          "prompt_version": PROMPT_VERSION}
    assert judge["e"] == {"verdict": ERROR, "reason": "why judge_error", "model": "m", "prompt_version": PROMPT_VERSION}
    assert judge["f"] is None  # not judged
    assert block["verdicts"] == {PASS: 1, UNCERTAIN: 1, LOW: 2, ERROR: 1} and block["judged"] == 5
    assert (block["removed"], block["removed_ids"], block["low_kept_by_review"]) == (1, ["b"], 1)
    assert (block["shipped_uncertain"], block["shipped_judge_error"], block["shipped_unjudged"]) == (1, 1, 1)
    assert block["mean_scores"] == {"follows_instruction": 4.5} and block["rule"] == "llm_judge"
    same, none, gone = apply_judge(sampled, pd.DataFrame())  # no endpoint: nothing changes
    assert len(same) == 6 and same["judge"].isna().all() and none["judged"] == 0 and not gone


def test_the_review_queue_puts_uncertain_rows_after_adjudication_and_leaves_out_low_ones():
    from curation_dagster.lib.review_tables import QueueSettings, review_queue_table

    sample = pd.DataFrame([{"generation_id": g, "probability": p, "is_outlier": False, "quality_score": 0.9,
                            "cluster_id": 1, "cluster_name": "c"}
                           for g, p in [("adj", 0.9), ("pend", 0.9), ("unc", 0.99), ("new", 0.5), ("low", 0.1)]])
    decisions = pd.DataFrame({"generation_id": ["adj", "pend"], "state": ["adjudication", "pending"], "reviews": [2, 1]})
    queue, candidates = review_queue_table(sample, decisions, None, QueueSettings(),
                                           judged_frame({"unc": UNCERTAIN, "low": LOW, "new": PASS}))
    assert queue["generation_id"].tolist() == ["adj", "unc", "pend", "new"] and candidates == 4
    assert queue["judge_verdict"].tolist() == [None, UNCERTAIN, None, PASS]
    assert queue["judge_reason"].tolist()[:2] == [None, "why uncertain"]
    plain, _ = review_queue_table(sample, decisions, None, QueueSettings())  # not judged: the order as before
    assert plain["generation_id"].tolist() == ["adj", "pend", "low", "new", "unc"]
