"""The human review loop against a real Label Studio: queue -> reviewers' answers as two accounts ->
sensor -> decisions -> the dataset and rejected_generations act on them."""

import json
from pathlib import Path

import dagster as dg
import pytest
from label_studio_sdk import LabelStudio

from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import build_resources
from curation_dagster.defs.review.sensors import refilter_requests
from curation_dagster_tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from curation_dagster_tests.graph import copy_graph
from curation_dagster_tests.integration.test_end_to_end import table

pytestmark = pytest.mark.slow

BOB, CAROL = "bob@example.com", "carol@example.com"
EDIT = "Thank you for writing. Your refund was approved today and will reach your account within five days."
NEW_NAME = "Renamed by review"


def choice(name, *values, to="output"):
    return {"from_name": name, "to_name": to, "type": "choices", "value": {"choices": list(values)}}


def text(name, value, to="output"):
    return {"from_name": name, "to_name": to, "type": "textarea", "value": {"text": [value]}}


def materialize(defs, instance, keys, run_config=None):
    res = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[dg.AssetKey(k) for k in keys], instance=instance, run_config=run_config)
    assert res.success
    return res


def screenshot_task(server, project_id: int, task_id: int, expect: str) -> Path:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "label_studio_queued_task.png"
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.set_default_timeout(90_000)

            def guard(route):  # the page may only reach the local server
                if route.request.url.startswith(server.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(f"{server.url}/user/login/")
            page.fill("input[name=email]", server.admin_email)
            page.fill("input[name=password]", "review-pass-1")
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/user/login" not in u)
            page.goto(f"{server.url}/projects/{project_id}/data?task={task_id}")
            page.get_by_text(expect[:40]).first.wait_for()
            page.get_by_text("Reasons to reject").first.wait_for()
            page.wait_for_timeout(2000)  # let the editor finish laying out
            page.screenshot(path=str(path), full_page=True)
            body = page.inner_text("body")
        finally:
            browser.close()
    print(f"\n[label-studio] screenshot {path}; blocked outside requests: {len(outside)}")
    # the labeling view shows the task's texts, the verdict choices, the reasons and the pre-filled reply
    for needle in ("User instruction", "Input message", "accept", "reject", "hallucination", "Submit"):
        assert needle in body, needle
    return path


def test_review_loop_through_label_studio(label_studio, tmp_path, small_pipeline, model, monkeypatch):
    copy_graph(small_pipeline[0], tmp_path)  # the whole default graph on sample_small, published
    bob_token, _ = label_studio.sign_up(BOB), label_studio.sign_up(CAROL)
    admin = label_studio.admin_email
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.admin_token)
    monkeypatch.setenv("CURATION_REVIEWERS", f"{admin},{BOB}")
    monkeypatch.setenv("CURATION_ADJUDICATOR", CAROL)
    resources = build_resources("local", data_dir=tmp_path)
    # the resource as runs see it: URL and key resolved from the EnvVars at run time
    ls = resources["label_studio"].process_config_and_initialize()
    assert ls.configured and ls.reviewer_list == [admin, BOB] and ls.api_key == label_studio.admin_token
    defs = build_definitions(resources=resources)
    instance = dg.DagsterInstance.ephemeral()
    queue_config = {"ops": {"review_queue": {"config": {"max_items": 12}}}}

    # 1. the queue lands in one project per reviewer and kind; a second run adds nothing
    materialize(defs, instance, ["review_queue", "cluster_review_queue"], queue_config)
    projects = {(kind, who): pid for pid, kind, who in ls.owned_projects()}
    assert set(projects) == {(k, r) for k in ("examples", "clusters") for r in (admin, BOB)}
    queue, summaries = table(tmp_path, "review_queue"), table(tmp_path, "cluster_summaries")
    n_clusters = int((summaries["cluster_id"] != -1).sum())
    counts = {key: len(ls.tasks(pid)) for key, pid in projects.items()}
    assert counts == {**{("examples", r): 12 for r in (admin, BOB)}, **{("clusters", r): n_clusters for r in (admin, BOB)}}
    first = ls.tasks(projects[("examples", admin)])
    assert [t["data"]["generation_id"] for t in sorted(first, key=lambda t: t["data"]["priority"])] == \
        queue["generation_id"].tolist()
    assert first[0]["data"]["instruction"] and first[0]["data"]["output"]
    materialize(defs, instance, ["review_queue", "cluster_review_queue"], queue_config)
    assert {key: len(ls.tasks(pid)) for key, pid in projects.items()} == counts  # no duplicate task

    # 2. two reviewers answer in their own projects: an agreement, a split, a rejection, an edit,
    #    a cluster exclusion and a rename
    sampled = table(tmp_path, "sampled_examples").set_index("generation_id")
    excluded = int(summaries[summaries["cluster_id"] != -1].sort_values(["size", "cluster_id"])["cluster_id"].iloc[0])
    a, b, c, d = [g for g in queue["generation_id"] if int(sampled.loc[g, "cluster_id"]) != excluded][:4]
    renamed = int(sampled.loc[d, "cluster_id"])
    out = tmp_path / "exports" / "finetuning_dataset"
    first_export = [json.loads(line) for line in (out / "provenance.jsonl").read_text().splitlines()]
    shipped_in_excluded = sum(p["cluster_id"] == excluded for p in first_export)
    assert shipped_in_excluded > 0 and {a, b, c, d} <= {p["generation_id"] for p in first_export}
    version = str(table(tmp_path, "generation_clusters")["model_version"].iloc[0])
    clients = {admin: LabelStudio(base_url=label_studio.url, api_key=label_studio.admin_token),
               BOB: LabelStudio(base_url=label_studio.url, api_key=bob_token)}
    answers = {
        admin: {a: [choice("verdict", "accept")], b: [choice("verdict", "accept")],
                c: [choice("verdict", "reject"), choice("reasons", "hallucination")],
                d: [choice("verdict", "accept"), text("edited_output", EDIT)]},
        BOB: {a: [choice("verdict", "accept")], b: [choice("verdict", "reject"), choice("reasons", "wrong_tone")],
              c: [choice("verdict", "reject"), choice("reasons", "hallucination", "contradicts_input")],
              d: [choice("verdict", "accept"), text("edited_output", sampled.loc[d, "output"])]},  # left as is
    }
    for who, items in answers.items():
        by_id = {t["data"]["generation_id"]: t["id"] for t in ls.tasks(projects[("examples", who)])}
        for gid, result in items.items():
            clients[who].annotations.create(id=by_id[gid], result=result)
    cluster_tasks = {who: {t["data"]["cluster_key"]: t["id"] for t in ls.tasks(projects[("clusters", who)])}
                     for who in (admin, BOB)}
    clients[admin].annotations.create(id=cluster_tasks[admin][f"{version}:{excluded}"],
                                      result=[choice("decision", "exclude", to="summary")])
    clients[BOB].annotations.create(id=cluster_tasks[BOB][f"{version}:{renamed}"],
                                    result=[choice("decision", "include", to="summary"),
                                            text("new_name", NEW_NAME, to="summary")])
    users = {email: uid for uid, email in ls.users().items()}
    for (kind, who), pid in projects.items():  # nobody's project shows another reviewer's answer
        assert {ann["completed_by"] for t in ls.tasks(pid) for ann in t["annotations"]} == {users[who]}

    # 3. the sensor sees new annotations once, then skips until something changes
    label_studio_annotations = defs.resolve_sensor_def("label_studio_annotations")
    ctx = dg.build_sensor_context(instance=instance, resources={"label_studio": ls})
    request = label_studio_annotations(ctx)
    assert isinstance(request, dg.RunRequest) and ctx.cursor.startswith("10|")
    again = label_studio_annotations(dg.build_sensor_context(instance=instance, cursor=ctx.cursor,
                                                             resources={"label_studio": ls}))
    assert isinstance(again, dg.SkipReason)

    # 4. pull and decide (the job the sensor requests)
    sync = defs.resolve_job_def("review_sync_job").execute_in_process(instance=instance)
    assert sync.success
    ann = table(tmp_path, "review_annotations")
    assert len(ann) == 8 and set(ann["reviewer"]) == {admin, BOB}
    assert ann["source"].str.startswith("label-studio/project/").all() and ann["raw_result"].str.len().gt(10).all()
    decisions = table(tmp_path, "review_decisions").set_index("generation_id")
    assert decisions.loc[a, "state"] == "accepted" and decisions.loc[b, "state"] == "adjudication"
    assert decisions.loc[c, "state"] == "rejected" and decisions.loc[c, "reasons"] == "contradicts_input, hallucination"
    assert decisions.loc[d, "state"] == "edited" and decisions.loc[d, "edited_output"] == EDIT
    cdec = table(tmp_path, "cluster_decisions").set_index("cluster_id")
    assert cdec.loc[excluded, "state"] == "rejected" and cdec.loc[renamed, "new_name"] == NEW_NAME
    checks = {e.check_name: e for e in sync.get_asset_check_evaluations()}
    assert checks["decisions_have_min_reviews"].passed
    # A agreed, B split, C agreed, D agreed: observed 3/4; accepts 3+2 of 8 -> chance 0.75*0.5+0.25*0.5 = 0.5
    assert checks["reviewers_agree"].metadata["cohen_kappa"].value == pytest.approx(0.5)

    # 5. the human_review_refilter sensor asks for the rejected example's day; that run and the pool
    #    refresh make it leave with its reason
    day = str(sampled.loc[c, "created_at"])[:10]
    assert decisions.loc[c, "created_day"] == day
    meta = next(m for m in sync.asset_materializations_for_node("decide_reviews")
                if m.asset_key == dg.AssetKey("review_decisions")).metadata
    requests = refilter_requests({k: v.value for k, v in meta.items()}, {day, "2026-11-02", "2026-11-03"})
    assert [r.partition_key for r in requests] == [day] and requests[0].run_key.startswith(f"human-review-{day}-")
    assert defs.resolve_job_def("daily_curation_job").execute_in_process(
        partition_key=requests[0].partition_key, instance=instance, tags=requests[0].tags).success
    assert defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance).success
    rejected = table(tmp_path, "rejected_generations").set_index("generation_id")
    assert rejected.loc[c, "rule"] == "human_review" and "hallucination" in rejected.loc[c, "reason"]
    prov = {p["generation_id"]: p for p in map(json.loads, (out / "provenance.jsonl").read_text().splitlines())}
    assert c not in prov
    line = (out / f"{prov[d]['split']}.jsonl").read_text().splitlines()[prov[d]["line"] - 1]
    assert json.loads(line)["messages"][-1] == {"role": "assistant", "content": EDIT}
    assert prov[d]["original_output"] == sampled.loc[d, "output"] and prov[d]["review_state"] == "edited"
    assert not any(p["cluster_id"] == excluded for p in prov.values())
    assert {p["cluster_name"] for p in prov.values() if p["cluster_id"] == renamed} == {NEW_NAME}
    assert prov[b]["review_state"] == "adjudication" and prov[a]["review_state"] == "accepted"
    review = json.loads((out / "manifest.json").read_text())["review"]
    assert review["decisions"] == {"accepted": 1, "rejected": 1, "edited": 1, "adjudication": 1, "pending": 0}
    shipped_states = [p.get("review_state") for p in prov.values()]
    assert review["shipped"] == {s: shipped_states.count(s) for s in ("accepted", "edited", "adjudication", "pending")}
    assert review["rejected_removed_at_export"] == 0  # it left at the filter
    assert review["reviewed_share"] == round(3 / len(prov), 4) and review["cohen_kappa"] == pytest.approx(0.5)
    assert review["clusters_excluded"] == 1 and review["clusters_renamed"] == 1
    # what left since the first export: c (out of the pool by its human_review rejection) and the
    # excluded cluster's examples (review); the smaller pool displaces no other shipped example
    change = json.loads((out / "manifest.json").read_text())["changes_since_previous"]
    assert (change["dropped_left_pool"], change["dropped_in_review"], change["dropped_by_selection"]) == \
        (1, shipped_in_excluded, 0)

    # 6. next round: the split goes first, to the adjudicator; decided items are not queued again
    materialize(defs, instance, ["review_queue"], queue_config)
    queue2 = table(tmp_path, "review_queue")
    assert queue2.iloc[0]["generation_id"] == b and queue2.iloc[0]["review_state"] == "adjudication"
    assert not {a, c, d} & set(queue2["generation_id"])
    adjudication = {(k, w): p for p, k, w in ls.owned_projects()}[("adjudication", CAROL)]
    assert [t["data"]["generation_id"] for t in ls.tasks(adjudication)] == [b]
    for who in (admin, BOB):
        tasks = ls.tasks(projects[("examples", who)])
        assert len({t["data"]["generation_id"] for t in tasks}) == len(tasks)  # still no duplicate

    # 7. what a reviewer sees: a queued task in Label Studio, in headless Chromium
    open_task = next(t for t in ls.tasks(projects[("examples", admin)]) if not t["annotations"])
    shot = screenshot_task(label_studio, projects[("examples", admin)], open_task["id"], open_task["data"]["instruction"])
    assert shot.stat().st_size > 20_000
