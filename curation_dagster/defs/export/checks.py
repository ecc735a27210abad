
import json

import dagster as dg

from curation_dagster.defs.export.assets import finetuning_dataset
from curation_dagster.defs.resources import DatasetStore
from curation_dagster.lib.export import sha256_file, validate_chat_record


@dg.asset_check(
    asset=finetuning_dataset,
    description=(
        "ERROR: every line of train.jsonl and validation.jsonl parses as JSON and is a chat example "
        "with roles in order (system?, user, assistant) and non-empty content; manifest hashes match."
    ),
)
def finetuning_jsonl_is_valid_chat(dataset_store: DatasetStore) -> dg.AssetCheckResult:
    target = dataset_store.path()
    problems: list[str] = []
    lines = 0
    manifest = json.loads((target / "manifest.json").read_text())
    for name in ("train.jsonl", "validation.jsonl"):
        path = target / name
        if manifest["files"][name]["sha256"] != sha256_file(path):
            problems.append(f"{name}: sha256 differs from manifest")
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                lines += 1
                try:
                    why = validate_chat_record(json.loads(line))
                except ValueError as exc:
                    why = f"not JSON ({exc})"
                if why:
                    problems.append(f"{name}:{i}: {why}")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"lines_checked": lines, "problems": len(problems),
                  "first_problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:20]) or "none")},
    )
