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


@pytest.fixture(scope="session")
def small_topic_modelled(tmp_path_factory, sample_small, model):
    """sample_small's three days loaded, filtered and embedded, the pool de-duplicated and the topic model
    fit, nothing sampled or published: the shared start of the whole-graph tests on sample_small. Copy it
    (graph.copy_graph) before running anything on it."""
    from curation_dagster_tests.graph import run_days_and_topic_model

    gens, labels = sample_small
    base = tmp_path_factory.mktemp("small_topic_modelled")
    run_days_and_topic_model(base, gens, labels)
    return base


@pytest.fixture(scope="session")
def small_pipeline(tmp_path_factory, small_topic_modelled):
    """The whole default graph on sample_small, published: (folder, the pool refresh's result). Read it;
    copy it (graph.copy_graph) before materializing anything."""
    from curation_dagster_tests.graph import copy_graph, refresh_pool

    data_dir = copy_graph(small_topic_modelled, tmp_path_factory.mktemp("small_pipeline"))
    return data_dir, refresh_pool(data_dir)


def pytest_sessionfinish(session, exitstatus):
    """Collect what tests left in reference cycles (an exception's traceback holding an asset context
    and its ephemeral Dagster instance, say) while SQLite is still open: left to interpreter exit, their
    connections are finalised after it and print "Cannot operate on a closed database" tracebacks."""
    import gc

    gc.collect()
