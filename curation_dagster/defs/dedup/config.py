import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults


class DedupConfig(dg.Config):
    """How duplicates are found across the whole pool (every day at once)."""

    near_duplicate_threshold: float = Field(0.7, description=(
        "Word 3-shingle Jaccard similarity (instruction + input + output) at or above which two rows are "
        "near duplicates (MinHash LSH candidates, confirmed exactly)."))
    semantic_threshold: float = Field(0.995, description=(
        "Cosine similarity of the embeddings at or above which two rows say the same thing (reordered "
        "sentences, light rewording). Above 1.0 turns semantic dedup off. Lower it (0.97) to also drop "
        "the same reply written for another person or date, which the sample data's labels count as "
        "distinct (benchmarks/dedup_scores.py prints the trade-off)."))
    seed: int = 0
    use_cache: bool = Field(True, description=(
        "Reuse each row's exact key and MinHash signature from earlier refreshes (dedup_cache.duckdb): "
        "only rows not seen before are hashed. The result is the same either way."))


DedupConfig = team_defaults(DedupConfig, "dedup")
