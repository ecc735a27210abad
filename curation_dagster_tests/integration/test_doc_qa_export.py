"""QA pairs from documents through the whole graph: the first pages of the README as the documents folder,
the local fake OpenAI-compatible server answering the QA prompts, pool_refresh_job with doc_qa_share 0.1.
Pairs reach the export with provenance back to the file and chunk, a re-run asks nothing (cache), and with
the default share the export has none."""

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from curation_dagster.defs.resources import build_resources
from curation_dagster.definitions import build_definitions
from curation_dagster.lib.doc_qa import PROMPT_VERSION
from curation_dagster_tests.graph import copy_graph, refresh_pool
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"


def qa_or_none(body: dict):
    """QA pairs for the doc_qa prompts (their first sentence as the answer); other prompts (the judge) fall
    through to the server's echo."""
    user = body["messages"][-1]["content"]
    if "question-answer pairs about this passage" not in user:
        return None
    passage = user.split("<passage>\n", 1)[1].rsplit("\n</passage>", 1)[0]
    title = re.search(r"Document: (.+)", passage).group(1)
    section = (re.search(r"Section: (.+)", passage) or re.search(r"Document: (.+)", passage)).group(1)
    body_text = passage.split("\n\n", 1)[1]
    first = re.split(r"(?<=[.!?])\s", " ".join(body_text.split()), maxsplit=1)[0][:200]
    return json.dumps({"pairs": [
        {"question": f"According to the {title} README, what is said first under {section}?", "answer": first},
        {"question": f"Which heading of the {title} README covers {section.split(' > ')[-1]}?",
         "answer": f"The section {section}."}]})


@pytest.fixture(scope="module")
def with_docs(tmp_path_factory, small_topic_modelled):
    data_dir = copy_graph(small_topic_modelled, tmp_path_factory.mktemp("doc_qa"))  # nothing published yet
    docs = data_dir / "documents"
    docs.mkdir()
    (docs / "README.md").write_text("\n".join(README.read_text().splitlines()[:120]) + "\n")
    mp = pytest.MonkeyPatch()
    with FakeOpenAIServer(respond=qa_or_none) as server:
        mp.setenv("CURATION_DATA_DIR", str(data_dir))
        mp.setenv("CURATION_LLM_BASE_URL", server.base_url)
        mp.setenv("CURATION_LLM_MODEL", "qa-model")
        mp.delenv("CURATION_LLM_API_KEY", raising=False)
        try:
            refresh_pool(data_dir)  # doc_qa_share 0: nothing mixed in yet
            plain = [json.loads(x) for x in (data_dir / "exports" / "finetuning_dataset" / "provenance.jsonl")
                     .read_text().splitlines()]
            qa_requests = sum("question-answer pairs" in r["body"]["messages"][-1]["content"] for r in server.requests)
            defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
            res = defs.resolve_job_def("pool_refresh_job").execute_in_process(
                instance=dg.DagsterInstance.ephemeral(),
                run_config={"ops": {"finetuning_dataset": {"config": {"doc_qa_share": 0.1}}}})
            qa_after = sum("question-answer pairs" in r["body"]["messages"][-1]["content"] for r in server.requests)
            yield data_dir, plain, res, qa_requests, qa_after
        finally:
            mp.undo()


def test_qa_pairs_reach_the_export_with_provenance_and_a_rerun_costs_no_calls(with_docs):
    data_dir, plain, res, qa_requests, qa_after = with_docs
    assert res.success
    assert not [p for p in plain if p["template_id"] == "doc_qa"]  # default share 0: none
    assert qa_requests > 0 and qa_after == qa_requests  # the second run's answers all came from the cache
    out = data_dir / "exports" / "finetuning_dataset"
    prov = [json.loads(x) for x in (out / "provenance.jsonl").read_text().splitlines()]
    qa = [p for p in prov if p["template_id"] == "doc_qa"]
    assert qa and len(qa) <= 0.1 * len(prov) + 1
    assert all(p["doc_path"] == "README.md" and p["chunk_id"] and p["split_group"].startswith("group:doc_qa:")
               for p in qa)
    # the pairs went through the judge with the sample: each carries a verdict (the fake server echoes the
    # judge's prompt back, which is no verdict JSON: judge_error, shipped unjudged, never a guessed score)
    assert all(p.get("judge", {}).get("verdict") == "judge_error" for p in qa)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["doc_qa_share"] == 0.1
    lines = {}
    for split in ("train", "validation"):
        for line_no, line in enumerate((out / f"{split}.jsonl").read_text().splitlines(), 1):
            lines[(split, line_no)] = json.loads(line)["messages"]
    for p in qa[:3]:
        msgs = lines[(p["split"], p["line"])]
        assert "README" in msgs[-2]["content"] and "Document: " in msgs[-2]["content"]
    # what the endpoint made of the README, for the record
    print("\n".join(f"Q: {lines[(p['split'], p['line'])][-2]['content'].split(chr(10))[0]}\n"
                    f"A: {lines[(p['split'], p['line'])][-1]['content']}" for p in qa[:6]))
    mat = next(m for m in res.get_asset_materialization_events() if m.asset_key == dg.AssetKey("doc_qa_pairs"))
    meta = {k: v.value for k, v in mat.step_materialization_data.materialization.metadata.items()}
    assert meta["llm_calls"] == 0 and meta["pairs_kept"] > 0 and meta["prompt_version"] == PROMPT_VERSION
