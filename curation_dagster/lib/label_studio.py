"""Label Studio tasks and annotations as plain data: what the pipeline sends to reviewers and how
their answers read back. No HTTP here (the Dagster resource does that), so it is tested alone.

Two kinds of task, each in its own project per reviewer (the free edition cannot hand one task to
several annotators or hide one annotator's answer from another, so every reviewer gets a copy):
- an example (key `generation_id`): accept / reject with reasons / edit the assistant reply, the
  reply pre-filled as a prediction with the pipeline's cluster name and quality score beside it;
- a cluster (key `cluster_key` = "<topic model version>:<cluster id>"): include / exclude / rename.
"""

from __future__ import annotations

import json
import re

from curation_dagster.lib.review import REJECT_REASONS

EXAMPLE_KEY = "generation_id"
CLUSTER_KEY = "cluster_key"
KINDS = ("examples", "clusters", "adjudication")
MODEL_VERSION = "curation_dagster"
TITLE_MAX = 50  # Label Studio's PROJECT_TITLE_MAX_LEN


def project_title(prefix: str, kind: str, reviewer: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    title = f"{prefix} · {kind} · {reviewer}"
    if len(title) > TITLE_MAX:
        raise ValueError(f"project title {title!r} is longer than Label Studio's {TITLE_MAX} characters: "
                         "use a shorter project prefix (CURATION_REVIEW_PROJECT_PREFIX)")
    return title


def parse_project_title(prefix: str, title: str) -> tuple[str, str] | None:
    """(kind, reviewer) of a project this pipeline created, else None."""
    parts = title.split(" · ")
    if len(parts) != 3 or parts[0] != prefix or parts[1] not in KINDS:
        return None
    return parts[1], parts[2]


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def example_task(row: dict, priority: int) -> dict:
    """One example as a Label Studio task: the texts a reviewer judges, the pipeline's view of it,
    and a prediction that pre-fills the editable reply."""
    quality = float(row.get("quality_score") or 0.0)
    cluster = _text(row.get("cluster_name")) or "unclustered"
    pipeline = (f"Cluster: {cluster} · quality score {quality:.2f} · uncertainty "
                f"{float(row.get('uncertainty') or 0.0):.2f}" + (" · outlier" if row.get("is_outlier") else "")
                + (" · not sampled: just above the quality threshold" if row.get("candidate") == "near_threshold"
                   else "")
                + (f" · LLM judge: {row['judge_verdict']}" + (f" ({row['judge_reason']})" if row.get("judge_reason") else "")
                   if row.get("judge_verdict") else ""))
    data = {
        EXAMPLE_KEY: str(row["generation_id"]),
        "priority": int(priority),
        "uncertainty": float(row.get("uncertainty") or 0.0),
        "cluster_name": cluster,
        "quality_score": quality,
        "template_id": _text(row.get("template_id")),
        "created_day": _text(row.get("created_at"))[:10],
        "pipeline": pipeline,
        "instruction": _text(row.get("instruction")),
        "identity": _text(row.get("identity")),
        "input_message": _text(row.get("input_message")),
        "output": _text(row.get("output")),
    }
    prediction = {
        "model_version": MODEL_VERSION,
        "score": quality,
        "result": [{"from_name": "edited_output", "to_name": "output", "type": "textarea",
                    "value": {"text": [data["output"]]}},
                   {"from_name": "pipeline_view", "to_name": "output", "type": "textarea",
                    "value": {"text": [f"cluster: {cluster} | quality score: {quality:.2f}"]}}],
    }
    return {"data": data, "predictions": [prediction]}


def cluster_task(summary: dict, members: list[str], model_version: str) -> dict:
    """One cluster as a task: its name, keywords, size and a few members."""
    cid = int(summary["cluster_id"])
    size = int(summary.get("size") or 0)
    text = (f"Keywords: {_text(summary.get('keywords')) or '-'}\n"
            f"Size: {size:,} rows ({float(summary.get('share') or 0.0):.1%} of the pool), "
            f"{int(summary.get('outliers') or 0):,} outliers\n"
            f"Top templates: {_text(summary.get('top_templates')) or '-'}")
    return {"data": {
        CLUSTER_KEY: f"{model_version}:{cid}",
        "cluster_id": cid,
        "cluster_name": _text(summary.get("cluster_name")),
        "model_version": model_version,
        "summary": text,
        "members": "\n\n".join(f"• {m}" for m in members) or "(no members)",
    }}


def _values(result: list[dict], name: str, field: str) -> list[str]:
    out: list[str] = []
    for region in result or []:
        if region.get("from_name") == name:
            out += [str(v) for v in (region.get("value") or {}).get(field) or []]
    return out


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def read_example_result(result: list[dict], original_output: str) -> dict | None:
    """A reviewer's answer on an example -> verdict, reasons and edited reply (None when unchanged);
    None when the answer has no verdict. Reasons count only on a rejection; an edit only on an accept."""
    verdict = _values(result, "verdict", "choices")
    if not verdict:
        return None
    v = verdict[0].strip().lower()
    if v not in ("accept", "reject"):
        raise ValueError(f"unknown verdict {verdict[0]!r}")
    reasons = [r for r in _values(result, "reasons", "choices") if r in REJECT_REASONS] if v == "reject" else []
    text = "\n".join(_values(result, "edited_output", "text")).strip()
    edited = text if v == "accept" and text and not _same_text(text, original_output or "") else None
    return {"verdict": v, "reasons": ",".join(reasons), "edited_output": edited}


def read_cluster_result(result: list[dict], current_name: str) -> dict | None:
    """A reviewer's answer on a cluster -> include (accept) / exclude (reject) and a new name (an
    edit) when they wrote one different from the current name."""
    decision = _values(result, "decision", "choices")
    if not decision:
        return None
    d = decision[0].strip().lower()
    if d not in ("include", "exclude"):
        raise ValueError(f"unknown cluster decision {decision[0]!r}")
    name = " ".join(_values(result, "new_name", "text")).strip()
    renamed = name if d == "include" and name and not _same_text(name, current_name or "") else None
    return {"verdict": "accept" if d == "include" else "reject", "reasons": "", "edited_output": renamed}


def annotation_rows(tasks: list[dict], kind: str, reviewer_by_user: dict[int, str], project_id: int,
                    project_reviewer: str) -> list[dict]:
    """Every submitted annotation of a project's tasks as rows of the review_annotations contract
    (plus item key, raw result and where it came from). Skipped (cancelled) annotations are left out:
    they are no answer. The reviewer is the Label Studio account that submitted, whatever project."""
    rows = []
    key = CLUSTER_KEY if kind == "clusters" else EXAMPLE_KEY
    for task in tasks:
        data = task.get("data") or {}
        for ann in task.get("annotations") or []:
            if ann.get("was_cancelled"):
                continue
            result = ann.get("result") or []
            if kind == "clusters":
                parsed = read_cluster_result(result, data.get("cluster_name", ""))
            else:
                parsed = read_example_result(result, data.get("output", ""))
            if parsed is None:
                continue
            user = ann.get("completed_by")
            user_id = user.get("id") if isinstance(user, dict) else user
            rows.append({
                "item_key": str(data.get(key)),
                "reviewer": reviewer_by_user.get(user_id, f"user-{user_id}"),
                **parsed,
                "adjudicator": kind == "adjudication",
                "source": f"label-studio/project/{project_id}",
                "reviewed_at": str(ann.get("updated_at") or ann.get("created_at") or ""),
                "project_reviewer": project_reviewer,
                "created_day": str(data.get("created_day") or "") or None,
                "annotation_id": int(ann["id"]),
                "raw_result": json.dumps(result, ensure_ascii=False, sort_keys=True),
            })
    return rows
