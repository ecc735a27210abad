"""A static embedding model distilled locally from the packaged transformer with model2vec.

model2vec's ``distill`` runs the transformer once over its own vocabulary (about 30,000 tokens), keeps
one vector per token (PCA to ``pca_dims``, SIF-weighted), and then embeds a text as the mean of its
tokens' vectors: no attention, so it is one to two orders of magnitude faster than the transformer
on CPU, but context-free. Measured on the sample data it keeps only a minority of each text's 10
nearest neighbours (benchmarks/embed_backends.py), so it is an experiment / preview backend, never a
silent default.

The distilled model is made once, offline (the packaged files only; nothing is downloaded), and
cached on disk under ``<data dir>/models/model2vec/<source sha256[:16]>-<recipe id>/``, keyed by the
source weights' hash and the distillation settings, so a new source model or new settings distil
again and vectors of two static models never share an embedding-cache key (``recipe_id``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from curation_dagster.lib.embedding_onnx import _atomic_dir, model_hash

DISTILL_FORMAT = 1  # bump when the distillation code changes what it writes
DEFAULT_PCA_DIMS = 256

# how often this process distilled a model (tests check the on-disk cache with it)
DISTILL_COUNT = {"distill": 0}
_lock = threading.Lock()


def recipe_id(pca_dims: int = DEFAULT_PCA_DIMS) -> str:
    from importlib.metadata import version

    spec = {"method": "model2vec.distill", "pca_dims": pca_dims, "format": DISTILL_FORMAT,
            "model2vec": version("model2vec")}
    return f"m2v-{pca_dims}-{hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]}"


def default_cache_dir() -> Path:
    from curation_dagster import settings

    return settings.data_dir() / "models" / "model2vec"


def _distill(model_dir: Path, out_dir: Path, pca_dims: int) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from model2vec.distill import distill

    model = distill(model_name=str(model_dir), pca_dims=pca_dims, device="cpu")
    model.save_pretrained(str(out_dir))
    (out_dir / "recipe.json").write_text(json.dumps(
        {"source": str(model_dir), "source_sha256": model_hash(model_dir), "pca_dims": pca_dims,
         "recipe_id": recipe_id(pca_dims)}, indent=1))
    DISTILL_COUNT["distill"] += 1


def ensure_static(model_dir: str | Path, cache_dir: str | Path | None = None,
                  pca_dims: int = DEFAULT_PCA_DIMS) -> Path:
    """Folder of the distilled static model for (source weights, settings), distilling on first use."""
    model_dir = Path(model_dir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_dir / f"{model_hash(model_dir)[:16]}-{recipe_id(pca_dims)}"
    with _lock:
        if not (target / "model.safetensors").exists():
            _atomic_dir(target, lambda d: _distill(model_dir, d, pca_dims))
    return target


class StaticEmbedder:
    """Drop-in for SentenceTransformer.encode(...) (the subset lib.embedding.embed_texts uses)."""

    def __init__(self, model_dir: str | Path, cache_dir: str | Path | None = None, pca_dims: int = DEFAULT_PCA_DIMS):
        from model2vec import StaticModel

        self.path = ensure_static(model_dir, cache_dir, pca_dims)
        self.model = StaticModel.from_pretrained(str(self.path))
        self.dimension = int(self.model.dim)

    def get_embedding_dimension(self) -> int:
        return self.dimension

    get_sentence_embedding_dimension = get_embedding_dimension

    def encode(self, texts: list[str], batch_size: int = 1024, normalize_embeddings: bool = True,
               show_progress_bar: bool = False, convert_to_numpy: bool = True, **_) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # the transformer reads at most 256 tokens; model2vec's default (512) would see more of long texts
        out = np.asarray(self.model.encode(list(texts), batch_size=max(batch_size, 1024), max_length=256,
                                           show_progress_bar=False, use_multiprocessing=False), dtype=np.float32)
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
