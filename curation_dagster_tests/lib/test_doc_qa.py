import json

import pandas as pd
import pytest

from curation_dagster.lib.doc_qa import (DOC_QA_CLUSTER_ID, PROMPT_VERSION, QASettings, build_request, dedup_pairs,
                                         generate_pairs, mix_doc_qa, pair_rows, parse_pairs, qa_filter_settings)
from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.llm import ChatResult
from curation_dagster.lib.rules import FilterSettings

CHUNK = {"chunk_id": "abc123", "doc_path": "guide.md", "heading": "Install",
         "text": "Document: Guide\nSection: Install\n\nRun pip install curation to install the package on Python 3.11."}


def test_prompt_has_the_recipes_rules():
    req = build_request(CHUNK["text"], QASettings(pairs_per_chunk=4, language="de"))
    system, user = req.messages[0]["content"], req.messages[1]["content"]
    assert "solely from the passage" in system and "concise" in system and "same meaning" in system
    assert "German" in system and '{"pairs": [{"question"' in system
    assert "Write 4" in user and CHUNK["text"] in user
    assert req.prompt_version == PROMPT_VERSION and req.params["response_format"] == {"type": "json_object"}


def test_parse_valid_and_fenced():
    text = json.dumps({"pairs": [{"question": " How is it  installed? ", "answer": "With pip."}]})
    assert parse_pairs(text) == ([{"question": "How is it installed?", "answer": "With pip."}], None)
    assert parse_pairs(f"```json\n{text}\n```")[1] is None
    assert parse_pairs(json.dumps({"pairs": []})) == ([], None)
    many = json.dumps({"pairs": [{"question": f"q{i}?", "answer": "a"} for i in range(5)]})
    assert len(parse_pairs(many, limit=3)[0]) == 3


@pytest.mark.parametrize("text", [None, "", "Sure! Here are pairs: ...", '{"pairs": [{"question": "q"}]}',
                                  '{"pairs": {"question": "q", "answer": "a"}}', '[{"question": "q", "answer": "a"}]',
                                  '{"pairs": [{"question": "q", "answer": 3}]}', '{"pairs": [{"question": "q", "answer": "a"}'])
def test_parse_malformed_is_an_error_never_a_guess(text):
    pairs, why = parse_pairs(text)
    assert pairs == [] and why


def test_dedup_same_question_by_normalisation():
    pairs = [{"question": "How is it installed?", "answer": "pip"}, {"question": "how is it INSTALLED", "answer": "x"},
             {"question": "What Python version?", "answer": "3.11"}]
    kept, dropped = dedup_pairs(pairs)
    assert [p["answer"] for p in kept] == ["pip", "3.11"] and dropped == 1


def test_rows_follow_the_contract_with_provenance():
    rows = pair_rows(CHUNK, [{"question": "How is it installed?", "answer": "With pip install curation."}],
                     "doc_qa/1 m", pd.Timestamp("2026-01-01", tz="UTC"))
    r = rows[0]
    assert r["template_id"] == "doc_qa" and r["instruction"] == "How is it installed?"
    assert r["input_message"] == CHUNK["text"] and r["output"] == "With pip install curation."
    assert json.loads(r["identity"])["system_prompt"] and r["rating"] is None and r["copied"] is None
    assert (r["source_group"], r["doc_path"], r["chunk_id"]) == ("doc_qa:abc123", "guide.md", "abc123")
    again = pair_rows(CHUNK, [{"question": "how is it installed", "answer": "other"}], "v", None)
    assert again[0]["generation_id"] == r["generation_id"]  # id from chunk + normalised question


class StubClient:
    model = "stub-model"

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def complete_many(self, requests):
        self.asked += requests
        return [self.answers[i % len(self.answers)] for i in range(len(requests))]


def test_generate_pairs_rows_errors_and_dedup():
    chunks = pd.DataFrame([CHUNK, {**CHUNK, "chunk_id": "zzz", "heading": "Other"}])
    good = json.dumps({"pairs": [{"question": "How do you install curation?", "answer": "Run pip install curation."},
                                 {"question": "how do you install curation", "answer": "dup"},
                                 {"question": "Which Python version does curation need?",
                                  "answer": " ".join(["word"] * 80)}]})
    client = StubClient([ChatResult(text=good), ChatResult(text="not json")])
    out = generate_pairs(client, chunks, QASettings(), pd.Timestamp("2026-01-01", tz="UTC"))
    assert len(out.rows) == 1 and out.duplicate_questions == 1 and out.too_long_answers == 1
    assert list(out.errors["chunk_id"]) == ["zzz"] and "not JSON" in out.errors["error"].iloc[0]
    assert out.rows["generator_version"].iloc[0] == "doc_qa/1 stub-model"
    limited = generate_pairs(StubClient([ChatResult(text=good)]), chunks, QASettings(max_chunks=1), None)
    assert limited.chunks_asked == 1 and limited.chunks_left == 1


def test_qa_rows_pass_the_filter_rules_with_qa_settings_and_bad_ones_get_a_reason():
    rows = pair_rows(CHUNK, [{"question": "How do you install the curation package?", "answer": "Run pip install curation."},
                             {"question": "Whom do you email for help with curation?", "answer": "Write to jane.doe@acmecorp.io or call +1 415 555 2671."}],
                     "doc_qa/1 m", pd.Timestamp("2026-01-01", tz="UTC"))
    outcome = apply_filters(pd.DataFrame(rows), qa_filter_settings(FilterSettings()))
    assert len(outcome.kept) == 1 and outcome.rejected["rule"].tolist() == ["pii"]
    s = qa_filter_settings(FilterSettings())
    assert "doc_qa" in s.known_templates and s.min_output_words == 1 and not s.require_identity


def test_mix_respects_share_and_is_deterministic():
    sampled = pd.DataFrame({"generation_id": [f"g{i}" for i in range(90)], "cluster_id": 0, "cluster_name": "c",
                            "quality_score": 0.9, "output": "x", "model_version": "tm-1"})
    qa = pd.DataFrame({"generation_id": [f"docqa-{i}" for i in range(30)], "output": "a", "doc_path": "d.md",
                       "chunk_id": "c1", "heading": "h"})
    assert mix_doc_qa(sampled, qa, 0.0)[0] is sampled
    mixed, summary = mix_doc_qa(sampled, qa, 0.1, seed=1)
    assert summary == {"share": 0.1, "available": 30, "mixed": 10} and len(mixed) == 100
    added = mixed[mixed["cluster_id"] == DOC_QA_CLUSTER_ID]
    assert len(added) == 10 and set(added["doc_path"]) == {"d.md"} and (added["quality_score"] == 0.5).all()
    assert set(added["model_version"]) == {"tm-1"}
    assert mix_doc_qa(sampled, qa.iloc[::-1], 0.1, seed=1)[0]["generation_id"].tolist() == mixed["generation_id"].tolist()
    assert mix_doc_qa(sampled, qa.head(3), 0.5)[1]["mixed"] == 3  # no more than there are
    with pytest.raises(ValueError):
        mix_doc_qa(sampled, qa, 1.0)


def test_mixed_rows_reach_the_files_with_provenance_and_one_split_per_chunk():
    from curation_dagster.lib.dataset import build_dataset

    sampled = pd.DataFrame([{
        "generation_id": f"g{i:03d}", "created_at": pd.Timestamp("2026-11-01", tz="UTC"), "cluster_id": i % 3,
        "cluster_name": f"c{i % 3}", "template_id": "general", "quality_score": 0.8, "model_version": "tm-1",
        "instruction": f"Write note number {i} to the team about topic {i * 7}", "identity": None,
        "input_message": None, "output": f"Hello team, this is note {i} about subject {i * 13}. Thanks!"}
        for i in range(40)])
    chunks = [{**CHUNK, "chunk_id": f"chunk{j}", "text": f"Document: Guide\nSection: Part {j}\n\nFact {j} is {j * 3}."}
              for j in range(4)]
    qa = pd.DataFrame([r for j, c in enumerate(chunks) for r in pair_rows(
        c, [{"question": f"What is fact {j}?", "answer": f"Fact {j} is {j * 3}."},
            {"question": f"Which section gives fact {j}?", "answer": f"Part {j}."}],
        "doc_qa/1 m", pd.Timestamp("2026-11-02", tz="UTC"))])
    mixed, summary = mix_doc_qa(sampled, qa, 0.15, seed=3)
    assert summary["mixed"] == 7
    build = build_dataset(mixed, None, 0.3, seed=3)
    prov = [json.loads(line) for line in build.files["provenance.jsonl"].decode().splitlines()]
    qa_prov = [p for p in prov if p["template_id"] == "doc_qa"]
    assert len(qa_prov) == 7 and all(p["doc_path"] == "guide.md" and p["chunk_id"].startswith("chunk") for p in qa_prov)
    assert all("doc_path" not in p for p in prov if p["template_id"] != "doc_qa")
    by_chunk = {}
    for p in qa_prov:
        by_chunk.setdefault(p["chunk_id"], set()).add(p["split"])
    assert all(len(s) == 1 for s in by_chunk.values())  # a chunk's pairs never straddle splits
    assert all(p["split_group"].startswith("group:doc_qa:chunk") for p in qa_prov)
    train = build.files["train.jsonl"].decode() + build.files.get("validation.jsonl", b"").decode()
    assert "What is fact" in train and "Document: Guide" in train
