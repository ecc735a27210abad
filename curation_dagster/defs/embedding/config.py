from typing import Literal

import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.embedding import DEFAULT_BACKEND, DEFAULT_MODEL


class EmbeddingConfig(dg.Config):
    model: str = Field(DEFAULT_MODEL, description=(
        "sentence-transformers model: 'packaged:all-MiniLM-L6-v2' (shipped in a wheel, offline) or a local path."))
    fields: list[str] = Field(["instruction", "output"], description="Columns joined (newline) into the embedded text.")
    backend: Literal["sentence-transformers", "onnx-fp32", "onnx-int8", "model2vec"] = Field(DEFAULT_BACKEND, description=(
        "'sentence-transformers' (torch), 'onnx-fp32' (ONNX Runtime, same vectors), 'onnx-int8' (int8 "
        "quantized linear layers, the feed-forward output left fp32: 1.7-1.9x faster on CPU, keeping 88-93% of each text's 10 nearest neighbours, the fewest on 20,000 long texts: see the README's figures) or "
        "'model2vec' (a static model distilled from the configured one: hundreds of times faster, but it keeps "
        "only a minority of the neighbours: a preview / experiment option, not for the dataset you ship). The "
        "ONNX file / static model is made from the configured model on first use and cached under "
        "<data dir>/models/. Vectors are cached per backend: switching re-embeds instead of mixing two "
        "backends' vectors."))
    batch_size: int = 64
    use_cache: bool = Field(True, description="Reuse vectors of text embedded before (any partition, any run).")


EmbeddingConfig = team_defaults(EmbeddingConfig, "embedding")
