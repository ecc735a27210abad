import dagster as dg
from pydantic import Field


class DedupConfig(dg.Config):
    """How duplicates are found across the whole pool (every day at once)."""

    near_duplicate_threshold: float = Field(0.7, description=(
        "Word 3-shingle Jaccard similarity (instruction + input + output) at or above which two rows are "
        "near duplicates (MinHash LSH candidates, confirmed exactly)."))
    semantic_threshold: float = Field(0.97, description=(
        "Cosine similarity of the embeddings at or above which two rows say the same thing (reordered "
        "sentences, light rewording). Above 1.0 turns semantic dedup off. Measured on the sample data: "
        "labelled near duplicates sit at 0.92-1.0, distinct clean rows' nearest neighbour at 0.79 (median)."))
    seed: int = 0
