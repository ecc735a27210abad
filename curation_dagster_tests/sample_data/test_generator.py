import json
import re

import pandas as pd

from curation_dagster.sample_data import NOISE_KINDS, TEMPLATES, generate_sample_data

CONTRACT = ["generation_id", "created_at", "template_id", "generator_version", "instruction", "identity",
            "input_message", "output", "copied", "sent", "edit_ratio", "rating"]


def test_same_seed_same_data_other_seed_other_data():
    a, la = generate_sample_data(n_rows=500, days=5, seed=3)
    b, lb = generate_sample_data(n_rows=500, days=5, seed=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(la, lb)
    c, _ = generate_sample_data(n_rows=500, days=5, seed=4)
    assert set(a["output"].dropna()) != set(c["output"].dropna())


def test_demo_sample_follows_the_contract_and_covers_every_noise_kind(sample_demo):
    gens, labels = sample_demo
    assert list(gens.columns) == CONTRACT
    assert len(gens) == 3000 and gens["generation_id"].is_unique
    assert gens["created_at"].dt.normalize().nunique() == 14
    assert len(TEMPLATES) >= 12 and "general" in TEMPLATES
    assert gens["template_id"].isin(TEMPLATES).mean() > 0.98
    assert 0.3 <= (gens["template_id"] == "general").mean() <= 0.5
    assert gens["generator_version"].nunique() >= 4
    assert set(labels["noise_kind"]) == set(NOISE_KINDS) - {"cross_day_duplicate"}  # only when asked for
    assert labels.set_index("generation_id").index.equals(gens.set_index("generation_id").index.sort_values()) or \
        set(labels["generation_id"]) == set(gens["generation_id"])
    # duplicates point at a real, earlier row
    dups = labels[labels["noise_kind"].isin(["exact_duplicate", "near_duplicate"])]
    created = gens.set_index("generation_id")["created_at"]
    assert dups["duplicate_of"].isin(gens["generation_id"]).all()
    assert (created[dups["generation_id"]].to_numpy() > created[dups["duplicate_of"]].to_numpy()).all()


def test_clean_rows_look_real(sample_demo):
    gens, labels = sample_demo
    clean = gens[gens["generation_id"].isin(labels.loc[labels["noise_kind"] == "clean", "generation_id"])]
    n_words = clean["output"].str.split().str.len()
    assert n_words.median() >= 50 and n_words.min() >= 25
    assert clean["output"].is_unique
    assert not clean["output"].str.contains(r"[\w.+-]+@[\w-]+\.\w", regex=True).any()
    assert all(isinstance(json.loads(i), dict) for i in clean["identity"])
    # usage is correlated with quality: clean drafts are used far more often than low-quality ones
    low = gens[gens["generation_id"].isin(labels.loc[labels["noise_kind"] == "low_quality", "generation_id"])]
    assert (clean["copied"] | clean["sent"]).mean() > 0.95
    assert not (low["copied"] | low["sent"]).any()
    assert clean["output"].map(lambda o: bool(re.search(r"[A-Za-z]", o.splitlines()[-1]))).all()


def test_cross_day_duplicates_copy_a_clean_row_onto_a_later_day():
    default = generate_sample_data(n_rows=1500, days=6, seed=4)
    gens, labels = generate_sample_data(n_rows=1500, days=6, seed=4, cross_day_duplicates=0.03)
    assert len(gens) == 1500 and (labels["noise_kind"] == "cross_day_duplicate").sum() == 45
    rows = gens.merge(labels, on="generation_id").set_index("generation_id")
    copies = rows[rows["noise_kind"] == "cross_day_duplicate"]
    originals = rows.loc[copies["duplicate_of"]]
    assert (originals["noise_kind"] == "clean").all()
    lag = (copies["created_at"].dt.normalize().to_numpy() - originals["created_at"].dt.normalize().to_numpy())
    assert set(pd.to_timedelta(lag).days) <= {1, 2, 3} and len(set(pd.to_timedelta(lag).days)) > 1
    same = copies["output"].to_numpy() == originals["output"].to_numpy()
    assert 0.3 < same.mean() < 0.7  # about half exact copies, half edited
    assert (copies["instruction"].to_numpy() == originals["instruction"].to_numpy()).all()
    assert len(default[0]) == 1500 and "cross_day_duplicate" not in set(default[1]["noise_kind"])
