"""The `finetuning_dataset_valid` check: the published files re-validated from disk."""

import json

import dagster as dg

from curation_dagster.defs.export.assets import finetuning_dataset
from curation_dagster.defs.export.config import ExportConfig
from curation_dagster.defs.export.validation import CHECK_NAME, DESCRIPTION, validate_dataset
from curation_dagster.defs.resources import DatasetStore


@dg.asset_check(asset=finetuning_dataset, name=CHECK_NAME, description=DESCRIPTION)
def finetuning_dataset_valid(context: dg.AssetCheckExecutionContext,
                             dataset_store: DatasetStore) -> dg.AssetCheckResult:
    target = dataset_store.path()
    try:
        manifest = json.loads((target / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={
            "error": f"no readable manifest.json in {target}: "
                     f"{'nothing published yet' if isinstance(exc, FileNotFoundError) else exc}"})
    files = {name: (target / name).read_bytes() for name in manifest["files"] if (target / name).exists()}
    max_tokens = int(manifest.get("config", {}).get("max_tokens_per_example", ExportConfig().max_tokens_per_example))
    tokenizer = str(manifest.get("config", {}).get("tokenizer", ExportConfig().tokenizer))
    # in the run that published them, the gate's line checks of the same bytes are read back (validated_lines)
    return validate_dataset(files, manifest, max_tokens, tokenizer, target, context.run.run_id)
