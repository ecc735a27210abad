import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.embedding import DEFAULT_BACKEND, DEFAULT_MODEL, EMBEDDING_BACKENDS, is_pipeline_backend


class EmbeddingConfig(dg.Config):
    model: str = Field(DEFAULT_MODEL, description=(
        "sentence-transformers model: 'packaged:all-MiniLM-L6-v2' (shipped in a wheel, offline) or a local path."))
    fields: list[str] = Field(["instruction", "output"], description="Columns joined (newline) into the embedded text.")
    backend: EMBEDDING_BACKENDS.literal(is_pipeline_backend) = Field(DEFAULT_BACKEND, description=(
        EMBEDDING_BACKENDS.help(is_pipeline_backend) + ". Speed and neighbours kept of each: the README's "
        "figures (onnx-int8: 1.7-1.9x faster on CPU, 88-93% of each text's 10 nearest neighbours; model2vec: "
        "hundreds of times faster but only a minority of them, a preview / experiment option, not for the "
        "dataset you ship). The ONNX file / static model is made from the configured model on first use and "
        "cached under <data dir>/models/. Vectors are cached per backend: switching re-embeds instead of "
        "mixing two backends' vectors."))
    batch_size: int = 64
    use_cache: bool = Field(True, description="Reuse vectors of text embedded before (any partition, any run).")


EmbeddingConfig = team_defaults(EmbeddingConfig, "embedding")
