"""Question-answer pairs from document chunks (template `doc_qa`), the document-QA recipe's way.

For each chunk the endpoint is asked for N pairs under the recipe's rules: each question answerable
solely from the passage, concise answers, no two questions with the same meaning, in the configured
language, and JSON out: {"pairs": [{"question": ..., "answer": ...}]}. An answer that is not that
object is an error row for its chunk (never a guessed pair); pairs whose questions normalise to the same
text are kept once. Pairs become generation rows (the data contract) with provenance back to the file
and chunk, and `source_group` = the chunk id so a chunk's pairs always fall on one split. The filter
rules then judge them like generations (`qa_filter_settings`), and `mix_doc_qa` puts up to a share of
them into the export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pandas as pd

from curation_dagster.lib.llm import ChatRequest, unfenced
from curation_dagster.lib.text import normalize_for_dedup, sha256_hex, stable_unit_hash

TEMPLATE_ID = "doc_qa"
PROMPT_VERSION = "doc_qa/1"
#: The cluster the export files QA rows under (they were never clustered with the pool).
DOC_QA_CLUSTER_ID = -2
DOC_QA_CLUSTER_NAME = "doc_qa: questions about your documents"
PROVENANCE_COLUMNS = ["doc_path", "chunk_id", "heading"]
ROW_COLUMNS = ["generation_id", "created_at", "template_id", "generator_version", "instruction", "identity",
               "input_message", "output", "copied", "sent", "edit_ratio", "rating", "source_group",
               *PROVENANCE_COLUMNS]
ERROR_COLUMNS = ["chunk_id", "doc_path", "heading", "error"]
#: The exported chat record's system turn (lib.export reads identity's `system_prompt` verbatim): the user
#: turn is the question followed by the passage (input_message). An empty identity ("{}") would be
#: rejected by the identity_junk rule, which asks for a JSON object with fields.
IDENTITY = json.dumps({"system_prompt": "Answer the question about the document passage that follows it, "
                                        "concisely and only from that passage."})

LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
                  "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
                  "fi": "Finnish", "no": "Norwegian", "cs": "Czech", "ja": "Japanese", "zh": "Chinese",
                  "ko": "Korean", "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish"}


@dataclass(frozen=True)
class QASettings:
    pairs_per_chunk: int = 3
    language: str = "en"  # ISO code (or a language name) the questions and answers are written in
    max_chunks: int = 200  # chunks asked per run, in chunk order (the rest wait for the next run)
    temperature: float = 0.0
    max_tokens: int = 800
    json_mode: bool = True  # send response_format json_object
    max_answer_words: int = 60  # "concise": a longer answer is rejected as an error-free drop (too_long_answer)

    def __post_init__(self) -> None:
        if not 1 <= self.pairs_per_chunk <= 20:
            raise ValueError(f"pairs_per_chunk must be 1..20, not {self.pairs_per_chunk}")
        if self.max_chunks < 0:
            raise ValueError(f"max_chunks must be 0 or more, not {self.max_chunks}")
        if not (self.language or "").strip():
            raise ValueError("language is empty: name the language the pairs are written in (e.g. 'en')")

    @property
    def language_name(self) -> str:
        return LANGUAGE_NAMES.get(self.language.strip().lower(), self.language.strip())


SYSTEM_PROMPT = (
    "You write question-answer pairs for a reading-comprehension dataset. You are given one passage of a "
    "document, with the document's title and section. Rules:\n"
    "1. Every question must be answerable solely from the passage: no outside knowledge.\n"
    "2. Questions must make sense on their own: name the subject (use the document title or section), never "
    "\"the passage\", \"the text\" or \"this section\".\n"
    "3. Answers are concise: a phrase or one to two sentences, taken from the passage.\n"
    "4. No two questions may have the same meaning.\n"
    "5. Write questions and answers in {language}.\n"
    "6. Reply with JSON only, no prose and no code fence: {{\"pairs\": [{{\"question\": \"...\", \"answer\": "
    "\"...\"}}]}}. If the passage holds fewer than {n} answerable facts, return fewer pairs (or none)."
)


def build_request(passage: str, settings: QASettings) -> ChatRequest:
    """The chat request for one chunk's passage (title and section included in `passage`)."""
    system = SYSTEM_PROMPT.format(language=settings.language_name, n=settings.pairs_per_chunk)
    user = (f"Write {settings.pairs_per_chunk} question-answer pairs about this passage.\n\n"
            f"<passage>\n{passage}\n</passage>")
    params: dict = {"max_tokens": settings.max_tokens}
    if settings.json_mode:
        params["response_format"] = {"type": "json_object"}
    return ChatRequest(({"role": "system", "content": system}, {"role": "user", "content": user}),
                       temperature=settings.temperature, params=params, prompt_version=PROMPT_VERSION)


def parse_pairs(text: str | None, limit: int | None = None) -> tuple[list[dict], str | None]:
    """(pairs, None) from an answer that is exactly the JSON object (a whole-answer ```json fence is
    tolerated), or ([], why) when it is not: never a guess. Each pair needs a non-empty string question
    and answer; one bad pair makes the whole answer an error. At most `limit` pairs are kept."""
    if text is None:
        return [], "no answer"
    try:
        data = json.loads(unfenced(text))
    except ValueError as exc:
        return [], f"answer is not JSON ({exc.msg} at char {exc.pos})"
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        return [], "answer is not an object with a \"pairs\" list"
    pairs = []
    for i, item in enumerate(data["pairs"]):
        if not isinstance(item, dict):
            return [], f"pair {i} is not an object"
        q, a = item.get("question"), item.get("answer")
        if not isinstance(q, str) or not q.strip() or not isinstance(a, str) or not a.strip():
            return [], f"pair {i} lacks a non-empty string question and answer"
        pairs.append({"question": " ".join(q.split()), "answer": a.strip()})
    return (pairs[:limit] if limit is not None else pairs), None


def dedup_pairs(pairs: list[dict]) -> tuple[list[dict], int]:
    """Pairs whose questions normalise (case, punctuation, whitespace) to the same text kept once (the
    first); and how many were dropped."""
    seen, kept = set(), []
    for p in pairs:
        key = normalize_for_dedup(p["question"])
        if key in seen:
            continue
        seen.add(key)
        kept.append(p)
    return kept, len(pairs) - len(kept)


def qa_generation_id(chunk_id: str, question: str) -> str:
    return "docqa-" + sha256_hex(f"{chunk_id}\x1f{normalize_for_dedup(question)}")[:20]


def pair_rows(chunk: dict, pairs: list[dict], generator_version: str, created_at) -> list[dict]:
    """Generation rows (ROW_COLUMNS) for one chunk's pairs: instruction = question, input_message = the
    passage with its title (the answer is grounded in it), output = answer, identity = a system prompt saying so (IDENTITY), no usage signals."""
    return [{"generation_id": qa_generation_id(chunk["chunk_id"], p["question"]), "created_at": created_at,
             "template_id": TEMPLATE_ID, "generator_version": generator_version, "instruction": p["question"],
             "identity": IDENTITY, "input_message": chunk["text"], "output": p["answer"], "copied": None,
             "sent": None, "edit_ratio": None, "rating": None, "source_group": f"doc_qa:{chunk['chunk_id']}",
             "doc_path": chunk["doc_path"], "chunk_id": chunk["chunk_id"], "heading": chunk.get("heading") or ""}
            for p in pairs]


def generator_version(model: str) -> str:
    """The generator_version of QA rows: the prompt version and the model that answered."""
    return f"{PROMPT_VERSION} {model}"


@dataclass
class QAOutcome:
    rows: pd.DataFrame  # ROW_COLUMNS, one per kept pair
    errors: pd.DataFrame  # ERROR_COLUMNS, one per chunk whose answer was unusable (or never came)
    chunks_asked: int
    chunks_left: int  # chunks beyond max_chunks, for the next run
    pairs_parsed: int
    duplicate_questions: int
    too_long_answers: int


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    for c in ("copied", "sent"):
        df[c] = df[c].astype(object)
    for c in ("edit_ratio",):
        df[c] = df[c].astype("float64")
    df["rating"] = df["rating"].astype("Int64")
    return df


def generate_pairs(client, chunks: pd.DataFrame, settings: QASettings, created_at) -> QAOutcome:
    """Ask `client` (lib.llm.LLMClient: cache first, bounded concurrency) for each chunk's pairs, at most
    settings.max_chunks chunks, and turn the answers into rows. A row's created_at is its document's
    modification time (chunk column modified_at; `created_at` when the chunk has none)."""
    todo = chunks.sort_values("chunk_id", kind="mergesort") if len(chunks) else chunks
    todo = todo.head(settings.max_chunks).to_dict("records")
    results = client.complete_many([build_request(c["text"], settings) for c in todo]) if todo else []
    version = generator_version(client.model) if todo else ""
    rows, errors = [], []
    parsed = dups = too_long = 0
    for chunk, res in zip(todo, results):
        if not res.ok:
            errors.append({"chunk_id": chunk["chunk_id"], "doc_path": chunk["doc_path"],
                           "heading": chunk["heading"], "error": f"request failed: {res.error}"})
            continue
        pairs, why = parse_pairs(res.text, settings.pairs_per_chunk)
        if why:
            if res.finish_reason == "length":
                why += f" (cut at max_tokens={settings.max_tokens})"
            errors.append({"chunk_id": chunk["chunk_id"], "doc_path": chunk["doc_path"],
                           "heading": chunk["heading"], "error": why})
            continue
        parsed += len(pairs)
        pairs, dropped = dedup_pairs(pairs)
        dups += dropped
        concise = [p for p in pairs if len(p["answer"].split()) <= settings.max_answer_words]
        too_long += len(pairs) - len(concise)
        stamp = chunk.get("modified_at")
        rows += pair_rows(chunk, concise, version, created_at if stamp is None or pd.isna(stamp) else stamp)
    return QAOutcome(rows_frame(rows), pd.DataFrame(errors, columns=ERROR_COLUMNS), len(todo),
                     max(0, len(chunks) - len(todo)), parsed, dups, too_long)


def qa_filter_settings(settings):
    """The filter's settings (lib.rules.FilterSettings) for QA rows: every rule as configured (PII,
    decontamination, HTML, language, duplicates, token budget, ...) except those that cannot hold for a
    short grounded answer: the `doc_qa` template is known, no identity or generator cut-off is needed,
    and an answer may be a phrase (1 word minimum instead of min_output_words)."""
    known = tuple(settings.known_templates)
    return replace(settings, known_templates=(*known, TEMPLATE_ID) if known and TEMPLATE_ID not in known else known,
                   require_identity=False, require_generator_version=False, min_generator_version="0",
                   min_output_words=1, min_instruction_words=min(settings.min_instruction_words, 3))


def check_doc_qa_share(share: float) -> float:
    if not 0 <= share < 1:
        raise ValueError(f"doc_qa_share must be in [0, 1), not {share}")
    return share


def mix_doc_qa(sampled: pd.DataFrame, qa: pd.DataFrame | None, share: float, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """`sampled` with QA rows added so they make up at most `share` of the result (0: none; 0.1: up to
    10%), chosen by a seeded hash of their id (deterministic, stable as more pairs arrive). QA rows get
    the doc_qa cluster, their quality_score (neutral when absent) and keep their provenance columns.
    Also the manifest-style summary {share, available, mixed}."""
    check_doc_qa_share(share)
    available = 0 if qa is None else len(qa)
    summary = {"share": share, "available": available, "mixed": 0}
    if share == 0 or not available or sampled.empty:
        return sampled, summary
    k = min(available, int(share * len(sampled) / (1 - share)))
    if k == 0:
        return sampled, summary
    pick = qa.assign(_h=[stable_unit_hash(seed, "doc_qa", g) for g in qa["generation_id"].astype(str)])
    pick = pick.sort_values(["_h", "generation_id"], kind="mergesort").head(k).drop(columns="_h")
    pick = pick.assign(cluster_id=DOC_QA_CLUSTER_ID, cluster_name=DOC_QA_CLUSTER_NAME)
    if "quality_score" not in pick.columns:
        pick["quality_score"] = 0.5
    pick["quality_score"] = pick["quality_score"].fillna(0.5)
    if "model_version" in sampled.columns:  # the sample's topic model (lib.dataset.topic_model_version reads row 0)
        pick["model_version"] = sampled["model_version"].iloc[0]
    for c in sampled.columns:
        if c not in pick.columns:
            pick[c] = None
    # provenance, and source_group: a chunk's pairs share a split group (lib.splits)
    extra = [c for c in ("source_group", *PROVENANCE_COLUMNS) if c in pick.columns and c not in sampled.columns]
    out = pd.concat([sampled, pick[list(sampled.columns) + extra]], ignore_index=True)
    summary["mixed"] = int(k)
    return out, summary
