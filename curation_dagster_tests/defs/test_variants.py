"""example_variants invoked with the `llm` resource against the local fake OpenAI-compatible server:
offline variants, paraphrases and negatives at their shares, a re-run that asks nothing (cache), and
without an endpoint the paraphrases skipped with a reason while offline variants and negatives still come."""

import json
import re

import dagster as dg
import pandas as pd

from curation_dagster.defs.llm import LLMEndpointResource
from curation_dagster.defs.variants.assets import example_variants
from curation_dagster.defs.variants.config import VariantsConfig
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer
from curation_dagster_tests.lib.test_variants import chunks_and_qa

TOPICS = ["invoice totals", "password resets", "meeting notes", "release plans", "travel budgets",
          "hiring updates", "customer churn", "quarterly goals", "office moves", "security training"]


def sampled():
    n = len(TOPICS)
    return pd.DataFrame({
        "generation_id": [f"gen{i:02d}" for i in range(n)], "created_at": pd.Timestamp("2026-01-02", tz="UTC"),
        "template_id": "general", "generator_version": "v2",
        "instruction": [f"Write a short summary about our {t} for the weekly newsletter, please" for t in TOPICS],
        "identity": json.dumps({"name": "Ana", "role": "manager", "company": "Acme", "tone": "friendly"}),
        "input_message": None,
        "output": [f"This week our team made real progress on {t}; details follow in the next issue." for t in TOPICS],
        "copied": True, "sent": True, "edit_ratio": 0.05, "rating": 5, "cluster_id": [i % 3 for i in range(n)],
        "cluster_name": "team updates", "quality_score": 0.9})


def paraphrase(body: dict):
    user = body["messages"][-1]["content"]
    if not user.startswith("Paraphrase this request."):
        return None
    request = re.search(r"<request>\n(.*)\n</request>", user, re.DOTALL).group(1)
    return json.dumps({"paraphrase": "Could you draft " + request.split("Write ", 1)[-1]})


CONFIG = VariantsConfig(variant_share=0.5, paraphrase_share=0.3, negative_share=0.4, seed=1)


def run(llm):
    out = example_variants(dg.build_asset_context(), config=CONFIG, llm=llm, sampled_examples=sampled(),
                           doc_qa_pairs=chunks_and_qa())
    return out.value, {k: getattr(v, "value", v) for k, v in out.metadata.items()}


def test_variants_paraphrases_and_negatives_then_a_rerun_costs_no_calls(tmp_path):
    with FakeOpenAIServer(respond=paraphrase) as server:
        llm = LLMEndpointResource(base_url=server.base_url, model="fake-para", cache_path=str(tmp_path / "c.duckdb"))
        rows, meta = run(llm)
        asked = server.count()
        rows2, meta2 = run(llm)
        assert server.count() == asked == 3  # every answer the second time from the cache
    assert rows.equals(rows2)
    assert meta["llm_calls"] == 3 and meta2["llm_calls"] == 0 and meta2["llm_cached"] == 3
    kinds = rows["derivation"].str.split(":").str[0].value_counts().to_dict()
    # the two Invoices chunks' questions are alike and both get the Refunds chunk: one negative is a duplicate
    assert kinds == {"variant": 5, "paraphrase": 3, "negative": 3}, (kinds, meta)
    assert meta["negatives_made"] == 4 and meta["rejected_by_rules"] == 1
    assert meta["rows_paraphrase"] == 3 and meta["rows_negative"] == 3
    src = sampled().set_index("generation_id")
    para = rows[rows["derivation"] == "paraphrase"]
    assert para["instruction"].str.startswith("Could you draft a short summary").all()
    assert (para["source_group"] == "variant:" + para["derived_from"]).all()
    assert (para["output"].tolist() == src.loc[para["derived_from"], "output"].tolist())
    neg = rows[rows["derivation"] == "negative"]
    assert (neg["template_id"] == "doc_qa").all() and neg["output"].str.startswith("The passage does not say").all()
    assert (neg["chunk_id"] != neg["source_group"].str.removeprefix("doc_qa:")).all()
    body = server.requests[0]["body"]
    assert "same meaning" in body["messages"][0]["content"] and body["response_format"] == {"type": "json_object"}
    print(rows[["derivation", "derived_from", "instruction", "output"]].to_string())


def test_malformed_paraphrases_are_dropped_with_a_counted_reason():
    with FakeOpenAIServer(respond=lambda body: "Sure, here you go: a paraphrase") as server:
        rows, meta = run(LLMEndpointResource(base_url=server.base_url, model="fake-para"))
    assert not (rows["derivation"] == "paraphrase").any()
    assert meta["paraphrases_dropped"] == 3 and meta["paraphrases_asked"] == 3


def test_without_an_endpoint_paraphrases_are_skipped_but_variants_and_negatives_come():
    rows, meta = run(LLMEndpointResource())
    assert "CURATION_LLM_BASE_URL" in meta["llm_skipped_reason"] and meta["llm_calls"] == 0
    assert set(rows["derivation"].str.split(":").str[0]) == {"variant", "negative"}
    assert meta["variants_made"] == 5 and meta["negatives_made"] == 4


def test_default_shares_derive_nothing():
    out = example_variants(dg.build_asset_context(), config=VariantsConfig(), llm=LLMEndpointResource(),
                           sampled_examples=sampled(), doc_qa_pairs=chunks_and_qa())
    assert out.value.empty and out.metadata["llm_skipped_reason"].value == "paraphrase_share is 0"
