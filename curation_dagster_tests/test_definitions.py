import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from curation_dagster.definitions import build_definitions

# the code location's loader builds these same definitions; built once here from the default deployment
defs = build_definitions()

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"generations_source", "raw_generations", "filtered_generations", "rejected_generations",
        "generation_embeddings", "deduplicated_generations", "duplicate_generations", "topic_model", "generation_clusters", "cluster_summaries", "sampled_examples",
        "finetuning_dataset", "review_queue", "cluster_review_queue", "review_imports", "review_annotations",
        "cluster_annotations", "review_decisions", "cluster_decisions", "dataset_report", "clustering_experiments",
        "judged_examples", "offline_judge", "document_chunks", "doc_qa_pairs", "example_variants"}


def test_asset_graph_has_the_documented_keys_and_lineage():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert KEYS <= keys
    parents = lambda k: {p.to_user_string() for p in graph.get(dg.AssetKey(k)).parent_keys}  # noqa: E731
    assert parents("raw_generations") == {"generations_source"}
    assert parents("filtered_generations") == {"raw_generations", "review_decisions"}  # human_review rejections
    assert parents("generation_embeddings") == {"filtered_generations"}
    assert parents("deduplicated_generations") == {"filtered_generations", "generation_embeddings"}
    # rejected_generations: only its rule column, to name the cause of an empty pool; the pool table holds no
    # vectors: every stage that needs them reads generation_embeddings
    assert parents("topic_model") == {"deduplicated_generations", "generation_embeddings", "rejected_generations"}
    assert parents("generation_clusters") == {"deduplicated_generations", "generation_embeddings", "topic_model",
                                              "rejected_generations"}
    # the offline judge's scores stand in for the quality of rows without usage signals; the LLM judge's
    # low verdicts reach the sampler through its verdict store, not an edge (the judge runs after it)
    assert parents("sampled_examples") == {"filtered_generations", "generation_clusters", "cluster_decisions",
                                           "offline_judge"}
    assert parents("offline_judge") == {"deduplicated_generations", "generation_embeddings"}
    # scope: sampled or pool; the documents' question-answer pairs are judged with them
    assert parents("judged_examples") == {"sampled_examples", "deduplicated_generations", "doc_qa_pairs"}
    # the pool: the export compares its diversity with random samples of it, and explains churn
    assert parents("finetuning_dataset") == {"sampled_examples", "review_decisions", "review_annotations",
                                             "cluster_decisions", "deduplicated_generations", "generation_embeddings",
                                             "judged_examples",
                                             "doc_qa_pairs",  # QA pairs from documents, up to doc_qa_share
                                             "example_variants"}  # variants and negatives, at their shares
    assert parents("example_variants") == {"sampled_examples", "doc_qa_pairs"}
    assert parents("doc_qa_pairs") == {"document_chunks"} and parents("document_chunks") == set()
    assert parents("review_queue") == {"sampled_examples", "review_decisions", "deduplicated_generations",
                                       "generation_clusters", "judged_examples"}  # near-threshold candidates come from the pool
    assert parents("review_decisions") == {"review_annotations", "cluster_annotations"}
    assert parents("review_annotations") == {"review_imports"}
    assert parents("clustering_experiments") == {"deduplicated_generations", "generation_embeddings"}
    assert "clustering_experiments" in parents("dataset_report")  # the grid shows in the report once it exists
    for spec in defs.resolve_all_asset_specs():
        if spec.key.to_user_string() in KEYS:
            assert spec.description and spec.owners and spec.kinds and spec.group_name, spec.key


def test_each_stage_is_its_own_group_and_multi_asset_steps_say_what_they_publish():
    groups = {}
    for spec in defs.resolve_all_asset_specs():
        groups.setdefault(spec.group_name, set()).add(spec.key.to_user_string())
    assert groups == {
        "ingest": {"generations_source", "raw_generations"},
        "filtering": {"filtered_generations", "rejected_generations"},
        "embedding": {"generation_embeddings"},
        "dedup": {"deduplicated_generations", "duplicate_generations"},
        "clustering": {"topic_model", "generation_clusters", "cluster_summaries"},
        "sampling": {"sampled_examples"},
        "judge": {"judged_examples", "offline_judge"},
        "export": {"finetuning_dataset"},
        "report": {"dataset_report"},
        "review": {"review_queue", "cluster_review_queue", "review_imports", "review_annotations",
                   "cluster_annotations", "review_decisions", "cluster_decisions"},
        "experiments": {"clustering_experiments"},
        "documents": {"document_chunks", "doc_qa_pairs"},
        "variants": {"example_variants"},
    }
    # the README's table: a step that publishes two assets is named in run config by its op name
    steps = {"filter_generations": {"filtered_generations", "rejected_generations"},
             "deduplicate_generations": {"deduplicated_generations", "duplicate_generations"},
             "cluster_generations": {"generation_clusters", "cluster_summaries"},
             "pull_review_annotations": {"review_annotations", "cluster_annotations"},
             "decide_reviews": {"review_decisions", "cluster_decisions"}}
    for ad in defs.assets:
        if isinstance(ad, dg.AssetsDefinition) and len(ad.keys) > 1:
            name = ad.op.name
            assert {k.to_user_string() for k in ad.keys} == steps.pop(name), name
            doc = ad.op.description or ""
            assert f"Step `{name}`" in doc and all(k.to_user_string() in doc for k in ad.keys), name
    assert not steps, steps
    readme = (ROOT / "README.md").read_text()
    for name in ("filter_generations", "deduplicate_generations", "cluster_generations",
                 "pull_review_annotations", "decide_reviews"):
        assert f"`{name}`" in readme


def test_dagster_cli_validates_the_code_location(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    proc = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w",
                           str(ROOT / "workspace.yaml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed validation" in proc.stdout + proc.stderr
