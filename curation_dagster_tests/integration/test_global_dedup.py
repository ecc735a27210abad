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
