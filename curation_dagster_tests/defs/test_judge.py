"""The judge stage's assets materialized with the code location's resources: judged_examples against a
local OpenAI-compatible server (llm_fake_server.py) answering scripted verdicts, malformed JSON and a
timeout; the second materialization answered by the cache; no endpoint: skipped with a reason; and
offline_judge scoring the rows without usage signals."""

import json
import re

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from curation_dagster.defs.judge.assets import judged_examples, judged_low_ids, offline_judge
from curation_dagster.defs.resources import DatasetStore, build_resources
from curation_dagster.lib.judge import PROMPT_VERSION
from curation_dagster_tests.lib.llm_fake_server import FakeOpenAIServer

VARS = ("CURATION_LLM_BASE_URL", "CURATION_LLM_MODEL", "CURATION_LLM_API_KEY")
CRITERION_LINE = re.compile(r"^- (\w+): ", re.MULTILINE)


def verdict_json(case: str, criteria: list[str], sample: int) -> str | float:
    """A judge's answer for a scripted `case`; sample 0 and 1 are the two samples, 2 and 3 their retries."""
    scores = {c: 5 for c in criteria}
    if case == "pass":
        scores["structure_and_tone"] = 4
    elif case == "low":
        scores["faithful_to_input"] = 1
    elif case == "disagree":
        scores["structure_and_tone"] = 2 if sample % 2 == 0 else 5
    elif case == "middle":
        scores = {c: 3 for c in criteria}
    elif case == "malformed_once" and sample == 0:
        return 'Sure! {"scores": {"follows_instruction": 5}'
    elif case == "malformed":
        return "I would rate this reply highly."
    elif case == "out_of_range":
        scores = {c: 7 for c in criteria}
    elif case == "timeout":
        return 30.0
    return json.dumps({"scores": scores, "reasons": {c: f"{case}: {c.replace('_', ' ')}" for c in criteria}})


def scripted_judge(case_of):
    """A `respond` for FakeOpenAIServer: judge requests get verdict_json(case_of(prompt), criteria, sample)."""
    def respond(body):
        text = body["messages"][-1]["content"]
        if not text.startswith("Criteria:"):
            return None
        return verdict_json(case_of(text), CRITERION_LINE.findall(text), int(body["seed"]) - 42)
    return respond


def case_in_instruction(text: str) -> str:
    return re.search(r"case:(\w+)", text).group(1)


CASES = ["pass", "low", "disagree", "middle", "malformed_once", "malformed", "out_of_range", "qa"]


def examples(cases: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "generation_id": [f"g{i:02d}" for i in range(len(cases))],
        "template_id": ["doc_qa" if c == "qa" else "general" for c in cases],
        "instruction": [f"Reply to Sam about the invoice (case:{'pass' if c == 'qa' else c})" for c in cases],
        "identity": ['{"name": "Ana", "role": "Accountant", "tone": "friendly"}'] * len(cases),
        "input_message": ["Hi Ana, is invoice 42 paid?"] * len(cases),
        "output": [f"Hi Sam, invoice 42 was paid on Monday. Best, Ana ({c})" for c in cases],
        "quality_score": [0.9] * len(cases),
    })


@pytest.fixture
def no_llm_env(monkeypatch):
    for var in VARS:
        monkeypatch.delenv(var, raising=False)


def judge(tmp_path, sampled: pd.DataFrame, qa: pd.DataFrame | None = None, **config):
    @dg.asset(name="sampled_examples")
    def sampled_stand_in() -> pd.DataFrame:
        return sampled

    @dg.asset(name="deduplicated_generations")
    def pool_stand_in() -> pd.DataFrame:
        return sampled

    @dg.asset(name="doc_qa_pairs")
    def qa_stand_in() -> pd.DataFrame:
        return qa if qa is not None else examples([]).astype(str)  # no pairs (no endpoint, or no documents)

    run_config = {"ops": {"judged_examples": {"config": config}}} if config else None
    return dg.materialize([sampled_stand_in, pool_stand_in, qa_stand_in, judged_examples],
                          resources=build_resources("local", data_dir=tmp_path), run_config=run_config,
                          instance=dg.DagsterInstance.ephemeral())


def meta_of(result, node="judged_examples") -> dict:
    (mat,) = result.asset_materializations_for_node(node)
    return {k: v.value for k, v in mat.metadata.items()}


def test_verdicts_judge_errors_and_a_second_run_that_costs_no_call(monkeypatch, tmp_path):
    sampled = examples(CASES)
    with FakeOpenAIServer(respond=scripted_judge(case_in_instruction)) as server:
        monkeypatch.setenv("CURATION_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("CURATION_LLM_MODEL", "judge-model")
        monkeypatch.delenv("CURATION_LLM_API_KEY", raising=False)
        first = judge(tmp_path, sampled)
        asked = server.count()
        second = judge(tmp_path, sampled)
        assert server.count() == asked  # every answer came from the cache
        bodies = [r["body"] for r in server.requests]
    assert first.success and second.success
    # 8 rows x 2 samples, plus one fresh sample for each unparseable answer: malformed_once's first,
    # malformed's two, out_of_range's two
    assert asked == 16 + 5
    assert {b["seed"] for b in bodies} == {42, 43, 44, 45} and all(b["temperature"] == 0.7 for b in bodies)
    assert all(b["response_format"] == {"type": "json_object"} and b["model"] == "judge-model" for b in bodies)
    judged = first.output_for_node("judged_examples").set_index("generation_id")
    verdicts = dict(zip(CASES, judged["verdict"]))
    assert verdicts == {"pass": "pass", "low": "low", "disagree": "uncertain", "middle": "uncertain",
                        "malformed_once": "pass", "malformed": "judge_error", "out_of_range": "judge_error",
                        "qa": "pass"}
    why = dict(zip(CASES, judged["verdict_reason"]))
    assert why["low"] == "low faithful_to_input 1"
    assert why["disagree"] == "samples disagree on structure_and_tone (2/5)" and why["middle"] == "middle score 3"
    assert why["malformed"] == ("sample 1: unparseable answer (not JSON) in 2 tries; "
                                "sample 2: unparseable answer (not JSON) in 2 tries")
    assert why["out_of_range"].startswith("sample 1: unparseable answer (score of follows_instruction is 7, outside 1-5)")
    qa = judged.loc["g07"]
    assert qa["score_answerable_from_passage"] == 5 and qa["reason_answerable_from_passage"] == "pass: answerable from passage"
    assert np.isnan(judged.loc["g00", "score_answerable_from_passage"])
    assert judged.loc["g00", "score_structure_and_tone"] == 4 and judged.loc["g04", "judge_retries"] == 1
    assert set(judged["model"]) == {"judge-model"} and set(judged["prompt_version"]) == {PROMPT_VERSION}
    meta = meta_of(first)
    assert (meta["verdict_pass"], meta["verdict_uncertain"], meta["verdict_low"], meta["verdict_judge_error"]) == \
        (3, 2, 1, 2)
    assert meta["judged"] == 6 and meta["judge_error_share"] == 0.25 and meta["judge_retries"] == 5
    assert meta["llm_calls"] == 21 and meta["llm_cached"] == 0 and meta["judge_model"] == "judge-model"
    table = {r.data["criterion"]: r.data for r in meta["score_table"].records}
    # pass 5, low 1, disagree 5, middle 3, malformed_once 5, qa 5 on faithful_to_input: mean 24/6
    assert table["faithful_to_input"]["mean"] == 4.0 and table["faithful_to_input"]["share_low"] == round(1 / 6, 4)
    assert table["answerable_from_passage"]["rows"] == 1
    print("\n" + pd.DataFrame([r.data for r in meta["score_table"].records]).to_markdown(index=False))
    again = meta_of(second)
    assert again["llm_calls"] == 0 and again["llm_cached"] == 21
    assert second.output_for_node("judged_examples")["verdict"].tolist() == judged["verdict"].tolist()
    # the judge_error share is above the 5% bound: a WARN, the run still succeeds
    (check,) = first.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    # the sampler's side input: the rows judged low under this prompt version
    assert judged_low_ids(DatasetStore(export_dir=str(tmp_path / "exports"))) == {"g01"}


def test_a_timeout_is_a_judge_error_row_not_a_failed_run(monkeypatch, tmp_path):
    with FakeOpenAIServer(respond=scripted_judge(case_in_instruction)) as server:
        monkeypatch.setenv("CURATION_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("CURATION_LLM_MODEL", "judge-model")
        result = judge(tmp_path, examples(["pass", "timeout"]), timeout_s=0.5, max_retries=1)
        assert server.count() == 2 + 2 * 2  # the timed-out samples were each tried twice
    assert result.success
    judged = result.output_for_node("judged_examples")
    assert judged["verdict"].tolist() == ["pass", "judge_error"]
    assert judged["verdict_reason"].iloc[1] == ("sample 1: request failed (gave up after 2 attempts: ReadTimeout); "
                                                "sample 2: request failed (gave up after 2 attempts: ReadTimeout)")
    meta = meta_of(result)
    assert meta["verdict_judge_error"] == 1 and meta["llm_failures"] == 2


def test_question_answer_pairs_from_documents_are_judged_with_the_sample(monkeypatch, tmp_path):
    pairs = examples(["qa", "low"]).assign(generation_id=["qa-1", "qa-2"], template_id="doc_qa")
    with FakeOpenAIServer(respond=scripted_judge(case_in_instruction)) as server:
        monkeypatch.setenv("CURATION_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("CURATION_LLM_MODEL", "judge-model")
        result = judge(tmp_path, examples(["pass"]), qa=pairs)
    assert result.success
    judged = result.output_for_node("judged_examples").set_index("generation_id")
    # the sampled row and both pairs, the pairs scored on answerable_from_passage too
    assert judged["verdict"].to_dict() == {"g00": "pass", "qa-1": "pass", "qa-2": "low"}
    assert judged.loc["qa-1", "score_answerable_from_passage"] == 5
    assert np.isnan(judged.loc["g00", "score_answerable_from_passage"])
    assert judged_low_ids(DatasetStore(export_dir=str(tmp_path / "exports"))) == {"qa-2"}


def test_without_an_endpoint_the_judge_is_skipped_with_a_reason(no_llm_env, tmp_path):
    result = judge(tmp_path, examples(["pass", "low"]))
    assert result.success
    judged = result.output_for_node("judged_examples")
    assert judged.empty and "verdict" in judged.columns
    meta = meta_of(result)
    assert meta["judged"] == 0 and meta["llm_calls"] == 0 and meta["rows_in_scope"] == 2
    assert meta["skipped_reason"].startswith("the LLM judge (judged_examples) needs an OpenAI-compatible endpoint, "
                                             "but CURATION_LLM_BASE_URL and CURATION_LLM_MODEL are not set")
    assert "offline_judge asset scores rows without usage signals" in meta["skipped_reason"]
    (check,) = result.get_asset_check_evaluations()
    assert check.passed
    assert not (tmp_path / "llm_cache.duckdb").exists()


def test_the_offline_judge_scores_the_rows_without_usage_signals(tmp_path):
    rng = np.random.default_rng(0)
    centre = np.eye(8)[0]
    vectors = np.vstack([centre + 0.3 * rng.standard_normal((80, 8)), -centre + 0.3 * rng.standard_normal((80, 8)),
                         centre + 0.3 * rng.standard_normal((3, 8)), -centre + 0.3 * rng.standard_normal((3, 8))])
    n = len(vectors)
    signals = np.arange(n) < 160
    pool = pd.DataFrame({
        "generation_id": [f"g{i:03d}" for i in range(n)],
        "quality_score": [0.95] * 80 + [0.45] * 80 + [0.5] * 6,
        "sent": pd.array([True] * 80 + [False] * 80 + [None] * 6, dtype="boolean"),
        "copied": pd.array([None] * n, dtype="boolean"), "edit_ratio": [None] * n,
        "rating": pd.array([None] * n, dtype="Int64"),
        "embedding": [v.tolist() for v in vectors / np.linalg.norm(vectors, axis=1, keepdims=True)],
    })

    @dg.asset(name="deduplicated_generations")
    def pool_stand_in() -> pd.DataFrame:
        return pool.drop(columns="embedding")

    @dg.asset(name="generation_embeddings")  # the vectors live there, joined by id
    def vectors_stand_in() -> pd.DataFrame:
        return pool[["generation_id", "embedding"]]

    result = dg.materialize([pool_stand_in, vectors_stand_in, offline_judge],
                            resources=build_resources("local", data_dir=tmp_path),
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    scores = result.output_for_node("offline_judge")
    assert scores["generation_id"].tolist() == pool.loc[~signals, "generation_id"].tolist()
    assert (scores["offline_quality"].iloc[:3] > 0.5).all() and (scores["offline_quality"].iloc[3:] < 0.5).all()
    meta = meta_of(result, "offline_judge")
    assert meta["rows_with_signals"] == 160 and meta["rows_without_signals"] == 6 and meta["rows_scored"] == 6
    assert meta["labelled_good"] == 80 and meta["labelled_bad"] == 80 and meta["held_out_auc"] > 0.95
    # too few labelled rows: nothing fitted, an empty table and the reason
    few = pool.iloc[list(range(40)) + list(range(80, 120)) + list(range(160, 166))]

    @dg.asset(name="deduplicated_generations")
    def few_stand_in() -> pd.DataFrame:
        return few.drop(columns="embedding")

    # every pool row's vector is there, the few and the others: only the pool's are read
    result = dg.materialize([few_stand_in, vectors_stand_in, offline_judge],
                            resources=build_resources("local", data_dir=tmp_path),
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success and result.output_for_node("offline_judge").empty
    meta = meta_of(result, "offline_judge")
    assert meta["skipped_reason"].startswith("too few labelled rows: 40 good and 40 bad") and meta["rows_scored"] == 0


def test_an_export_whose_every_example_was_judged_low_fails_and_keeps_the_last_one(tmp_path):
    from curation_dagster.defs.export.assets import finetuning_dataset
    from curation_dagster.defs.export.config import ExportConfig

    store = DatasetStore(export_dir=str(tmp_path / "exports"))
    target = store.path()
    target.mkdir(parents=True)
    (target / "manifest.json").write_text('{"rows": {"total": 10}}\n')
    sampled = examples(["low", "low"]).assign(created_at=pd.Timestamp("2026-11-01"), cluster_id=0,
                                             cluster_name="Invoice", category="general")
    judged = pd.DataFrame({"generation_id": ["g00", "g01"], "verdict": ["low", "low"], "verdict_reason": "low x 1",
                           "model": "m", "prompt_version": PROMPT_VERSION})
    with pytest.raises(dg.Failure, match="the LLM judge scored all 2 remaining examples low"):
        list(finetuning_dataset(dg.build_asset_context(), config=ExportConfig(), dataset_store=store,
                                sampled_examples=sampled, review_decisions=pd.DataFrame(),
                                review_annotations=pd.DataFrame(), cluster_decisions=pd.DataFrame(),
                                deduplicated_generations=pd.DataFrame(), generation_embeddings=pd.DataFrame(),
                                judged_examples=judged,
                                doc_qa_pairs=pd.DataFrame(), example_variants=pd.DataFrame()))
    assert (target / "manifest.json").read_text() == '{"rows": {"total": 10}}\n'


def test_a_whole_table_whose_columns_changed_is_made_anew(tmp_path):
    """An upgrade that adds columns to a stored whole-table asset (sampled_examples' quality_source,
    review_queue's judge_verdict) rewrites the table instead of failing to insert into the old one."""
    frames = [pd.DataFrame({"generation_id": ["a"], "rank": [1]}),
              pd.DataFrame({"generation_id": ["a", "b"], "rank": [1, 2], "judge_verdict": ["uncertain", None]})]

    @dg.asset(name="review_queue")
    def queue(context) -> pd.DataFrame:
        return frames[int(context.run.tags.get("version", 0))]

    resources = build_resources("local", data_dir=tmp_path)
    for version in (0, 1, 1):
        assert dg.materialize([queue], resources=resources, tags={"version": str(version)}).success
    stored = resources["io_manager"].read_table("review_queue")
    assert stored["judge_verdict"].tolist() == ["uncertain", None] and len(stored) == 2
