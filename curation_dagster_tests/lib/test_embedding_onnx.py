"""ONNX Runtime backends (lib/embedding_onnx.py) against the packaged transformer, and the per-backend cache."""

import numpy as np
import pytest

from curation_dagster.lib import embedding_onnx
from curation_dagster.lib.embedding import DEFAULT_MODEL, backend_id, embed_texts, resolve_model_path
from curation_dagster.lib.embedding_cache import EmbeddingCache, cache_key, embed_with_cache
from curation_dagster.lib.embedding_onnx import DEFAULT_INT8_RECIPE, OnnxEmbedder, ensure_onnx

TEXTS = [
    "Summarise the quarterly report in three bullet points.",
    "Write a friendly reminder about the invoice due on Friday.",
    "Translate 'good morning' into French.",
    "Bonjour, comment allez-vous ?",
    "def add(a, b):\n    return a + b",
    "Explain the difference between a list and a tuple in Python.",
    "The cat sat on the mat.",
    "A feline rested upon the rug.",
    "Draft a polite decline to a meeting invitation for next Tuesday.",
    "What is the capital of Australia?",
    "Canberra is the capital city of Australia.",
    "Give me a recipe for vegetarian lasagne.",
    "Ok",
    "",
    "Send a short hello to Ivy at Evergreen Architects; I'm taking over their account. " * 3,
    "Kubernetes pods restart when the liveness probe fails repeatedly.",
    "The stock market fell sharply after the interest rate announcement.",
    "Please rewrite this email to sound more formal and concise.",
    "A very long text about project planning, milestones, risks and budget. " * 60,  # truncated at 256 tokens
    "Ünïcödé and emoji 🚀 handling test.",
]


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx_models")


@pytest.fixture(scope="session")
def model_dir():
    return resolve_model_path(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def fp32(onnx_dir, model_dir):
    return OnnxEmbedder(model_dir, "fp32", cache_dir=onnx_dir)


@pytest.fixture(scope="session")
def int8(onnx_dir, model_dir, fp32):
    return OnnxEmbedder(model_dir, DEFAULT_INT8_RECIPE, cache_dir=onnx_dir)


@pytest.fixture(scope="session")
def reference(model):
    return embed_texts(model, TEXTS)


def test_onnx_fp32_matches_the_transformer(fp32, reference):
    vecs = embed_texts(fp32, TEXTS, batch_size=8)  # batches of mixed lengths: padding must not matter
    assert vecs.shape == reference.shape == (len(TEXTS), 384) and vecs.dtype == np.float32
    cos = np.sum(vecs * reference, axis=1)
    assert cos.min() > 0.999, cos


def test_onnx_int8_stays_close(int8, reference):
    vecs = embed_texts(int8, TEXTS)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    cos = np.sum(vecs * reference, axis=1)
    # measured with int8-linear-pc: mean ~0.99, min ~0.98 on these texts
    assert cos.mean() > 0.98 and cos.min() > 0.95, cos


def test_int8_recipe_quantizes_the_linear_layers_but_the_ffn_output(int8):
    """The recipe written beside the file lists what was quantized: Q/K/V, attention output and the
    FFN input MatMul of every layer; no FFN output and no attention-score MatMul (both stay fp32)."""
    import json

    nodes = json.loads((int8.onnx_path.parent / "recipe.json").read_text())["quantized_nodes"]
    assert len(nodes) == 6 * 5, nodes  # 6 layers x (q, k, v, attention output, FFN in)
    assert not any("/attention/self/MatMul" in n for n in nodes)
    assert not any(n.endswith("/output/dense/MatMul") and "/attention/" not in n for n in nodes)
    for i in range(6):
        assert sum(f"/layer.{i}/" in n for n in nodes) == 5
        assert sum(f"/layer.{i}/intermediate/dense/MatMul" in n for n in nodes) == 1


def test_export_is_cached_on_disk(onnx_dir, model_dir, int8):
    before = dict(embedding_onnx.EXPORT_COUNT)
    p1 = ensure_onnx(model_dir, DEFAULT_INT8_RECIPE, cache_dir=onnx_dir)
    mtime = p1.stat().st_mtime_ns
    p2 = ensure_onnx(model_dir, DEFAULT_INT8_RECIPE, cache_dir=onnx_dir)
    OnnxEmbedder(model_dir, "fp32", cache_dir=onnx_dir)
    assert p1 == p2 == int8.onnx_path and p2.stat().st_mtime_ns == mtime
    assert embedding_onnx.EXPORT_COUNT == before  # no export, no quantization the second time
    # the folder is keyed by the weights' sha256 and the recipe
    assert p1.parent.name.startswith(embedding_onnx.model_hash(model_dir)[:16] + "-" + DEFAULT_INT8_RECIPE)


def test_cache_keys_per_backend(tmp_path, model, int8):
    cache = EmbeddingCache(tmp_path / "cache.duckdb")
    fields = ("instruction", "output")
    texts = TEXTS[:6]
    calls = {"st": 0, "int8": 0}

    def counted(name, embedder):
        def fn(batch):
            calls[name] += len(batch)
            return embed_texts(embedder, batch)
        return fn

    a, hits, misses = embed_with_cache(texts, DEFAULT_MODEL, fields, cache, counted("st", model),
                                       backend=backend_id("sentence-transformers"))
    assert (hits, misses, calls["st"]) == (0, 6, 6)
    b, hits, misses = embed_with_cache(texts, DEFAULT_MODEL, fields, cache, counted("int8", int8),
                                       backend=backend_id("onnx-int8"))
    assert (hits, misses, calls["int8"]) == (0, 6, 6)  # B embeds again instead of reusing A's vectors
    assert not np.array_equal(a, b)
    a2, hits, misses = embed_with_cache(texts, DEFAULT_MODEL, fields, cache, counted("st", model),
                                        backend=backend_id("sentence-transformers"))
    assert (hits, misses, calls["st"]) == (6, 0, 6) and np.array_equal(a, a2)  # A's vectors, no model call
    assert len(cache) == 12
    # the default backend keeps the keys it had before backends existed (no re-embedding on upgrade)
    assert cache_key(DEFAULT_MODEL, fields, "x", "sentence-transformers") == cache_key(DEFAULT_MODEL, fields, "x")
    assert backend_id("onnx-int8") != backend_id("onnx-fp32")
    with pytest.raises(ValueError):
        backend_id("onnx-int4")


def test_config_backend_option():
    from curation_dagster.defs.embedding.config import EmbeddingConfig

    assert EmbeddingConfig().backend == "sentence-transformers"
    assert EmbeddingConfig(backend="onnx-int8").backend == "onnx-int8"
    with pytest.raises(Exception):
        EmbeddingConfig(backend="onnx-int4")
