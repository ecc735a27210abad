import os

import pytest

# Tests never touch the network or a developer's ./data: each session gets its own folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CURATION_CONFIG", "none")  # a developer's ./curation.yaml never changes test defaults


@pytest.fixture(scope="session")
def model():
    """The packaged all-MiniLM-L6-v2, loaded once per test session."""
    from curation_dagster.lib.embedding import load_model

    return load_model()


@pytest.fixture(scope="session")
def sample_small():
    from curation_dagster.sample_data import generate_sample_data

    return generate_sample_data(n_rows=400, days=3, start_date="2026-11-01", seed=11)


@pytest.fixture(scope="session")
def sample_demo():
    """The demo's default sample (3,000 rows over 14 days)."""
    from curation_dagster.sample_data import generate_sample_data

    return generate_sample_data()
