"""Label Studio tasks and answers as plain data (no server: the review integration test has one)."""

import json
import xml.etree.ElementTree as ET

import pytest

from curation_dagster.defs.review.resources import labeling_config
from curation_dagster.lib.label_studio import (annotation_rows, cluster_task, example_task, parse_project_title,
                                               project_title, read_cluster_result, read_example_result)
from curation_dagster.lib.review import REJECT_REASONS

ROW = {"generation_id": "g1", "created_at": "2026-11-02 10:11:12", "quality_score": 0.61, "uncertainty": 0.7, "cluster_name": "refund emails",
       "is_outlier": True, "instruction": "Write a refund email", "identity": {"name": "Ann"},
       "input_message": "Where is my money?", "output": "Dear customer, ...", "template_id": "refund"}


def choice(name, *values):
    return {"from_name": name, "to_name": "output", "type": "choices", "value": {"choices": list(values)}}


def text(name, value):
    return {"from_name": name, "to_name": "output", "type": "textarea", "value": {"text": [value]}}


def test_labeling_configs_name_every_field_the_tasks_carry():
    cfg = ET.fromstring(labeling_config("examples"))
    variables = {el.get("value")[1:] for el in cfg.iter("Text")}
    task = example_task(ROW, priority=1)
    assert variables <= set(task["data"])  # Label Studio refuses tasks missing a config variable
    controls = {el.get("name"): el for el in cfg.iter() if el.tag in ("Choices", "TextArea")}
    assert {c.get("value") for c in controls["reasons"]} == set(REJECT_REASONS)
    assert {c.get("value") for c in controls["verdict"]} == {"accept", "reject"}
    # the prediction pre-fills the editable reply and carries the pipeline's cluster and quality score
    pred = task["predictions"][0]
    assert pred["score"] == 0.61 and {r["from_name"] for r in pred["result"]} <= set(controls)
    assert text("edited_output", ROW["output"]) in pred["result"]
    assert any("refund emails" in r["value"]["text"][0] and "0.61" in r["value"]["text"][0] for r in pred["result"])
    assert json.loads(task["data"]["identity"]) == {"name": "Ann"} and "outlier" in task["data"]["pipeline"]
    assert task["data"]["created_day"] == "2026-11-02"  # answers carry the example's daily partition back

    ccfg = ET.fromstring(labeling_config("clusters"))
    ctask = cluster_task({"cluster_id": 3, "cluster_name": "refunds", "keywords": "refund, money", "size": 40,
                          "share": 0.1, "outliers": 2, "top_templates": "refund (40)"}, ["a → b"], "v7")
    assert {el.get("value")[1:] for el in ccfg.iter("Text")} <= set(ctask["data"])
    assert ctask["data"]["cluster_key"] == "v7:3" and "refund, money" in ctask["data"]["summary"]


def test_example_answers_read_back():
    original = "Dear customer, ..."
    assert read_example_result([choice("verdict", "accept"), text("edited_output", original + "  ")], original) == {
        "verdict": "accept", "reasons": "", "edited_output": None}  # unchanged pre-filled reply: no edit
    assert read_example_result([choice("verdict", "accept"), text("edited_output", "Better.")], original)[
        "edited_output"] == "Better."
    rej = read_example_result([choice("verdict", "reject"), choice("reasons", "pii", "hallucination"),
                               text("edited_output", "ignored")], original)
    assert rej == {"verdict": "reject", "reasons": "pii,hallucination", "edited_output": None}
    assert read_example_result([text("edited_output", "x")], original) is None  # no verdict: no answer
    with pytest.raises(ValueError):
        read_example_result([choice("verdict", "maybe")], original)


def test_cluster_answers_read_back():
    assert read_cluster_result([choice("decision", "exclude")], "refunds") == {
        "verdict": "reject", "reasons": "", "edited_output": None}
    assert read_cluster_result([choice("decision", "include"), text("new_name", "Refund requests")], "refunds")[
        "edited_output"] == "Refund requests"
    assert read_cluster_result([choice("decision", "include"), text("new_name", "refunds")], "refunds")[
        "edited_output"] is None


def test_annotation_rows_name_the_submitting_account_and_skip_cancelled():
    tasks = [{"data": {"generation_id": "g1", "output": "o", "created_day": "2026-11-02"}, "annotations": [
        {"id": 5, "completed_by": 1, "result": [choice("verdict", "accept")], "updated_at": "2026-11-25T10:00:00Z"},
        {"id": 6, "completed_by": 2, "result": [], "was_cancelled": True},
        {"id": 7, "completed_by": 2, "result": [choice("verdict", "reject"), choice("reasons", "pii")]}]}]
    rows = annotation_rows(tasks, "examples", {1: "ann@x.org", 2: "bo@x.org"}, 9, "ann@x.org")
    assert [(r["item_key"], r["reviewer"], r["verdict"]) for r in rows] == [("g1", "ann@x.org", "accept"),
                                                                             ("g1", "bo@x.org", "reject")]
    assert rows[0]["source"] == "label-studio/project/9" and json.loads(rows[1]["raw_result"])[1]["value"] == {
        "choices": ["pii"]}
    assert not rows[0]["adjudicator"] and rows[1]["created_day"] == "2026-11-02"
    assert annotation_rows(tasks, "adjudication", {1: "ann@x.org"}, 9, "ann@x.org")[0]["adjudicator"]


def test_project_titles_round_trip():
    title = project_title("Curation", "examples", "ann@x.org")
    assert parse_project_title("Curation", title) == ("examples", "ann@x.org")
    assert parse_project_title("Other", title) is None and parse_project_title("Curation", "My project") is None
    with pytest.raises(ValueError):
        project_title("Curation", "images", "ann@x.org")


def test_refilter_sensor_requests_one_run_per_day_with_rejections():
    from curation_dagster.defs.review.sensors import refilter_requests

    md = {"rejected_days": "2026-11-02,2026-11-03,2031-01-01", "rejected_fingerprint": "abc"}
    reqs = refilter_requests(md, {"2026-11-01", "2026-11-02", "2026-11-03"})
    assert [r.partition_key for r in reqs] == ["2026-11-02", "2026-11-03"]  # unknown days ignored
    assert [r.run_key for r in reqs] == ["human-review-2026-11-02-abc", "human-review-2026-11-03-abc"]
    assert refilter_requests({"rejected_days": ""}, {"2026-11-01"}) == []
