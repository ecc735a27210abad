"""document_chunks + doc_qa_pairs materialized with the code location's resources (DuckDB IO manager, LLM
cache) against the local fake OpenAI-compatible server: pairs with provenance, a re-run that asks nothing,
and the asset skipped with a reason when no endpoint is configured."""

import json
import re

import dagster as dg
import pytest

from curation_dagster.defs.documents.assets import doc_qa_pairs, document_chunks
from curation_dagster.defs.llm import LLMEndpointResource
from curation_dagster.defs.resources import build_resources
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

GUIDE = """# Billing Guide

## Invoices

Invoices are sent on the first business day of each month. Each invoice lists the seats in use and the
plan, and is payable within 30 days by card or bank transfer.

## Refunds

Annual plans can be refunded within 14 days of purchase. Monthly plans are not refunded, but they can be
cancelled at any time and stay active until the end of the paid month.
"""
SETUP = """# Setup

Install the agent with the package manager of your system, then run the setup command once. The agent
reads its settings from a file in the home folder and reports to the dashboard every five minutes.
"""


def qa_answer(body: dict) -> str:
    """Two pairs about the passage the request carries (the heading in the question, so they differ per chunk)."""
    user = body["messages"][-1]["content"]
    section = re.search(r"Section: (.+)", user)
    title = re.search(r"Document: (.+)", user).group(1)
    topic = section.group(1) if section else title
    return json.dumps({"pairs": [
        {"question": f"What does the {title} say about {topic}?", "answer": f"It explains {topic.lower()} in brief terms."},
        {"question": f"Where is {topic} described in the documentation?", "answer": f"In the {title}, section {topic}."},
    ]})


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "billing.md").write_text(GUIDE)
    (folder / "setup.md").write_text(SETUP)
    return folder


def run(resources, folder, instance):
    config = {"ops": {"document_chunks": {"config": {"folder": str(folder), "min_chars": 40}},
                      "doc_qa_pairs": {"config": {"pairs_per_chunk": 2}}}}
    return dg.materialize([document_chunks, doc_qa_pairs], resources=resources, run_config=config, instance=instance)


def meta(result, node):
    (mat,) = result.asset_materializations_for_node(node)
    return {k: v.value for k, v in mat.metadata.items()}


def test_pairs_from_the_fake_server_then_a_rerun_costs_no_calls(tmp_path, docs):
    instance = dg.DagsterInstance.ephemeral()
    with FakeOpenAIServer(respond=qa_answer) as server:
        resources = {**build_resources("local", data_dir=tmp_path, environ={}),
                     "llm": LLMEndpointResource(base_url=server.base_url, model="fake-qa",
                                                cache_path=str(tmp_path / "llm_cache.duckdb"))}
        first = run(resources, docs, instance)
        asked = server.count()
        second = run(resources, docs, instance)
        assert server.count() == asked  # every answer from the cache
    assert first.success and second.success
    chunks = first.output_for_node("document_chunks")
    assert sorted(chunks["heading"]) == ["", "Invoices", "Refunds"]
    assert asked == len(chunks) == 3
    pairs = first.output_for_node("doc_qa_pairs")
    assert len(pairs) == 6 and set(pairs["template_id"]) == {"doc_qa"}
    assert set(pairs["doc_path"]) == {"billing.md", "setup.md"}
    assert set(pairs["chunk_id"]) == set(chunks["chunk_id"])
    assert (pairs["source_group"] == "doc_qa:" + pairs["chunk_id"]).all()
    assert pairs["input_message"].str.startswith("Document: ").all()
    m1, m2 = meta(first, "doc_qa_pairs"), meta(second, "doc_qa_pairs")
    assert m1["llm_calls"] == 3 and m1["pairs_kept"] == 6 and m1["parse_errors"] == 0
    assert m2["llm_calls"] == 0 and m2["llm_cached"] == 3
    assert second.output_for_node("doc_qa_pairs")["generation_id"].tolist() == pairs["generation_id"].tolist()
    # the request carries the recipe's rules and the passage with its title
    body = server.requests[0]["body"]
    assert "solely from the passage" in body["messages"][0]["content"]
    assert body["response_format"] == {"type": "json_object"}


def test_malformed_answers_are_error_rows_not_pairs(tmp_path, docs):
    with FakeOpenAIServer(respond=lambda body: "Here are some pairs: Q1 ...") as server:
        resources = {**build_resources("local", data_dir=tmp_path, environ={}),
                     "llm": LLMEndpointResource(base_url=server.base_url, model="fake-qa")}
        result = run(resources, docs, dg.DagsterInstance.ephemeral())
    assert result.success
    assert result.output_for_node("doc_qa_pairs").empty
    assert meta(result, "doc_qa_pairs")["parse_errors"] == 3


def test_without_an_endpoint_the_pairs_are_skipped_with_a_reason(tmp_path, docs):
    resources = build_resources("local", data_dir=tmp_path, environ={})
    result = run(resources, docs, dg.DagsterInstance.ephemeral())
    assert result.success
    assert len(result.output_for_node("document_chunks")) == 3
    assert result.output_for_node("doc_qa_pairs").empty
    m = meta(result, "doc_qa_pairs")
    assert m["llm_calls"] == 0 and "CURATION_LLM_BASE_URL" in m["llm_skipped_reason"]


def test_a_missing_folder_is_an_empty_result_with_a_note(tmp_path):
    resources = build_resources("local", data_dir=tmp_path, environ={})
    result = run(resources, tmp_path / "nowhere", dg.DagsterInstance.ephemeral())
    assert result.success
    assert result.output_for_node("document_chunks").empty
    assert "missing folder" in meta(result, "document_chunks")["note"]
    assert "no documents" in meta(result, "doc_qa_pairs")["llm_skipped_reason"]
