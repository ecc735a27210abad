"""A team's own file with no usage signals goes from `curation import` to a non-empty export."""

import json

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from curation_dagster.cli import main
from curation_dagster.definitions import build_definitions
from curation_dagster.defs.resources import build_resources

pytestmark = pytest.mark.slow


def test_file_without_usage_signals_reaches_the_export(tmp_path, sample_small, model):
    gens, labels = sample_small
    clean = gens[labels.set_index("generation_id").loc[gens["generation_id"], "noise_kind"].eq("clean").to_numpy()]
    src = tmp_path / "our_generations.jsonl"
    with open(src, "w", encoding="utf-8") as f:  # their own column names, no copied/sent/edit_ratio/rating
        for r in clean.to_dict("records"):
            f.write(json.dumps({"uuid": r["generation_id"], "logged_at": r["created_at"].isoformat(),
                                "prompt": r["instruction"], "settings": json.loads(r["identity"]),
                                "reply_to": r["input_message"], "completion": r["output"],
                                "template": r["template_id"]}) + "\n")
    res = CliRunner().invoke(main, [
        "import", str(src), "--warehouse", str(tmp_path / "warehouse.duckdb"), "--map", "generation_id=uuid",
        "--map", "created_at=logged_at", "--map", "instruction=prompt", "--map", "identity=settings",
        "--map", "input_message=reply_to", "--map", "output=completion", "--map", "template_id=template"])
    assert res.exit_code == 0 and f"imported {len(clean):,}, already present 0, quarantined 0" in res.output, res.output

    defs = build_definitions(resources=build_resources("local", data_dir=tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    # their data never recorded a generator version: tell the filter so, as a team would in the launchpad
    no_version = {"ops": {"filter_generations": {"config": {"require_generator_version": False}}}}
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        assert defs.resolve_job_def("daily_curation_job").execute_in_process(
            partition_key=day, instance=instance, run_config=no_version).success
    kmeans = {"ops": {"topic_model": {"config": {"algorithm": "kmeans", "kmeans_k": 6}}}}
    assert defs.resolve_job_def("topic_model_job").execute_in_process(instance=instance, run_config=kmeans).success
    assert defs.resolve_job_def("pool_refresh_job").execute_in_process(instance=instance).success

    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        kept = con.execute("SELECT quality_score FROM curation.filtered_generations").df()
    assert len(kept) > 0.8 * len(clean) and kept["quality_score"].eq(0.5).all()  # neutral score, no signals
    manifest = json.loads((tmp_path / "exports" / "finetuning_dataset" / "manifest.json").read_text())
    assert manifest["rows"]["total"] > 0
    line = json.loads((tmp_path / "exports" / "finetuning_dataset" / "train.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in line["messages"]][-2:] == ["user", "assistant"]
