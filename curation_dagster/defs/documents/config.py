from typing import Optional

import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.doc_qa import QASettings
from curation_dagster.lib.documents import ChunkSettings

_C, _Q = ChunkSettings(), QASettings()


class DocumentsConfig(dg.Config):
    folder: Optional[str] = Field(None, description=(
        "Folder of documents (.md, .markdown, .txt, .html, .htm; read recursively, hidden files skipped). "
        "None: <data dir>/documents (CURATION_DATA_DIR, default ./data). A missing or empty folder is an "
        "empty result, not an error."))
    max_chars: int = Field(_C.max_chars, description=(
        "Longest chunk body (characters): a longer section is split at paragraph boundaries."))
    min_chars: int = Field(_C.min_chars, description="Chunks whose body is shorter than this are dropped.")
    max_heading_level: int = Field(_C.max_heading_level, description=(
        "Headings #..this level start a new chunk; deeper headings stay inside their section."))

    def to_settings(self) -> ChunkSettings:
        return ChunkSettings(max_chars=self.max_chars, min_chars=self.min_chars,
                             max_heading_level=self.max_heading_level)


DocumentsConfig = team_defaults(DocumentsConfig, "documents", check=lambda c: c.to_settings())


class DocQAConfig(dg.Config):
    pairs_per_chunk: int = Field(_Q.pairs_per_chunk, description="Question-answer pairs asked per chunk.")
    language: str = Field(_Q.language, description=(
        "Language of the questions and answers (ISO code such as 'en', 'de', or a language name)."))
    max_chunks: int = Field(_Q.max_chunks, description=(
        "Chunks asked per run, in chunk-id order (one request each; cached answers cost nothing)."))
    temperature: float = Field(_Q.temperature, description="Sampling temperature of the generator.")
    max_tokens: int = Field(_Q.max_tokens, description="Longest answer asked for (max_tokens of each request).")
    json_mode: bool = Field(_Q.json_mode, description=(
        "Send response_format {\"type\": \"json_object\"}; turn off for a server that refuses the parameter."))
    max_answer_words: int = Field(_Q.max_answer_words, description=(
        "Concise answers: a pair whose answer is longer is dropped (counted as too_long_answers)."))
    timeout_s: Optional[float] = Field(None, description="Per-attempt timeout for this asset (None: the `llm` resource's).")
    max_retries: Optional[int] = Field(None, description="Transport retries for this asset (None: the `llm` resource's).")

    def to_settings(self) -> QASettings:
        return QASettings(pairs_per_chunk=self.pairs_per_chunk, language=self.language, max_chunks=self.max_chunks,
                          temperature=self.temperature, max_tokens=self.max_tokens, json_mode=self.json_mode,
                          max_answer_words=self.max_answer_words)


DocQAConfig = team_defaults(DocQAConfig, "doc_qa", check=lambda c: c.to_settings())
