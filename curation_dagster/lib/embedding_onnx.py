"""ONNX Runtime embedding backends for the packaged all-MiniLM-L6-v2 (CPU, offline).

The transformer of the sentence-transformers model is exported once to ONNX (torch.onnx.export of
the HF model inside it, dynamic batch / sequence axes), optionally int8-quantized with
onnxruntime's dynamic quantization, and cached on disk under a folder keyed by the source weights'
sha256 and the recipe: ``<data dir>/models/onnx/<sha256[:16]>-<recipe id>/model.onnx``. Later
processes reuse the files; nothing is downloaded (the export reads the packaged files only).

Tokenisation uses the model's own tokenizer.json (same truncation as the sentence-transformers
model, max_seq_length from sentence_bert_config.json); mean pooling over the attention mask and L2
normalisation run in numpy exactly as the sentence-transformers Pooling / Normalize modules do.

Recipes (``RECIPES``): ``fp32`` (plain export) and the int8 variants measured in
benchmarks/embed_backends.py; ``onnx-int8`` uses ``DEFAULT_INT8_RECIPE``, the one that keeps the
10-nearest neighbours (see that benchmark's trade-off table).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

EXPORT_FORMAT = 1  # bump when the export code changes in a way that changes the files
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")

# MatMul groups of a BERT layer in the exported graph (node-name patterns of the torch exporter)
OP_GROUPS = {
    "qkv": ("/attention/self/query/MatMul", "/attention/self/key/MatMul", "/attention/self/value/MatMul"),
    "scores": ("/attention/self/MatMul",),  # QK^T and attn@V: both inputs are activations
    "attn_out": ("/attention/output/dense/MatMul",),
    "ffn_in": ("/intermediate/dense/MatMul",),
    "ffn_out": ("/output/dense/MatMul",),  # layer.N/output/dense (the attention output is matched above)
}


@dataclass(frozen=True)
class Recipe:
    """How the ONNX file is made. `groups` None = quantize every op onnxruntime can (its default)."""

    name: str
    quantize: bool = False
    groups: tuple[str, ...] | None = None
    per_channel: bool = False
    reduce_range: bool = False
    layers: tuple[int, ...] | None = None  # None = all encoder layers
    skip_layers: tuple[int, ...] = ()  # encoder layers left in fp32 (whatever the model's depth)

    @property
    def recipe_id(self) -> str:
        fields = asdict(self)
        if not fields["skip_layers"]:  # ids of the recipes made before this field existed stay the same
            del fields["skip_layers"]
        digest = hashlib.sha256(json.dumps({**fields, "format": EXPORT_FORMAT}, sort_keys=True).encode())
        return f"{self.name}-{digest.hexdigest()[:8]}"


RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("fp32"),
    Recipe("int8-all", quantize=True),
    Recipe("int8-all-pc", quantize=True, per_channel=True),
    Recipe("int8-linear", quantize=True, groups=("qkv", "attn_out", "ffn_in", "ffn_out")),
    Recipe("int8-linear-pc", quantize=True, groups=("qkv", "attn_out", "ffn_in", "ffn_out"), per_channel=True),
    # the first layer's error travels through all others: keeping it fp32 buys most of the agreement back
    Recipe("int8-linear-pc-skip0", quantize=True, groups=("qkv", "attn_out", "ffn_in", "ffn_out"), per_channel=True,
           skip_layers=(0,)),
    Recipe("int8-linear-pc-skip01", quantize=True, groups=("qkv", "attn_out", "ffn_in", "ffn_out"), per_channel=True,
           skip_layers=(0, 1)),
    Recipe("int8-linear-pc-skip05", quantize=True, groups=("qkv", "attn_out", "ffn_in", "ffn_out"), per_channel=True,
           skip_layers=(0, 5)),
    Recipe("int8-no-ffn-out-pc", quantize=True, groups=("qkv", "attn_out", "ffn_in"), per_channel=True),
    Recipe("int8-no-ffn-out-pc-skip0", quantize=True, groups=("qkv", "attn_out", "ffn_in"), per_channel=True,
           skip_layers=(0,)),
    Recipe("int8-ffn", quantize=True, groups=("ffn_in", "ffn_out")),
    Recipe("int8-ffn-pc", quantize=True, groups=("ffn_in", "ffn_out"), per_channel=True),
    Recipe("int8-ffn-in", quantize=True, groups=("ffn_in",)),
    Recipe("int8-ffn-in-pc", quantize=True, groups=("ffn_in",), per_channel=True),
]}
# GELU's output (the input of the feed-forward output MatMul) is skewed and long-tailed: its per-tensor
# uint8 activation scale costs the most precision, so that MatMul stays fp32 (embed benchmark sweep,
# 1,000 long texts: 1.77x at 0.918 10-NN agreement, against 1.89x at 0.904 with it quantized and layer 0 fp32)
DEFAULT_INT8_RECIPE = "int8-no-ffn-out-pc"

# how often this process exported / quantized a model (tests check the on-disk cache with it)
EXPORT_COUNT = {"export": 0, "quantize": 0}
_lock = threading.Lock()


def default_cache_dir() -> Path:
    from curation_dagster import settings

    return settings.data_dir() / "models" / "onnx"


@lru_cache(maxsize=8)
def _weights_sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_hash(model_dir: str | Path) -> str:
    """sha256 of the model's weights file (model.safetensors, else pytorch_model.bin)."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        p = Path(model_dir) / name
        if p.exists():
            st = p.stat()
            return _weights_sha256(str(p), st.st_size, st.st_mtime_ns)
    raise FileNotFoundError(f"no model.safetensors / pytorch_model.bin in {model_dir}")


def max_seq_length(model_dir: str | Path) -> int:
    cfg = Path(model_dir) / "sentence_bert_config.json"
    if cfg.exists():
        return int(json.loads(cfg.read_text()).get("max_seq_length") or 512)
    return 512


def _atomic_dir(target: Path, build) -> None:
    """build(tmp_dir) then move tmp_dir to target; a concurrent builder that lost the race is fine."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "model.onnx").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _export_fp32(model_dir: Path, out_dir: Path) -> None:
    """The HF AutoModel that sentence-transformers wraps (its module 0), loaded from the same packaged
    files; eager attention gives the plain MatMul/Softmax graph the quantizer's node selection knows."""
    import warnings

    import torch
    from transformers import AutoModel

    hf = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")

    class _Encoder(torch.nn.Module):
        def __init__(self, hf_model):
            super().__init__()
            self.hf = hf_model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.hf(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state

    dummy = torch.ones((2, 8), dtype=torch.long)
    axes = {k: {0: "batch", 1: "sequence"} for k in (*INPUT_NAMES, "last_hidden_state")}
    hf.eval()
    with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Encoder(hf), (dummy, dummy, torch.zeros_like(dummy)), str(out_dir / "model.onnx"),
                              input_names=list(INPUT_NAMES), output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False, do_constant_folding=True)
    EXPORT_COUNT["export"] += 1


def _nodes(onnx_path: Path, recipe: Recipe) -> list[str] | None:
    if recipe.groups is None:
        return None
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    patterns = [p for g in recipe.groups for p in OP_GROUPS[g]]
    out = []
    for n in graph.node:
        if n.op_type != "MatMul":
            continue
        if "/attention/output/dense/" in n.name and "attn_out" not in recipe.groups:
            continue
        if "/attention/self/MatMul" in n.name and "scores" not in recipe.groups:
            continue
        if not any(p in n.name for p in patterns):
            continue
        if recipe.layers is not None and not any(f"/layer.{i}/" in n.name for i in recipe.layers):
            continue
        if any(f"/layer.{i}/" in n.name for i in recipe.skip_layers):
            continue
        out.append(n.name)
    return out


def _quantize(fp32_path: Path, out_dir: Path, recipe: Recipe) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes = _nodes(fp32_path, recipe)
    kwargs = {"nodes_to_quantize": nodes, "op_types_to_quantize": ["MatMul"]} if nodes is not None else {}
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic warns on the root logger to "run pre-processing"
    try:
        quantize_dynamic(str(fp32_path), str(out_dir / "model.onnx"), weight_type=QuantType.QInt8,
                         per_channel=recipe.per_channel, reduce_range=recipe.reduce_range, **kwargs)
    finally:
        root.setLevel(level)
    (out_dir / "recipe.json").write_text(json.dumps({**asdict(recipe), "quantized_nodes": nodes}, indent=1))
    EXPORT_COUNT["quantize"] += 1


def ensure_onnx(model_dir: str | Path, recipe: str | Recipe = "fp32", cache_dir: str | Path | None = None) -> Path:
    """Path of the ONNX file for (model weights, recipe), exporting / quantizing it on first use."""
    recipe = RECIPES[recipe] if isinstance(recipe, str) else recipe
    model_dir = Path(model_dir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = model_hash(model_dir)[:16]
    with _lock:
        fp32_dir = cache_dir / f"{digest}-{RECIPES['fp32'].recipe_id}"
        if not (fp32_dir / "model.onnx").exists():
            _atomic_dir(fp32_dir, lambda d: _export_fp32(model_dir, d))
        if not recipe.quantize:
            return fp32_dir / "model.onnx"
        q_dir = cache_dir / f"{digest}-{recipe.recipe_id}"
        if not (q_dir / "model.onnx").exists():
            _atomic_dir(q_dir, lambda d: _quantize(fp32_dir / "model.onnx", d, recipe))
        return q_dir / "model.onnx"


class OnnxEmbedder:
    """Drop-in for SentenceTransformer.encode(...) (the subset lib.embedding.embed_texts uses)."""

    def __init__(self, model_dir: str | Path, recipe: str | Recipe = "fp32", cache_dir: str | Path | None = None,
                 threads: int | None = None, seq_length: int | None = None, sort_batches: bool = True):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        self.recipe = RECIPES[recipe] if isinstance(recipe, str) else recipe
        self.onnx_path = ensure_onnx(self.model_dir, self.recipe, cache_dir)
        self.max_seq_length = seq_length or max_seq_length(self.model_dir)
        self.sort_batches = sort_batches
        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_seq_length)  # the file says 128; the ST model uses 256
        pad_id = tok.token_to_id("[PAD]") or 0
        tok.enable_padding(pad_id=pad_id, pad_token="[PAD]")  # pad to the longest in the batch
        self.tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(self.onnx_path), opts, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def get_embedding_dimension(self) -> int:
        return self.dimension

    get_sentence_embedding_dimension = get_embedding_dimension

    def _run(self, texts: list[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encs], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encs], dtype=np.int64)
        types = np.asarray([e.type_ids for e in encs], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)  # ST Pooling, mode "mean"
        return pooled.astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 64, normalize_embeddings: bool = True,
               show_progress_bar: bool = False, convert_to_numpy: bool = True, **_) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # length-sorted batches: little padding (sentence-transformers sorts by length too)
        order = (np.argsort(-np.asarray([len(t) for t in texts]), kind="stable") if self.sort_batches
                 else np.arange(len(texts)))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            idx = order[i:i + batch_size]
            out[idx] = self._run([texts[j] for j in idx])
        if normalize_embeddings:  # ST Normalize: F.normalize(p=2, eps=1e-12)
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
