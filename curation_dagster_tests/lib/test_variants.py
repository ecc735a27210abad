"""lib/variants.py: offline variant makers, paraphrase parsing, negatives' wrong passages, the mix into
the export and the split grouping of a source with its variants."""

import json
import re

import pandas as pd
import pytest

from curation_dagster.lib.dataset import build_dataset
from curation_dagster.lib.doc_qa import IDENTITY
from curation_dagster.lib.llm import ChatResult
from curation_dagster.lib.splits import assign_splits, split_groups
from curation_dagster.lib.variants import (MAKERS, NEGATIVE, PARAPHRASE, VariantSettings, build_paraphrase_request,
                                           make_variant, mix_variants, negative_rows, offline_variants,
                                           paraphrase_rows, parse_paraphrase, pick_wrong_chunks, variant_rng)

CASES = [
    "How do I reset the password for my account, and where is the button?",
    "Write a friendly reply declining the meeting request. Mention the deadline.",
    "Summarise the report  in three sentences please",
]
PROTECTED = "Please explain why `parse_config(path)` fails, see https://example.com/docs/parsing and version 12.5 notes"


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("text", CASES)
def test_each_maker_changes_the_text_and_is_deterministic_per_seed_and_id(name, text):
    outs = {MAKERS[name](text, variant_rng(7, f"g{i}", name)) for i in range(6)}
    assert any(o.strip() != text.strip() for o in outs)
    assert MAKERS[name](text, variant_rng(7, "g1", name)) == MAKERS[name](text, variant_rng(7, "g1", name))
    made = make_variant(text, "g1", (name,), 7)
    assert made is not None and made[0] == name and made[1].strip() != text.strip()
    assert make_variant(text, "g1", (name,), 7) == made


def test_the_makers_do_what_they_say():
    q = "How do I reset the password, please?"
    assert {MAKERS["punctuation"](q, variant_rng(0, f"g{i}", "p")) for i in range(20)} == {
        "How do I reset the password, please", "How do I reset the password please?"}
    assert MAKERS["punctuation"]("How do I reset it", variant_rng(0, "g", "p")) == "How do I reset it?"
    assert {MAKERS["casing"](q, variant_rng(0, f"g{i}", "c")) for i in range(20)} == {
        "how do i reset the password, please?", "How do i reset the password, please?"}
    for i in range(20):
        w = MAKERS["whitespace"](q, variant_rng(0, f"g{i}", "w"))
        assert " ".join(w.split()) == q and w != q
    for i in range(20):
        t = MAKERS["typos"](q, variant_rng(0, f"g{i}", "t"))
        changed = [(a, b) for a, b in zip(q.split(), t.split()) if a != b]
        assert 1 <= len(changed) <= 2 and all(len(a) >= 4 and a[0] == b[0] for a, b in changed)


def test_typos_never_touch_code_urls_or_numbers():
    keep = ["`parse_config(path)`", "https://example.com/docs/parsing", "12.5"]
    for i in range(50):
        out = MAKERS["typos"](PROTECTED, variant_rng(i, "g", "typos"))
        assert out != PROTECTED and all(k in out for k in keep)
        assert MAKERS["casing"](PROTECTED, variant_rng(i, "g", "casing")).count("parse_config(path)") == 1
    only_code = "`some_function_name` https://example.com/abcdef 12345"
    assert MAKERS["typos"](only_code, variant_rng(0, "g", "typos")) == only_code
    assert make_variant(only_code, "g", ("typos",), 0) is None  # identical: dropped


def test_paraphrase_request_and_strict_parsing():
    req = build_paraphrase_request("How do I reset my password?")
    assert req.prompt_version == "paraphrase/1" and req.params["response_format"] == {"type": "json_object"}
    assert "<request>\nHow do I reset my password?\n</request>" in req.messages[-1]["content"]
    src = "How do I reset my password?"
    assert parse_paraphrase('{"paraphrase": "What are the steps to change my password?"}', src) == (
        "What are the steps to change my password?", None)
    assert parse_paraphrase('```json\n{"paraphrase": "Steps to reset a password?"}\n```', src)[0] == "Steps to reset a password?"
    for bad, why in [("Sure! Try: what are the steps", "not JSON"), ('{"text": "x y"}', "exactly"),
                     ('{"paraphrase": "a", "note": "b"}', "exactly"), ('{"paraphrase": ""}', "non-empty"),
                     ('["x"]', "exactly"), (None, "no answer")]:
        text, reason = parse_paraphrase(bad, src)
        assert text is None and why in reason
    assert parse_paraphrase('{"paraphrase": "how do i reset my password"}', src) == (None, "identical to the source")


def sampled_frame(n=20):
    return pd.DataFrame({
        "generation_id": [f"g{i:02d}" for i in range(n)], "created_at": pd.Timestamp("2026-01-01", tz="UTC"),
        "template_id": "general", "generator_version": "v2", "instruction": [f"{CASES[i % 3]} case {chr(97 + i)}" for i in range(n)],
        "identity": '{"name": "A"}', "input_message": None, "output": [f"Answer number {i} with enough words here." for i in range(n)],
        "copied": True, "sent": True, "edit_ratio": 0.1, "rating": 5, "cluster_id": [i % 4 for i in range(n)],
        "cluster_name": "c", "quality_score": 0.8})


def test_offline_variants_and_paraphrases_keep_the_source_and_its_split_group():
    sampled = sampled_frame()
    s = VariantSettings(variant_share=0.5, paraphrase_share=0.25, seed=3)
    rows, counts = offline_variants(sampled, s)
    assert counts["made"] == len(rows) == 10 and rows == offline_variants(sampled, s)[0]
    src = sampled.set_index("generation_id")
    for r in rows:
        assert r["derivation"].startswith("variant:") and r["derivation"][8:] in MAKERS
        assert r["source_group"] == f"variant:{r['derived_from']}" and r["template_id"] == "general"
        assert r["instruction"] != src.loc[r["derived_from"], "instruction"]
        assert r["output"] == src.loc[r["derived_from"], "output"]
    from curation_dagster.lib.variants import paraphrase_sources
    sources = paraphrase_sources(sampled, s)
    answers = [ChatResult(json.dumps({"paraphrase": f"Put differently: {t}"})) for t in sources["instruction"]]
    answers[0] = ChatResult("not json")
    answers[1] = ChatResult(None, error="HTTP 500")
    answers[2] = ChatResult(json.dumps({"paraphrase": sources["instruction"].iloc[2].upper()}))
    para, dropped = paraphrase_rows(sources, answers)
    assert len(para) == 2 and all(p["derivation"] == PARAPHRASE for p in para)
    assert dropped == {"answer is not JSON": 1, "request failed": 1, "identical to the source": 1}


def test_a_source_and_its_variants_never_straddle_splits():
    sampled = sampled_frame(40)
    rows, _ = offline_variants(sampled, VariantSettings(variant_share=1.0, seed=1))
    rows += [dict(r, generation_id=r["generation_id"] + "p", derivation=PARAPHRASE,
                  instruction=f"Entirely reworded request {i}") for i, r in enumerate(rows[:10])]
    mixed, summary = mix_variants(sampled, pd.DataFrame(rows))
    assert len(mixed) == 40 + len(rows) and sum(summary["mixed"].values()) == len(rows)
    assert mixed["source_group"].notna().all()
    for seed in range(5):
        split = assign_splits(mixed, 0.3, seed, test_fraction=0.2)
        by_source = pd.DataFrame({"src": mixed["derived_from"].fillna(mixed["generation_id"]), "split": split})
        assert (by_source.groupby("src")["split"].nunique() == 1).all()
        assert split.nunique() == 3
    # the export keeps them: variants are near copies by design, not dropped as duplicates
    build = build_dataset(mixed, None, 0.3, 0, 0.2)
    prov = build.provenance
    derived = [p for p in prov if p.get("derivation")]
    assert len(derived) == len(rows)
    assert not [h for h in build.duplicates if "#" in h.generation_id + h.duplicate_of]  # only look-alike sources
    assert all(p["derived_from"] in set(sampled["generation_id"]) for p in derived)
    groups = {}
    for p in prov:
        groups.setdefault(p["split_group"], set()).add(p["split"])
    assert all(len(v) == 1 for v in groups.values())


def test_variants_of_a_source_that_left_ship_without_it_never():
    sampled = sampled_frame(10)
    rows, _ = offline_variants(sampled, VariantSettings(variant_share=1.0))
    mixed, summary = mix_variants(sampled[sampled["generation_id"] != "g03"], pd.DataFrame(rows))
    assert "g03" not in set(mixed["derived_from"].dropna()) and len(mixed) == 9 + 9


def chunks_and_qa():
    chunks = [("billing.md", "Invoices", "c1", "Invoices are sent monthly; invoices list seats and the plan."),
              ("billing.md", "Invoices", "c1b", "Invoices are payable within 30 days; invoices by card."),
              ("billing.md", "Refunds", "c2", "Refunds of annual plans within 14 days; monthly plans and invoices not refunded."),
              ("setup.md", "", "c3", "Install the agent and run setup; the agent reports every five minutes.")]
    qa = pd.DataFrame([{"generation_id": f"q{cid}", "created_at": pd.Timestamp("2026-01-01", tz="UTC"),
                        "template_id": "doc_qa", "generator_version": "doc_qa/1 m", "instruction": f"What about {h or d}?",
                        "identity": IDENTITY, "input_message": f"Document: X\n\n{t}", "output": "An answer.",
                        "copied": None, "sent": None, "edit_ratio": None, "rating": None, "source_group": f"doc_qa:{cid}",
                        "doc_path": d, "chunk_id": cid, "heading": h, "quality_score": 0.5} for d, h, cid, t in chunks])
    return qa


def test_negatives_take_the_most_similar_chunk_of_another_section():
    qa = chunks_and_qa()
    wrong = pick_wrong_chunks(qa.rename(columns={"input_message": "text"}))
    assert wrong["c1"] == "c2" and wrong["c1b"] == "c2"  # never its own chunk, nor its own section's other part
    assert all(w is not None and w != c for c, w in wrong.items())
    assert wrong == pick_wrong_chunks(qa.rename(columns={"input_message": "text"}).iloc[::-1])
    rows, counts = negative_rows(qa, 4, VariantSettings(negative_share=1.0))
    assert counts == {"made": 4, "no_other_section": 0}
    by = {r["derived_from"]: r for r in rows}
    n = by["qc1"]
    assert n["derivation"] == NEGATIVE and n["chunk_id"] == "c2" and n["source_group"] == "doc_qa:c1"
    assert n["output"] == "The passage does not say; it covers Refunds instead."
    assert n["input_message"] == qa.set_index("chunk_id").loc["c2", "input_message"] and n["template_id"] == "doc_qa"
    assert by["qc3"]["output"].startswith("The passage does not say; it covers ")
    one_section = qa[qa["heading"] == "Invoices"]
    assert negative_rows(one_section, 2, VariantSettings(negative_share=1.0))[1] == {"made": 0, "no_other_section": 2}


def test_settings_are_checked():
    with pytest.raises(ValueError, match="variant_share"):
        VariantSettings(variant_share=1.5)
    with pytest.raises(ValueError, match="unknown variant makers"):
        VariantSettings(makers=("typos", "emoji"))
    with pytest.raises(ValueError, match="refusal"):
        VariantSettings(refusal=" ")
    assert re.search(r"\{heading\}", VariantSettings().refusal)


def test_a_negative_never_takes_a_section_that_contains_its_own_or_the_documents_intro():
    text = "Refunds of annual plans within 14 days; monthly plans are not refunded."
    chunks = pd.DataFrame([
        {"chunk_id": "intro", "doc_path": "billing.md", "heading": "", "text": "Billing covers refunds of annual plans within 14 days."},
        {"chunk_id": "parent", "doc_path": "billing.md", "heading": "Plans", "text": "Plans: refunds of annual plans within 14 days."},
        {"chunk_id": "child", "doc_path": "billing.md", "heading": "Plans > Refunds", "text": text},
        {"chunk_id": "grandchild", "doc_path": "billing.md", "heading": "Plans > Refunds > Cards", "text": "Card refunds of annual plans take 14 days."},
        {"chunk_id": "sibling", "doc_path": "billing.md", "heading": "Plans > Invoices", "text": "Invoices of annual plans are monthly."},
        {"chunk_id": "elsewhere", "doc_path": "setup.md", "heading": "Plans > Refunds", "text": "Install the agent; refunds are not about setup."},
    ])
    wrong = pick_wrong_chunks(chunks)
    # the intro, the parent and the grandchild read most like the child, but each may hold its answer;
    # the same heading in another file is another section
    assert wrong["child"] in ("sibling", "elsewhere")
    assert wrong["grandchild"] in ("sibling", "elsewhere") and wrong["parent"] == "elsewhere"
    assert wrong["intro"] == "elsewhere"
