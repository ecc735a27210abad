"""The whole graph with the LLM judge behind a local OpenAI-compatible server (llm_fake_server.py) that
answers scripted verdicts by a hash of the reply: about 1 in 10 low, 1 in 10 with two samples that
disagree, 1 in 10 a middle score, 1 in 10 malformed JSON every time. Verdicts reach the export with
provenance, low rows leave with the rule llm_judge and are not sampled again, a re-run costs no call,
and uncertain rows head the review queue."""

import hashlib
import json

import dagster as dg
import duckdb
import pandas as pd
import pytest

from curation_dagster.defs.resources import build_resources
from curation_dagster.definitions import build_definitions
from curation_dagster.lib.judge import PROMPT_VERSION, VerdictStore
from curation_dagster_tests.defs.test_judge import scripted_judge
from curation_dagster_tests.graph import copy_graph, refresh_pool
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

pytestmark = pytest.mark.slow
CASES = {0: "low", 1: "disagree", 2: "malformed", 3: "middle"}


def case_by_reply(prompt: str) -> str:
    reply = prompt.split("Reply to judge:\n", 1)[1]
    return CASES.get(int(hashlib.sha256(reply.encode()).hexdigest()[:8], 16) % 10, "pass")


@pytest.fixture(scope="module")
def judged(tmp_path_factory, small_topic_modelled):
    data_dir = copy_graph(small_topic_modelled, tmp_path_factory.mktemp("judged"))  # nothing published yet
    mp = pytest.MonkeyPatch()
    with FakeOpenAIServer(respond=scripted_judge(case_by_reply)) as server:
        mp.setenv("CURATION_LLM_BASE_URL", server.base_url)
        mp.setenv("CURATION_LLM_MODEL", "judge-model")
        mp.delenv("CURATION_LLM_API_KEY", raising=False)
        try:
            res = refresh_pool(data_dir)
            yield data_dir, res, server
        finally:
            mp.undo()


def table(data_dir, name):
    with duckdb.connect(str(data_dir / "pipeline.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT * FROM curation.{name}").df()


def meta(res, key):
    mat = next(m for m in res.get_asset_materialization_events() if m.asset_key == dg.AssetKey(key))
    return {k: v.value for k, v in mat.step_materialization_data.materialization.metadata.items()}


def export(data_dir):
    out = data_dir / "exports" / "finetuning_dataset"
    prov = [json.loads(x) for x in (out / "provenance.jsonl").read_text().splitlines()]
    return out, prov, json.loads((out / "manifest.json").read_text())


def test_verdicts_reach_the_export_with_provenance_and_low_rows_leave_with_llm_judge(judged):
    data_dir, res, _ = judged
    verdicts = table(data_dir, "judged_examples").set_index("generation_id")
    sampled = set(table(data_dir, "sampled_examples")["generation_id"])
    assert set(verdicts.index) == sampled  # scope 'sampled'
    counts = verdicts["verdict"].value_counts().to_dict()
    assert set(counts) == {"pass", "low", "uncertain", "judge_error"} and counts["pass"] > len(sampled) / 2
    low = set(verdicts.index[verdicts["verdict"] == "low"])
    out, prov, manifest = export(data_dir)
    shipped = {p["generation_id"] for p in prov}
    assert not shipped & low and shipped <= sampled
    assert len(sampled - low - shipped) == manifest["duplicates_removed_at_export"]  # nothing else left out
    for p in prov:  # every exported example says what the judge thought of it, and who judged
        j = p["judge"]
        assert j["verdict"] == verdicts.loc[p["generation_id"], "verdict"] in ("pass", "uncertain", "judge_error")
        assert (j["model"], j["prompt_version"]) == ("judge-model", PROMPT_VERSION)
        assert ("scores" in j) == (j["verdict"] != "judge_error")
        assert ("reason" in j) == (j["verdict"] != "pass")
    block = manifest["judge"]
    assert block["rule"] == "llm_judge" and block["removed"] == len(low) and block["removed_ids"] == sorted(low)
    assert block["verdicts"] == {v: counts.get(v, 0) for v in ("pass", "uncertain", "low", "judge_error")}
    assert block["shipped_judge_error"] == counts["judge_error"] and block["shipped_uncertain"] == counts["uncertain"]
    assert set(block["mean_scores"]) == {"follows_instruction", "faithful_to_input", "structure_and_tone"}
    assert manifest["changes_since_previous"]["dropped_by_judge"] == 0  # nothing was published before
    assert manifest["rows"]["total"] == len(shipped)
    md = meta(res, "finetuning_dataset")
    assert md["removed_by_llm_judge"] == len(low) and md["shipped_judge_error"] == counts["judge_error"]
    jm = meta(res, "judged_examples")
    assert jm["verdict_low"] == len(low) and jm["llm_calls"] > 2 * len(sampled) and jm["llm_cached"] == 0
    print("\n" + pd.DataFrame([r.data for r in jm["score_table"].records]).to_markdown(index=False))
    print(pd.Series(counts).to_markdown())
    # the generator's rows all carry usage signals: the offline judge is fitted, reports its AUC, scores none
    om = meta(res, "offline_judge")
    assert om["rows_without_signals"] == 0 and om["rows_scored"] == 0 and 0.0 <= om["held_out_auc"] <= 1.0
    assert VerdictStore(data_dir / "exports" / "state" / "judge_verdicts.duckdb").ids() == low


def test_a_rerun_costs_no_call_and_exports_the_same_bytes(judged):
    data_dir, _, server = judged
    out, _, _ = export(data_dir)
    before = {n: (out / n).read_bytes() for n in ("train.jsonl", "validation.jsonl", "provenance.jsonl")}
    asked = server.count()
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(
        asset_selection=[dg.AssetKey("judged_examples"), dg.AssetKey("finetuning_dataset")],
        instance=dg.DagsterInstance.ephemeral())
    assert res.success
    assert server.count() == asked
    jm = meta(res, "judged_examples")
    assert jm["llm_calls"] == 0 and jm["llm_cached"] == jm["llm_requests"] > 0
    assert {n: (out / n).read_bytes() for n in before} == before


def test_uncertain_rows_head_the_review_queue(judged):
    data_dir, _, _ = judged
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    res = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[dg.AssetKey("review_queue")], instance=dg.DagsterInstance.ephemeral())
    assert res.success
    queue = table(data_dir, "review_queue").sort_values("rank")
    verdicts = table(data_dir, "judged_examples")
    uncertain = int((verdicts["verdict"] == "uncertain").sum())
    assert uncertain > 0 and (queue["judge_verdict"].head(uncertain) == "uncertain").all()
    assert "low" not in set(queue["judge_verdict"].dropna())
    assert queue["judge_reason"].head(uncertain).str.match(r"^(samples disagree on|middle score)").all()
    assert meta(res, "review_queue")["judge_uncertain_in_queue"] == uncertain


def test_the_next_refresh_does_not_pick_a_row_judged_low(judged):
    data_dir, _, server = judged
    low = set(table(data_dir, "judged_examples").query("verdict == 'low'")["generation_id"])
    _, first, _ = export(data_dir)
    asked = server.count()
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    res = defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert res.success
    sampled = set(table(data_dir, "sampled_examples")["generation_id"])
    assert not sampled & low and meta(res, "sampled_examples")["excluded_judged_low"] == len(low)
    # only the rows picked in their place were asked about
    judged_now = table(data_dir, "judged_examples")
    new_rows = len(sampled - {p["generation_id"] for p in first} - low)
    assert 2 * new_rows <= server.count() - asked <= 4 * new_rows
    _, prov, manifest = export(data_dir)
    shipped = {p["generation_id"] for p in prov}
    assert {p["generation_id"] for p in first} <= shipped  # what shipped stays shipped
    assert not shipped & set(judged_now.query("verdict == 'low'")["generation_id"])
    assert manifest["changes_since_previous"]["dropped_by_selection"] == 0
