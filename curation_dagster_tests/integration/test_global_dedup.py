"""Copies that land on a later day are caught by the pool step and never reach the export."""

import json

import duckdb
import pytest

from curation_dagster.sample_data import generate_sample_data
from curation_dagster_tests.graph import run_pipeline

pytestmark = pytest.mark.slow


def test_cross_day_copies_are_removed_with_the_row_they_duplicate(tmp_path, model):
    gens, labels = generate_sample_data(n_rows=400, days=3, start_date="2026-11-01", seed=21,
                                        cross_day_duplicates=0.04)
    res = run_pipeline(tmp_path, gens, labels, algorithm="kmeans", kmeans_k=6)
    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        kept = set(con.execute("SELECT generation_id FROM curation.deduplicated_generations").df()["generation_id"])
        dups = con.execute("SELECT * FROM curation.duplicate_generations").df()
        filtered = set(con.execute("SELECT generation_id FROM curation.filtered_generations").df()["generation_id"])
    truth = labels.set_index("generation_id")
    cross = truth[truth["noise_kind"] == "cross_day_duplicate"]
    # each labelled pair that survived the daily rules is resolved: one of the two goes, naming the other
    pairs = [(c, o) for c, o in zip(cross.index, cross["duplicate_of"]) if c in filtered and o in filtered]
    assert len(pairs) >= 10
    removed = dict(zip(dups["generation_id"], dups["duplicate_of"]))
    for copy, original in pairs:
        assert (removed.get(copy) == original and original in kept) or (removed.get(original) == copy and copy in kept)
    assert set(dups["duplicate_of"]) <= kept and not (set(dups["generation_id"]) & kept)
    assert len(kept) + len(dups) == len(filtered)
    assert {"exact_duplicate", "near_duplicate"} & set(dups["rule"])
    assert dups["reason"].str.contains(" of ").all()
    shipped = set()
    for split in ("train", "validation"):
        prov = (tmp_path / "exports" / "finetuning_dataset" / "provenance.jsonl").read_text().splitlines()
        shipped |= {json.loads(x)["generation_id"] for x in prov}
    assert not shipped & set(dups["generation_id"])
    check = {e.check_name: e for e in res.get_asset_check_evaluations()}["pool_has_no_exact_duplicates"]
    assert check.passed and check.metadata["removed_rows"].value == len(dups)


def test_a_refresh_reuses_the_pools_semantic_pairs_and_removes_the_same_rows(small_pipeline, tmp_path):
    import dagster as dg

    from curation_dagster.defs.resources import build_resources
    from curation_dagster.definitions import build_definitions
    from curation_dagster_tests.graph import copy_graph

    data_dir = copy_graph(small_pipeline[0], tmp_path / "graph")
    assert (data_dir / "dedup_cache.semantic_pairs.npz").exists()  # written by the earlier dedup runs
    defs = build_definitions(resources=build_resources("local", data_dir=data_dir))
    job = defs.resolve_implicit_global_asset_job_def()
    keys = [dg.AssetKey("deduplicated_generations"), dg.AssetKey("duplicate_generations")]

    def dedup(threshold: float, use_cache: bool):
        cfg = {"ops": {"deduplicate_generations": {"config": {"semantic_threshold": threshold, "use_cache": use_cache}}}}
        res = job.execute_in_process(asset_selection=keys, run_config=cfg, instance=dg.DagsterInstance.ephemeral())
        md = {k: v.value for k, v in res.asset_materializations_for_node("deduplicate_generations")[0].metadata.items()}
        with duckdb.connect(str(data_dir / "pipeline.duckdb"), read_only=True) as con:
            removed = con.execute("SELECT generation_id, rule, duplicate_of FROM curation.duplicate_generations "
                                  "ORDER BY generation_id").fetchall()
        return md, removed

    # 0.9 also takes replies that only share a template: semantic pairs exist to reuse
    scratch_md, scratch = dedup(0.9, use_cache=False)
    first_md, first = dedup(0.9, use_cache=True)   # the kept pairs are at 0.995: found again at 0.9
    again_md, again = dedup(0.9, use_cache=True)   # now every row's pairs are kept
    assert any(rule == "semantic_duplicate" for _, rule, _ in scratch)
    assert scratch == first == again
    assert scratch_md["semantic_pairs_rows_reused"] == first_md["semantic_pairs_rows_reused"] == 0
    assert again_md["semantic_pairs_rows_reused"] == again_md["pool_rows"] > 0
    assert again_md["semantic_pairs"] == first_md["semantic_pairs"] > 0
