"""The documents stage: question-answer pairs from a team's own documents (template `doc_qa`).

document_chunks reads a folder of Markdown / text / HTML files and cuts it into passages by headings,
each carrying its document's title and heading path. doc_qa_pairs asks the `llm` endpoint for N pairs
per passage under the document-QA recipe's rules (lib/doc_qa.py), drops same-meaning questions and
unusable answers (each counted), and runs the pairs through the filter rules like generations (PII,
decontamination against the registered evaluation sets, HTML, language, duplicates, token budget).
finetuning_dataset mixes up to `doc_qa_share` of them into the export, with provenance back to the file
and chunk. Without an endpoint doc_qa_pairs materializes an empty table saying why; nothing else changes.
"""

from collections import Counter
from pathlib import Path

import dagster as dg
import pandas as pd

from curation_dagster import settings
from curation_dagster.defs.documents.config import DocQAConfig, DocumentsConfig
from curation_dagster.defs.filtering.config import FilterConfig
from curation_dagster.defs.llm import LLMEndpointResource, llm_metadata
from curation_dagster.defs.metadata import counts_table, preview
from curation_dagster.defs.partitions import OWNERS, STORAGE_KIND, WAREHOUSE_POOL
from curation_dagster.lib.doc_qa import PROMPT_VERSION, ROW_COLUMNS, TEMPLATE_ID, generate_pairs, qa_filter_settings, rows_frame
from curation_dagster.lib.documents import chunk_documents, chunks_frame, document_files, load_documents
from curation_dagster.lib.filtering import apply_filters

#: Columns of doc_qa_pairs: the data contract, the split group, provenance, and the filter's scores.
PAIR_COLUMNS = [*ROW_COLUMNS, "quality_score", "content_hash"]


def documents_folder(config: DocumentsConfig) -> Path:
    return Path(config.folder).expanduser().resolve() if config.folder else settings.data_dir() / "documents"


@dg.asset(group_name="documents", owners=OWNERS, kinds={"pandas", STORAGE_KIND}, pool=WAREHOUSE_POOL)
def document_chunks(context: dg.AssetExecutionContext, config: DocumentsConfig) -> dg.Output:
    """The team's documents as passages: every .md/.markdown/.txt/.html/.htm file under `folder` (default
    <data dir>/documents), cut at headings #..### into chunks of at most `max_chars` (long sections split
    at paragraphs), each prefixed with its document's title (first H1, or the file name) and heading
    path. `chunk_id` is stable (path + heading path + part), `doc_path` is relative to the folder.
    A missing or empty folder gives an empty table and a note saying where to put documents."""
    folder = documents_folder(config)
    s = config.to_settings()
    docs = load_documents(folder)
    frame = chunks_frame(chunk_documents(docs, s))
    note = ("" if docs else
            f"no documents in {folder} ({'missing folder' if not folder.is_dir() else 'empty folder'}): put "
            f".md/.txt/.html files there, or set `folder`, to generate QA pairs from them")
    if note:
        context.log.info(note)
    per_doc = frame.groupby("doc_path").size().to_dict() if len(frame) else {}
    return dg.Output(frame, metadata={
        "folder": str(folder), "documents": len(docs), "files_seen": len(document_files(folder)),
        "dagster/row_count": len(frame), "chunks": len(frame),
        "documents_without_chunks": sum(1 for d in docs if d.path not in per_doc),
        "mean_chunk_chars": float(frame["chars"].mean()) if len(frame) else 0.0,
        **({"note": note} if note else {}),
        "chunks_per_document": counts_table(per_doc, "doc_path", "chunks") if per_doc else dg.MetadataValue.md("_none_"),
        "preview": preview(frame, ["chunk_id", "doc_path", "heading", "chars"]),
    })


def empty_pairs() -> pd.DataFrame:
    df = rows_frame([])
    df["quality_score"] = pd.Series(dtype="float64")
    df["content_hash"] = pd.Series(dtype=object)
    return df[PAIR_COLUMNS]


@dg.asset(group_name="documents", owners=OWNERS, kinds={"pandas", STORAGE_KIND, "openai"}, pool=WAREHOUSE_POOL)
def doc_qa_pairs(context: dg.AssetExecutionContext, config: DocQAConfig, llm: LLMEndpointResource,
                 document_chunks: pd.DataFrame) -> dg.Output:
    """Question-answer pairs (template `doc_qa`) from document_chunks, by the `llm` endpoint: one request
    per chunk for `pairs_per_chunk` pairs under the document-QA recipe's rules (answerable solely from
    the passage, concise answers, no two questions with the same meaning, in `language`, JSON out).
    An answer that is not the JSON object is an error for its chunk (`parse_errors`, never a guessed
    pair); questions that normalise alike are kept once; over-long answers dropped. The pairs then go
    through the filter rules (the `filter` settings, relaxed only where a short grounded answer cannot
    comply: identity, generator cut-off, min_output_words): rejected pairs are counted per rule.

    One row per kept pair following the data contract (instruction = question, input_message = the
    passage with its title, output = answer), with `source_group` (the chunk: all its pairs land on one
    split) and provenance `doc_path`, `chunk_id`, `heading`. Answers are cached
    (data/llm_cache.duckdb): a re-run costs no calls. Without an endpoint (CURATION_LLM_BASE_URL /
    CURATION_LLM_MODEL unset) the table is empty and `llm_skipped_reason` says why."""
    s = config.to_settings()
    base = {"chunks": len(document_chunks), "pairs_per_chunk": s.pairs_per_chunk, "language": s.language,
            "prompt_version": PROMPT_VERSION, "template_id": TEMPLATE_ID}
    if document_chunks.empty:
        why = "document_chunks is empty: no documents to ask about"
        context.log.info(f"doc_qa_pairs: {why}")
        return dg.Output(empty_pairs(), metadata={
            **base, "dagster/row_count": 0, "note": why, **llm_metadata(None, why)})
    client, why = llm.client("doc_qa_pairs (QA pairs from documents)", timeout_s=config.timeout_s,
                             max_retries=config.max_retries)
    if client is None:
        context.log.info(f"doc_qa_pairs skipped: {why}")
        return dg.Output(empty_pairs(), metadata={
            **base, "dagster/row_count": 0, "skipped_reason": why, **llm_metadata(None, why)})
    out = generate_pairs(client, document_chunks, s, pd.Timestamp.now(tz="UTC").floor("s"))
    filter_config = FilterConfig()
    outcome = (apply_filters(out.rows, qa_filter_settings(filter_config.to_settings()),
                             near_threshold=filter_config.near_duplicate_threshold)
               if len(out.rows) else None)
    kept = outcome.kept if outcome is not None else out.rows
    kept = (kept.assign(**({} if "quality_score" in kept else {"quality_score": pd.Series(dtype="float64")}),
                        **({} if "content_hash" in kept else {"content_hash": pd.Series(dtype=object)}))
            [PAIR_COLUMNS].sort_values("generation_id", kind="mergesort").reset_index(drop=True))
    rejected = outcome.rejected if outcome is not None else pd.DataFrame(columns=["rule", "reason"])
    rule_counts = dict(outcome.rule_counts) if outcome is not None else {}
    if len(out.errors):
        context.log.warning(f"{len(out.errors)} of {out.chunks_asked} chunks gave no usable answer: "
                            + "; ".join(f"{c}: {e}" for c, e in zip(out.errors["chunk_id"][:3], out.errors["error"][:3])))
    error_kinds = Counter(e.split(" (")[0] for e in out.errors["error"])
    return dg.Output(kept, metadata={
        **base,
        "dagster/row_count": len(kept),
        "chunks_asked": out.chunks_asked,
        "chunks_left_for_next_run": out.chunks_left,
        "pairs_parsed": out.pairs_parsed,
        "duplicate_questions": out.duplicate_questions,
        "too_long_answers": out.too_long_answers,
        "parse_errors": len(out.errors),
        "pairs_rejected_by_rules": len(rejected),
        "pairs_kept": len(kept),
        **({"rejected_by_rule": counts_table(rule_counts)} if rule_counts else {}),
        **({"errors_by_kind": counts_table(dict(error_kinds), "error", "chunks")} if error_kinds else {}),
        **llm_metadata(client),
        "preview": preview(kept, ["doc_path", "heading", "instruction", "output"]),
        "rejected_preview": preview(rejected, ["generation_id", "rule", "reason"]),
        "errors_preview": preview(out.errors, ["doc_path", "heading", "error"]),
    })
