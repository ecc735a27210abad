"""lib/decontamination.py on small JSONL and CSV eval sets written by the test."""

import csv
import json

import pytest

from curation_dagster.lib.decontamination import (Contamination, DecontaminationSettings, EvalIndex, EvalItem,
                                                  find_contamination, load_eval_set, ngram_hashes)

QUESTION = ("Write a polite email to a client explaining that the quarterly report will be delivered two days "
            "late because the auditors asked for additional documents")
SUMMARY = ("Summarize the following meeting notes in three bullet points for the engineering team and highlight "
           "every decision that changes the release date of the mobile application")
CHAT_Q = ("You are a support agent. A customer says the invoice they received lists the wrong billing address and "
          "asks how to correct it before the payment is due")


@pytest.fixture
def eval_files(tmp_path):
    jsonl = tmp_path / "support_eval.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"id": "q-1", "text": QUESTION}),
        json.dumps({"messages": [{"role": "user", "content": CHAT_Q}, {"role": "assistant", "content": "Sure."}]}),
        "",
        json.dumps({"id": "no-text", "label": 3}),
        json.dumps({"id": "short", "prompt": "Thank the team for the launch party"}),  # 7 words: below min_words
    ]) + "\n", encoding="utf-8")
    csv_path = tmp_path / "summaries.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["prompt", "completion"])
        w.writeheader()
        w.writerow({"prompt": SUMMARY, "completion": "- decision one\n- decision two\n- decision three"})
        w.writerow({"prompt": "Translate good morning into French", "completion": "Bonjour"})
    return jsonl, csv_path


def test_loading_reads_ids_texts_and_skips_records_without_text(eval_files):
    jsonl, csv_path = eval_files
    items, skipped = load_eval_set(jsonl)
    assert [(i.eval_set, i.eval_id) for i in items] == [("support_eval", "q-1"), ("support_eval", "2"),
                                                         ("support_eval", "short")]
    assert items[1].text.startswith("You are a support agent") and items[1].text.endswith("Sure.")
    assert skipped == 1
    items, skipped = load_eval_set(f"sums={csv_path}")
    assert [(i.eval_set, i.eval_id) for i in items] == [("sums", "1"), ("sums", "2")] and skipped == 0
    assert items[0].text.startswith(SUMMARY) and "decision three" in items[0].text


def test_verbatim_copy_inside_longer_text_matches_and_paraphrase_does_not(eval_files):
    jsonl, csv_path = eval_files
    index = EvalIndex.from_settings(DecontaminationSettings(eval_sets=(str(jsonl), f"sums={csv_path}")))
    assert index.eval_sets == ("support_eval", "sums") and index.skipped == 1
    texts = [
        # 0: verbatim copy (different case and punctuation) inside a longer training text
        "Hi team,\n\nHere is the task for today: " + QUESTION.upper().replace(" because", ", because") + "!! Thanks.",
        # 1: paraphrase of the same question: no 13-word run in common
        ("Please draft a courteous message telling our customer the quarterly report is going to arrive a couple "
         "of days behind schedule since the auditors requested more paperwork"),
        # 2: unrelated
        "Dear Maria, thank you for the interview last week. We will be in touch soon. Best, Anna",
        # 3: the CSV item's prompt inside a chat transcript, and the JSONL chat record's question
        "user: " + SUMMARY + "\nassistant: ok\nuser: " + CHAT_Q,
        None,
    ]
    hits = index.find_contamination(texts)
    assert [(h.row_index, h.eval_set, h.eval_id) for h in hits] == [
        (0, "support_eval", "q-1"), (3, "support_eval", "2"), (3, "sums", "1")]
    q_words = len(QUESTION.split())
    assert hits[0].overlap == q_words - 13 + 1  # every 13-gram of the question
    assert isinstance(hits[0], Contamination) and tuple(hits[0])[:3] == (0, "support_eval", "q-1")
    # min_overlap: a single shared 13-gram is not enough when 30 are required
    partial = "As I said: " + " ".join(QUESTION.split()[:14]) + " and then something else entirely."
    assert [h.overlap for h in index.find_contamination([partial])] == [2]
    assert index.find_contamination([partial], min_overlap=30) == []


def test_short_items_match_whole_and_n_is_configurable(tmp_path):
    items = [EvalItem("tiny", "a", "Explain the difference between a list and a tuple in Python"),  # 11 words
             EvalItem("tiny", "b", "Say hi")]
    index = EvalIndex(items, n=13, min_words=8)
    assert [i.eval_id for i in index.items] == ["a"]  # "Say hi" is too short to index
    assert [h.eval_id for h in index.find_contamination(
        ["Question: explain the difference between a list and a tuple in python, with examples."])] == ["a"]
    assert index.find_contamination(["explain the difference between a list and a set in python"]) == []
    small_n = EvalIndex([EvalItem("e", "1", "the quick brown fox jumps over the lazy dog")], n=3)
    assert [h.overlap for h in small_n.find_contamination(["a quick brown fox!"])] == [1]


def test_settings_and_function_api(eval_files):
    jsonl, _ = eval_files
    hits = find_contamination([QUESTION], DecontaminationSettings(eval_sets=(str(jsonl),)))
    assert [(h.row_index, h.eval_id) for h in hits] == [(0, "q-1")]
    assert find_contamination([QUESTION], DecontaminationSettings()) == []  # no eval sets registered
    with pytest.raises(ValueError):
        DecontaminationSettings(n=0)


def test_ngram_hashes_are_deterministic_64_bit_and_distinct():
    import numpy as np

    wh = np.arange(1, 21, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    a, b = ngram_hashes(wh, 13), ngram_hashes(wh, 13)
    assert a.dtype == np.uint64 and len(a) == 8 and (a == b).all()
    assert len(ngram_hashes(wh[:12], 13)) == 0


def test_filter_stage_rejects_contaminated_rows_with_the_eval_id(tmp_path, sample_small):
    import json as _json

    from curation_dagster.lib.contract import conform
    from curation_dagster.lib.decontamination import DecontaminationSettings
    from curation_dagster.lib.filtering import apply_filters
    from curation_dagster.lib.rules import FilterSettings

    gens, _ = sample_small
    day = conform(gens[gens["created_at"].dt.strftime("%Y-%m-%d") == "2026-11-01"].reset_index(drop=True))
    clean = apply_filters(day, FilterSettings())
    victim = clean.kept.iloc[3]
    # an eval set holding one kept row's reply (lightly re-cased) and an unrelated item
    evals = tmp_path / "support_eval.jsonl"
    evals.write_text(_json.dumps({"id": "q-17", "messages": [{"role": "user", "content": "Draft this."},
                                                             {"role": "assistant", "content": victim["output"].upper()}]})
                     + "\n" + _json.dumps({"id": "q-18", "text": "An unrelated question about tax forms in Norway."}) + "\n")
    out = apply_filters(day, FilterSettings(decontamination=DecontaminationSettings(eval_sets=(str(evals),))))
    rej = out.rejected.set_index("generation_id")
    assert rej.loc[victim["generation_id"], "rule"] == "eval_contamination"
    assert rej.loc[victim["generation_id"], "eval_match"] == "support_eval:q-17"
    assert "item q-17 of evaluation set support_eval" in rej.loc[victim["generation_id"], "reason"]
    assert out.rule_counts["eval_contamination"] == 1
    assert len(out.kept) == len(clean.kept) - 1 and len(out.kept) + len(out.rejected) == len(day)


def test_filter_config_registers_eval_sets_from_the_environment(monkeypatch, tmp_path):
    from curation_dagster.defs.filtering.config import FilterConfig

    monkeypatch.setenv("CURATION_EVAL_SETS", f"mmlu={tmp_path}/a.jsonl, {tmp_path}/b.csv")
    settings = FilterConfig().to_settings().decontamination
    assert settings.eval_sets == (f"mmlu={tmp_path}/a.jsonl", f"{tmp_path}/b.csv") and settings.n == 13
    monkeypatch.delenv("CURATION_EVAL_SETS")
    assert FilterConfig().to_settings().decontamination.eval_sets == ()
