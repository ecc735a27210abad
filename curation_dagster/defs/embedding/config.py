import dagster as dg
from pydantic import Field

from curation_dagster.lib.embedding import DEFAULT_MODEL


class EmbeddingConfig(dg.Config):
    model: str = Field(DEFAULT_MODEL, description=(
        "sentence-transformers model: 'packaged:all-MiniLM-L6-v2' (shipped in a wheel, offline) or a local path."))
    fields: list[str] = Field(["instruction", "output"], description="Columns joined (newline) into the embedded text.")
    batch_size: int = 64
    use_cache: bool = Field(True, description="Reuse vectors of text embedded before (any partition, any run).")
