"""Label Studio, the annotation tool the reviewers use, through its API (label-studio-sdk)."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from curation_dagster.lib.label_studio import KINDS, parse_project_title, project_title

LABELING_DIR = Path(__file__).parent / "labeling"
PAGE_SIZE = 100


def labeling_config(kind: str) -> str:
    """The labeling config kept in the repo for a project kind (examples and adjudication share one)."""
    name = "cluster_review.xml" if kind == "clusters" else "example_review.xml"
    return (LABELING_DIR / name).read_text(encoding="utf-8")


def _split(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


class LabelStudioResource(dg.ConfigurableResource):
    """A Label Studio server and who reviews in it. Unset `url` means no Label Studio: the queue is
    still materialized (and `curation review export` writes it for a spreadsheet review).

    One project per reviewer and kind ("<prefix> · examples · <reviewer>"), created on first use from
    the labeling configs in defs/review/labeling; reviewers are Label Studio account emails."""

    url: str | None = Field(None, description="Base URL, e.g. http://127.0.0.1:8080 (LABEL_STUDIO_URL).")
    api_key: str | None = Field(None, description="An account's API token (LABEL_STUDIO_API_KEY).")
    reviewers: str = Field("", description="Comma-separated reviewer emails; each gets their own projects.")
    adjudicator: str = Field("", description="Who settles split items in an adjudication project (optional).")
    project_prefix: str = Field("Curation", description="Title prefix of the projects this pipeline owns.")
    timeout_seconds: float = Field(60.0, description="HTTP timeout per request.")

    @property
    def configured(self) -> bool:
        return bool(self.url and self.api_key)

    @property
    def reviewer_list(self) -> list[str]:
        return _split(self.reviewers)

    def client(self):
        from label_studio_sdk import LabelStudio

        if not self.configured:
            raise dg.Failure("Label Studio is not configured: set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY")
        return LabelStudio(base_url=self.url.rstrip("/"), api_key=self.api_key, timeout=self.timeout_seconds)

    def health(self) -> bool:
        import requests

        try:
            return requests.get(f"{self.url.rstrip('/')}/health", timeout=5).ok
        except requests.RequestException:
            return False

    def owned_projects(self, client=None) -> list[tuple[int, str, str]]:
        """(project id, kind, reviewer) of every project with this pipeline's prefix."""
        client = client or self.client()
        out = []
        for p in client.projects.list(page_size=PAGE_SIZE):
            parsed = parse_project_title(self.project_prefix, p.title or "")
            if parsed:
                out.append((int(p.id), *parsed))
        return sorted(out)

    def ensure_project(self, kind: str, reviewer: str, client=None) -> int:
        """The reviewer's project of this kind, created with the repo's labeling config if missing."""
        if kind not in KINDS:
            raise ValueError(kind)
        client = client or self.client()
        title = project_title(self.project_prefix, kind, reviewer)
        for pid, k, r in self.owned_projects(client):
            if (k, r) == (kind, reviewer):
                return pid
        project = client.projects.create(
            title=title, label_config=labeling_config(kind),
            description=f"Curation review for {reviewer} ({kind}); created by the curation_dagster pipeline.",
            show_collab_predictions=True,
        )
        return int(project.id)

    def tasks(self, project_id: int, client=None) -> list[dict]:
        """Every task of a project with its annotations, as plain dicts."""
        client = client or self.client()
        return [{"id": int(t.id), "data": dict(t.data or {}), "annotations": list(t.annotations or [])}
                for t in client.tasks.list(project=project_id, fields="all", page_size=PAGE_SIZE)]

    def add_tasks(self, project_id: int, tasks: list[dict], client=None) -> int:
        if not tasks:
            return 0
        client = client or self.client()
        res = client.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
        return int(res.task_count or 0)

    def users(self, client=None) -> dict[int, str]:
        client = client or self.client()
        return {int(u.id): u.email for u in client.users.list()}

    def annotation_watermark(self, client=None) -> str:
        """A cheap fingerprint of every submitted annotation in the pipeline's projects (count and
        latest update): the review sensor's cursor."""
        client = client or self.client()
        count, latest = 0, ""
        for pid, _, _ in self.owned_projects(client):
            for task in self.tasks(pid, client):
                for ann in task["annotations"]:
                    count += 1
                    latest = max(latest, str(ann.get("updated_at") or ""))
        return f"{count}|{latest}"
