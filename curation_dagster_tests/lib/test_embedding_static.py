"""The model2vec backend (lib/embedding_static.py): distilled offline from the packaged model, cached by hash."""

import json

import numpy as np
import pytest

from curation_dagster.lib import embedding_onnx, embedding_static
from curation_dagster.lib.embedding import (DEFAULT_MODEL, backend_id, embed_texts, embed_with_backend,
                                            resolve_model_path)
from curation_dagster.lib.embedding_cache import EmbeddingCache
from curation_dagster.lib.embedding_static import StaticEmbedder, ensure_static

TEXTS = [
    "What is the capital of Australia?",
    "Canberra is the capital city of Australia.",
    "Write a friendly reminder about the invoice due on Friday.",
    "Send a polite payment reminder for the overdue invoice.",
    "Kubernetes pods restart when the liveness probe fails repeatedly.",
    "Give me a recipe for vegetarian lasagne.",
    "",
    "A very long text about project planning, milestones, risks and budget. " * 60,
]


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("model2vec")


@pytest.fixture(scope="session")
def static(static_dir):
    return StaticEmbedder(resolve_model_path(DEFAULT_MODEL), cache_dir=static_dir)


def test_distilled_once_and_cached_by_source_hash(static, static_dir):
    model_dir = resolve_model_path(DEFAULT_MODEL)
    before = dict(embedding_static.DISTILL_COUNT)
    path = ensure_static(model_dir, cache_dir=static_dir)
    again = StaticEmbedder(model_dir, cache_dir=static_dir)
    assert path == static.path == again.path
    assert embedding_static.DISTILL_COUNT == before  # the folder on disk is reused, nothing distilled again
    assert path.name == f"{embedding_onnx.model_hash(model_dir)[:16]}-{embedding_static.recipe_id()}"
    recipe = json.loads((path / "recipe.json").read_text())
    assert recipe["source_sha256"] == embedding_onnx.model_hash(model_dir) and recipe["pca_dims"] == 256
    assert (path / "model.safetensors").stat().st_size > 1_000_000  # one vector per vocabulary token


def test_static_vectors(static):
    vecs = embed_texts(static, TEXTS)
    assert vecs.shape == (len(TEXTS), 256) and vecs.dtype == np.float32
    nonzero = np.linalg.norm(vecs, axis=1) > 0
    np.testing.assert_allclose(np.linalg.norm(vecs[nonzero], axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vecs, embed_texts(static, TEXTS))  # deterministic
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -1)
    assert sims[0].argmax() == 1  # the capital question finds its answer
    assert sims[2].argmax() == 3  # the two invoice reminders are each other's neighbour
    assert sims[3].argmax() == 2


def test_model2vec_backend_gets_its_own_cache_key(tmp_path, monkeypatch, static_dir):
    monkeypatch.setenv("CURATION_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(embedding_static, "default_cache_dir", lambda: static_dir)  # reuse the distilled model
    cache = EmbeddingCache(tmp_path / "cache.duckdb")
    fields = ("instruction", "output")
    texts = TEXTS[:4]
    st, hits, misses, _ = embed_with_backend(texts, DEFAULT_MODEL, fields, "sentence-transformers", cache)
    assert (hits, misses) == (0, 4)
    m2v, hits, misses, embedder = embed_with_backend(texts, DEFAULT_MODEL, fields, "model2vec", cache)
    assert (hits, misses) == (0, 4) and m2v.shape == (4, 256) and st.shape == (4, 384)
    assert isinstance(embedder, StaticEmbedder)
    again, hits, misses, _ = embed_with_backend(texts, DEFAULT_MODEL, fields, "model2vec", cache)
    assert (hits, misses) == (4, 0) and np.array_equal(again, m2v)
    assert backend_id("model2vec").startswith("model2vec/m2v-256-")
    assert len({backend_id(b) for b in ("sentence-transformers", "onnx-fp32", "onnx-int8", "model2vec")}) == 4
