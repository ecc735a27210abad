"""Variants and negatives through the whole graph: the README's first pages as documents, the local fake
OpenAI-compatible server answering the QA and paraphrase prompts, pool_refresh_job with variant,
paraphrase and negative shares. They reach the export with provenance (derived_from, derivation) on
their source's split group, a re-run asks nothing (cache), and without an endpoint the paraphrases are
skipped with a reason while offline variants and negatives still ship."""

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from curation_dagster.defs.resources import build_resources
from curation_dagster.definitions import build_definitions
from curation_dagster_tests.integration.test_doc_qa_export import qa_or_none
from curation_dagster_tests.graph import copy_graph, refresh_pool
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"
SHARES = {"variant_share": 0.1, "paraphrase_share": 0.05, "negative_share": 0.05}
RUN_CONFIG = {"ops": {"finetuning_dataset": {"config": {"doc_qa_share": 0.1}},
                      "example_variants": {"config": SHARES}}}


def answer(body: dict):
    user = body["messages"][-1]["content"]
    if user.startswith("Paraphrase this request."):
        request = re.search(r"<request>\n(.*)\n</request>", user, re.DOTALL).group(1)
        return json.dumps({"paraphrase": "In other words: " + request})
    return qa_or_none(body)


def paraphrase_requests(server) -> int:
    return sum(r["body"]["messages"][-1]["content"].startswith("Paraphrase this request.") for r in server.requests)


def provenance(data_dir) -> list[dict]:
    out = data_dir / "exports" / "finetuning_dataset" / "provenance.jsonl"
    return [json.loads(x) for x in out.read_text().splitlines()]


def chat_lines(data_dir) -> dict:
    out, lines = data_dir / "exports" / "finetuning_dataset", {}
    for split in ("train", "validation", "test"):
        if (out / f"{split}.jsonl").exists():
            for n, line in enumerate((out / f"{split}.jsonl").read_text().splitlines(), 1):
                lines[(split, n)] = json.loads(line)["messages"]
    return lines


def meta(res, key) -> dict:
    mat = next(m for m in res.get_asset_materialization_events() if m.asset_key == dg.AssetKey(key))
    return {k: v.value for k, v in mat.step_materialization_data.materialization.metadata.items()}


@pytest.fixture(scope="module")
def with_variants(tmp_path_factory, small_topic_modelled):
    data_dir = copy_graph(small_topic_modelled, tmp_path_factory.mktemp("variants"))  # nothing published yet
    docs = data_dir / "documents"
    docs.mkdir()
    # two "##" sections: a negative needs a passage outside its own section, its parents and its children
    (docs / "README.md").write_text("\n".join(README.read_text().splitlines()[:240]) + "\n")
    mp = pytest.MonkeyPatch()
    with FakeOpenAIServer(respond=answer) as server:
        mp.setenv("CURATION_DATA_DIR", str(data_dir))
        mp.setenv("CURATION_LLM_BASE_URL", server.base_url)
        mp.setenv("CURATION_LLM_MODEL", "variants-model")
        mp.delenv("CURATION_LLM_API_KEY", raising=False)
        try:
            refresh_pool(data_dir)  # default shares 0: nothing derived
            plain = provenance(data_dir)
            defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
            job = defs.resolve_job_def("pool_refresh_job")
            first = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), run_config=RUN_CONFIG)
            asked, first_prov, first_lines = paraphrase_requests(server), provenance(data_dir), chat_lines(data_dir)
            first_manifest = json.loads((data_dir / "exports" / "finetuning_dataset" / "manifest.json").read_text())
            second = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), run_config=RUN_CONFIG)
            asked_again, total = paraphrase_requests(server), server.count()
            # no endpoint: only the variants and the export re-run (the QA pairs stay as stored)
            mp.delenv("CURATION_LLM_BASE_URL")
            mp.delenv("CURATION_LLM_MODEL")
            offline_defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
            offline = offline_defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=dg.DagsterInstance.ephemeral(), run_config=RUN_CONFIG,
                asset_selection=[dg.AssetKey("example_variants"), dg.AssetKey("finetuning_dataset")])
            yield {"dir": data_dir, "plain": plain, "first": first, "first_prov": first_prov, "asked": asked,
                   "first_lines": first_lines, "first_manifest": first_manifest,
                   "second": second, "asked_again": asked_again, "total": total, "server_after": server.count(),
                   "offline": offline, "offline_prov": provenance(data_dir)}
        finally:
            mp.undo()


def test_variants_paraphrases_and_negatives_reach_the_export_with_provenance(with_variants):
    w = with_variants
    assert w["first"].success and not [p for p in w["plain"] if p.get("derivation")]  # default: none
    prov = w["first_prov"]
    derived = [p for p in prov if p.get("derivation")]
    kinds = {p["derivation"].split(":")[0] for p in derived}
    assert kinds == {"variant", "paraphrase", "negative"}, kinds
    ids = {p["generation_id"]: p for p in prov}
    for p in derived:
        if p["derivation"] != "negative":  # a variant ships with its source, on its split group
            src = ids[p["derived_from"]]
            assert src["split_group"] == p["split_group"] and src["split"] == p["split"]
            assert src["template_id"] == p["template_id"]
        else:
            assert p["template_id"] == "doc_qa" and p["chunk_id"] and p["split_group"].startswith("group:doc_qa:")
    assert w["first_manifest"]["split_grouping"]["straddling"] == 0
    lines = w["first_lines"]
    examples = {}
    for p in derived:
        examples.setdefault(p["derivation"].split(":")[0], (p["derivation"], lines[(p["split"], p["line"])]))
    neg = examples["negative"][1]
    assert neg[-1]["content"].startswith("The passage does not say; it covers ")
    assert examples["paraphrase"][1][-2]["content"].startswith("In other words: ")
    for kind, (derivation, msgs) in sorted(examples.items()):
        print(f"{derivation}: USER {msgs[-2]['content'][:160]!r}\n  ASSISTANT {msgs[-1]['content'][:120]!r}")
    m = meta(w["first"], "finetuning_dataset")
    assert m["derived_rows_mixed"] == len(derived)


def test_a_rerun_costs_no_calls(with_variants):
    w = with_variants
    assert w["second"].success and w["asked"] > 0 and w["asked_again"] == w["asked"]
    assert meta(w["second"], "example_variants")["llm_calls"] == 0
    assert meta(w["second"], "doc_qa_pairs")["llm_calls"] == 0


def test_without_an_endpoint_paraphrases_are_skipped_and_the_rest_ships(with_variants):
    w = with_variants
    assert w["offline"].success and w["server_after"] == w["total"]
    m = meta(w["offline"], "example_variants")
    assert "CURATION_LLM_BASE_URL" in m["llm_skipped_reason"] and m["llm_calls"] == 0
    kinds = {p["derivation"].split(":")[0] for p in w["offline_prov"] if p.get("derivation")}
    assert kinds == {"variant", "negative"}
