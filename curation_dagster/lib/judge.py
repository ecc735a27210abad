"""An LLM judge for fine-tuning examples: the rubric, the prompt, strict parsing of the answers, two
samples per example and a verdict. Pure: no Dagster; the requests go through lib.llm's client (bounded
concurrency, retries of timeouts and 5xx, the response cache, token counts).

The rubric (each criterion scored 1-5 with a one-line reason):
  follows_instruction      the reply does what the instruction asks, as the sender the identity settings
                           describe (name, role, company, tone)
  faithful_to_input        nothing contradicts the instruction or the input message, and nothing (facts,
                           names, dates, numbers, commitments) is invented beyond them
  structure_and_tone       structured for its purpose, no filler or leftover placeholders, the tone asked for
  answerable_from_passage  (template `doc_qa` only) the question can be answered from the passage in the
                           input message, and the reply answers it from the passage

Each example is asked `samples` (2) times at temperature > 0 with a different `seed` per sample, so the
two requests have different cache keys and their disagreement can be measured. An answer must be one
JSON object `{"scores": {criterion: 1-5}, "reasons": {criterion: "one line"}}` with exactly the
example's criteria (a single ```json fence around it is accepted); anything else is a parse failure,
asked once more with a fresh sample (another seed), and a sample that still fails, or whose request
failed (timeout, 5xx after the client's retries, endpoint down), makes the example a `judge_error`:
never a guessed score. Verdicts (`decide`):
  low          a criterion both samples put at or below `low_threshold` (2): mean <= 2, spread < 2
  uncertain    the samples disagree by `disagreement` (2) or more on a criterion, or the mean over the
               criteria is a middle score (between `middle_low` 2.5 and `middle_high` 3.5)
  pass         otherwise
  judge_error  a sample could not be had (see above)
`VerdictStore` keeps the latest verdict of each example per prompt version, so the sampler can leave
out what was judged low in an earlier refresh (the judge runs after it: no cycle in the asset graph).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from curation_dagster.lib.export import conversation_history
from curation_dagster.lib.llm import ChatRequest

#: Part of every judge request's cache key: bump it when the rubric, the prompt or what is done with
#: the answer changes (verdicts stored under another version do not exclude rows from sampling).
PROMPT_VERSION = "judge/1"
#: The rule name rows judged low leave the dataset with (manifest, churn).
RULE = "llm_judge"
QA_TEMPLATE = "doc_qa"

PASS, UNCERTAIN, LOW, ERROR = "pass", "uncertain", "low", "judge_error"
VERDICTS = (PASS, UNCERTAIN, LOW, ERROR)


@dataclass(frozen=True)
class Criterion:
    name: str
    question: str
    templates: tuple[str, ...] = ()  # the templates it applies to; () = every template


CRITERIA: tuple[Criterion, ...] = (
    Criterion("follows_instruction",
              "Does the reply do what the instruction asks, written as the sender the identity settings "
              "describe (name, role, company, tone)?"),
    Criterion("faithful_to_input",
              "Does the reply stay within what the instruction and the input message say: nothing that "
              "contradicts them, and no facts, names, dates, numbers or commitments invented beyond them?"),
    Criterion("structure_and_tone",
              "Is the reply structured for its purpose (greeting, body and closing where a message needs "
              "them; no filler, no leftover placeholders) and in the tone the identity settings ask for?"),
    Criterion("answerable_from_passage",
              "Can the question be answered from the passage in the input message alone, and does the "
              "reply answer it from that passage?", templates=(QA_TEMPLATE,)),
)
CRITERION_NAMES: tuple[str, ...] = tuple(c.name for c in CRITERIA)

SYSTEM_PROMPT = (
    "You review examples for a fine-tuning dataset of an assistant that drafts emails and messages on "
    "behalf of its users. Score the reply on each criterion you are given, from 1 (fails it) to 5 (fully "
    "meets it), judging only what the example shows. Answer with one JSON object and nothing else, of the "
    'form {"scores": {"<criterion>": <integer 1-5>}, "reasons": {"<criterion>": "<one line>"}}, with '
    "exactly the criteria you are given as keys in both."
)


def criteria_for(template_id: str | None) -> tuple[Criterion, ...]:
    """The rubric of an example of `template_id`: every general criterion, and the QA one for doc_qa."""
    return tuple(c for c in CRITERIA if not c.templates or template_id in c.templates)


@dataclass(frozen=True)
class JudgeSettings:
    samples: int = 2  # answers asked per example (their disagreement makes a verdict uncertain)
    temperature: float = 0.7  # > 0, or the samples cannot disagree
    seed: int = 42  # sample k is asked with seed + k; its retries with seed + k + samples, ...
    parse_retries: int = 1  # fresh samples asked for an unparseable answer before the example is judge_error
    low_threshold: float = 2.0  # a criterion at or below this (mean of agreeing samples) makes the example low
    disagreement: int = 2  # samples this far apart on a criterion make the example uncertain
    middle_low: float = 2.5  # a mean over the criteria in [middle_low, middle_high] is uncertain
    middle_high: float = 3.5
    max_tokens: int = 400  # of each answer
    json_mode: bool = True  # send response_format {"type": "json_object"} (turn off for servers that refuse it)
    max_field_chars: int = 6000  # each text of the example shown to the judge is cut at this length

    def __post_init__(self):
        if self.samples < 1:
            raise ValueError(f"samples must be at least 1, got {self.samples}")
        if self.parse_retries < 0:
            raise ValueError(f"parse_retries must be 0 or more, got {self.parse_retries}")
        if not 1 <= self.low_threshold < 5:
            raise ValueError(f"low_threshold must be in [1, 5), got {self.low_threshold}")
        if self.disagreement < 1:
            raise ValueError(f"disagreement must be at least 1, got {self.disagreement}")
        if not self.middle_low <= self.middle_high:
            raise ValueError(f"middle_low ({self.middle_low}) must not be above middle_high ({self.middle_high})")
        if self.temperature < 0:
            raise ValueError(f"temperature must be 0 or more, got {self.temperature}")
        if self.max_field_chars < 100:
            raise ValueError(f"max_field_chars must be at least 100, got {self.max_field_chars}")


# -- the prompt --------------------------------------------------------------------------------------

def _cut(text, limit: int) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text).strip()
    return text if len(text) <= limit else text[:limit] + " […cut]"


def _input_section(input_message, limit: int) -> str:
    history = conversation_history(input_message)
    if history is not None:  # an imported conversation: the earlier turns, one per line
        return "\n".join(f"{t['role']}: {_cut(t['content'], limit)}" for t in history) or "(none)"
    return _cut(input_message, limit) or "(none)"


def build_messages(row: dict, s: JudgeSettings = JudgeSettings()) -> list[dict]:
    """The chat messages that ask for one example's scores: the rubric of its template, then the example."""
    crit = criteria_for(row.get("template_id"))
    qa = any(c.templates for c in crit)
    lines = ["Criteria:", *[f"- {c.name}: {c.question}" for c in crit], "",
             f"Template: {row.get('template_id') or 'general'}", "",
             "Instruction:", _cut(row.get("instruction"), s.max_field_chars) or "(none)", "",
             "Identity settings (who the reply is written as):", _cut(row.get("identity"), s.max_field_chars) or "(none)",
             "",
             "Passage (the input message; the instruction is the question):" if qa
             else "Input message (what the reply answers):",
             _input_section(row.get("input_message"), s.max_field_chars), "",
             "Reply to judge:", _cut(row.get("output"), s.max_field_chars), "",
             "Answer with the JSON object only: scores and one-line reasons for "
             + ", ".join(c.name for c in crit) + "."]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def judge_request(messages: list[dict], sample_index: int, s: JudgeSettings) -> ChatRequest:
    """Sample `sample_index` of an example: its own seed, so its own cache key."""
    params: dict = {"seed": int(s.seed) + int(sample_index), "max_tokens": int(s.max_tokens)}
    if s.json_mode:
        params["response_format"] = {"type": "json_object"}
    return ChatRequest(messages, float(s.temperature), params, PROMPT_VERSION)


# -- strict parsing ----------------------------------------------------------------------------------

class JudgeParseError(ValueError):
    """The answer is not the JSON object the prompt asks for; the message says what is wrong."""


_FENCE = re.compile(r"\A```(?:json)?[ \t]*\n(.*)\n[ \t]*```\Z", re.DOTALL | re.IGNORECASE)
MAX_REASON_CHARS = 500


def parse_answer(text: str | None, criteria: Sequence[str]) -> tuple[dict[str, int], dict[str, str]]:
    """(scores, reasons) of one answer: a JSON object with exactly the keys `scores` and `reasons`, each
    mapping exactly `criteria` to an integer 1-5 and to a non-empty one-line text. Anything else raises
    JudgeParseError; nothing is repaired or guessed (a ```json fence around the object is the one
    wrapping accepted)."""
    if text is None or not str(text).strip():
        raise JudgeParseError("empty answer")
    body = str(text).strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = json.loads(body)
    except ValueError:
        raise JudgeParseError("not JSON") from None
    if not isinstance(data, dict):
        raise JudgeParseError(f"a JSON {type(data).__name__}, not an object")
    if set(data) != {"scores", "reasons"}:
        raise JudgeParseError(f"keys {sorted(map(str, data))}, expected exactly ['reasons', 'scores']")
    scores, reasons = data["scores"], data["reasons"]
    want = list(criteria)
    for what, block in (("scores", scores), ("reasons", reasons)):
        if not isinstance(block, dict):
            raise JudgeParseError(f"{what} is not an object")
        missing = [c for c in want if c not in block]
        extra = sorted(str(c) for c in block if c not in want)
        if missing:
            raise JudgeParseError(f"{what} misses {', '.join(missing)}")
        if extra:
            raise JudgeParseError(f"{what} has unknown criteria {', '.join(extra)}")
    out_scores: dict[str, int] = {}
    out_reasons: dict[str, str] = {}
    for c in want:
        v = scores[c]
        if isinstance(v, bool) or not isinstance(v, int):
            raise JudgeParseError(f"score of {c} is {v!r}, not an integer")
        if not 1 <= v <= 5:
            raise JudgeParseError(f"score of {c} is {v}, outside 1-5")
        r = reasons[c]
        if not isinstance(r, str) or not r.strip():
            raise JudgeParseError(f"reason of {c} is not a non-empty text")
        r = r.strip()
        if "\n" in r or "\r" in r:
            raise JudgeParseError(f"reason of {c} is more than one line")
        if len(r) > MAX_REASON_CHARS:
            raise JudgeParseError(f"reason of {c} is {len(r)} characters (at most {MAX_REASON_CHARS})")
        out_scores[c], out_reasons[c] = v, r
    return out_scores, out_reasons


# -- the verdict -------------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def decide(samples: Sequence[dict[str, int]], criteria: Sequence[str],
           s: JudgeSettings = JudgeSettings()) -> tuple[str, str]:
    """(verdict, why) from the parsed scores of every sample of an example (see the module doc):
    low before uncertain, so a criterion the samples agree fails is not saved by disagreement elsewhere."""
    if not samples:
        return ERROR, "no sample"
    means = {c: sum(sm[c] for sm in samples) / len(samples) for c in criteria}
    spreads = {c: max(sm[c] for sm in samples) - min(sm[c] for sm in samples) for c in criteria}
    low = [c for c in criteria if spreads[c] < s.disagreement and means[c] <= s.low_threshold]
    if low:
        return LOW, "low " + ", ".join(f"{c} {_fmt(means[c])}" for c in low)
    split = [c for c in criteria if spreads[c] >= s.disagreement]
    if split:
        return UNCERTAIN, "samples disagree on " + ", ".join(
            f"{c} ({'/'.join(str(sm[c]) for sm in samples)})" for c in split)
    overall = sum(means.values()) / len(means) if means else 0.0
    if s.middle_low <= overall <= s.middle_high:
        return UNCERTAIN, f"middle score {_fmt(round(overall, 2))}"
    return PASS, ""


@dataclass
class Judgement:
    """One example's outcome: the parsed samples, the verdict and why, what it took."""
    generation_id: str
    template_id: str | None
    criteria: tuple[str, ...]
    samples: list[dict] = field(default_factory=list)  # {"scores": {...}, "reasons": {...}} of each good sample
    verdict: str = ERROR
    why: str = ""
    retries: int = 0  # fresh samples asked for unparseable answers
    cached: int = 0  # answers that came from the cache
    errors: list[str] = field(default_factory=list)

    def means(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {c: sum(sm["scores"][c] for sm in self.samples) / len(self.samples) for c in self.criteria}


def judge_rows(rows: Sequence[dict], client, s: JudgeSettings = JudgeSettings()) -> list[Judgement]:
    """A Judgement per row (dicts with generation_id, template_id, instruction, identity, input_message,
    output), in row order. All first samples go out as one batch (`client.complete_many`: the cache,
    bounded concurrency, transport retries), then one batch per round of fresh samples for the
    answers that did not parse. A request that failed is not asked again here (the client retried it)."""
    rows = list(rows)
    out = [Judgement(str(r["generation_id"]), r.get("template_id"),
                     tuple(c.name for c in criteria_for(r.get("template_id")))) for r in rows]
    messages = [build_messages(r, s) for r in rows]
    index = {(i, k): k for i in range(len(rows)) for k in range(s.samples)}
    retries_left = {key: s.parse_retries for key in index}
    good: dict[tuple[int, int], dict] = {}
    failed: dict[tuple[int, int], str] = {}
    pending = sorted(index)
    while pending:
        answers = client.complete_many([judge_request(messages[i], index[(i, k)], s) for i, k in pending])
        again = []
        for (i, k), res in zip(pending, answers):
            out[i].cached += int(bool(res.cached))
            if not res.ok:
                failed[(i, k)] = f"sample {k + 1}: request failed ({res.error})"
                continue
            try:
                scores, reasons = parse_answer(res.text, out[i].criteria)
            except JudgeParseError as exc:
                if retries_left[(i, k)] > 0:
                    retries_left[(i, k)] -= 1
                    index[(i, k)] += s.samples  # a fresh sample: another seed, another cache key
                    out[i].retries += 1
                    again.append((i, k))
                else:
                    tries = 1 + s.parse_retries
                    failed[(i, k)] = (f"sample {k + 1}: unparseable answer ({exc})"
                                      + (f" in {tries} tries" if tries > 1 else ""))
                continue
            good[(i, k)] = {"scores": scores, "reasons": reasons}
        pending = again
    for i, j in enumerate(out):
        errs = [failed[(i, k)] for k in range(s.samples) if (i, k) in failed]
        j.samples = [good[(i, k)] for k in range(s.samples) if (i, k) in good]
        if errs:
            j.verdict, j.why, j.errors = ERROR, "; ".join(errs), errs
        else:
            j.verdict, j.why = decide([sm["scores"] for sm in j.samples], j.criteria, s)
    return out


# -- as a table --------------------------------------------------------------------------------------

def score_column(criterion: str) -> str:
    return f"score_{criterion}"


def reason_column(criterion: str) -> str:
    return f"reason_{criterion}"


JUDGED_COLUMNS: dict[str, object] = {
    "generation_id": object, "template_id": object, "verdict": object, "verdict_reason": object,
    **{score_column(c): "float64" for c in CRITERION_NAMES},
    **{reason_column(c): object for c in CRITERION_NAMES},
    "mean_score": "float64", "min_score": "float64", "max_spread": "float64",
    "samples": "int64", "judge_retries": "int64", "cached_answers": "int64",
    "sample_scores": object, "model": object, "prompt_version": object,
}


def judgements_frame(judgements: Iterable[Judgement], model: str) -> pd.DataFrame:
    """One row per example (JUDGED_COLUMNS): its verdict and why, the mean score of each criterion of
    its rubric (NaN where the criterion does not apply or there is no verdict), the first sample's
    one-line reasons, every sample's scores as JSON, and the model and prompt version."""
    rows = []
    for j in judgements:
        means = j.means()
        spreads = ({c: max(sm["scores"][c] for sm in j.samples) - min(sm["scores"][c] for sm in j.samples)
                    for c in j.criteria} if j.samples else {})
        first = j.samples[0]["reasons"] if j.samples else {}
        ok = j.verdict != ERROR
        rows.append({
            "generation_id": j.generation_id, "template_id": j.template_id, "verdict": j.verdict,
            "verdict_reason": j.why,
            **{score_column(c): (round(means[c], 4) if ok and c in means else float("nan")) for c in CRITERION_NAMES},
            **{reason_column(c): (first.get(c) if ok else None) for c in CRITERION_NAMES},
            "mean_score": round(sum(means.values()) / len(means), 4) if ok and means else float("nan"),
            "min_score": round(min(means.values()), 4) if ok and means else float("nan"),
            "max_spread": float(max(spreads.values())) if ok and spreads else float("nan"),
            "samples": len(j.samples), "judge_retries": j.retries, "cached_answers": j.cached,
            "sample_scores": json.dumps([sm["scores"] for sm in j.samples], sort_keys=True),
            "model": model, "prompt_version": PROMPT_VERSION,
        })
    return empty_judged_frame() if not rows else pd.DataFrame(rows).astype(JUDGED_COLUMNS)[list(JUDGED_COLUMNS)]


def empty_judged_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in JUDGED_COLUMNS.items()})


def score_table(judged: pd.DataFrame, low_threshold: float = JudgeSettings.low_threshold) -> pd.DataFrame:
    """Per criterion, over the examples with a verdict it applies to: rows, mean score, and the share
    at or below `low_threshold`. The judge's summary for metadata and notes."""
    rows = []
    ok = judged[judged["verdict"] != ERROR] if len(judged) else judged
    for c in CRITERION_NAMES:
        col = ok[score_column(c)].dropna() if len(ok) else pd.Series(dtype="float64")
        if len(col):
            rows.append({"criterion": c, "rows": int(len(col)), "mean": round(float(col.mean()), 2),
                         "share_low": round(float((col <= low_threshold).mean()), 4)})
    return pd.DataFrame(rows, columns=["criterion", "rows", "mean", "share_low"])


def verdict_counts(judged: pd.DataFrame) -> dict[str, int]:
    counts = judged["verdict"].value_counts().to_dict() if len(judged) else {}
    return {v: int(counts.get(v, 0)) for v in VERDICTS}


# -- verdicts across refreshes -----------------------------------------------------------------------

class VerdictStore:
    """The latest verdict of each example per prompt version, kept across refreshes (one DuckDB file):
    the sampler reads the ids judged low from it, so a row judged low is not picked again, and the
    export tells those drops from the selection's. judge_error rows are not stored (no verdict)."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    def __repr__(self) -> str:
        return f"VerdictStore({self.path!r})"

    def put(self, judged: pd.DataFrame) -> int:
        import duckdb

        rows = judged[judged["verdict"] != ERROR] if len(judged) else judged
        if not len(rows):
            return 0
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(self.path) as con:
            con.execute("CREATE TABLE IF NOT EXISTS judge_verdicts (generation_id VARCHAR, prompt_version VARCHAR, "
                        "model VARCHAR, verdict VARCHAR, verdict_reason VARCHAR, sample_scores VARCHAR, "
                        "updated_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (generation_id, prompt_version))")
            con.executemany(
                "INSERT OR REPLACE INTO judge_verdicts (generation_id, prompt_version, model, verdict, verdict_reason, "
                "sample_scores) VALUES (?, ?, ?, ?, ?, ?)",
                [(str(r["generation_id"]), str(r["prompt_version"]), str(r["model"]), str(r["verdict"]),
                  str(r["verdict_reason"] or ""), str(r["sample_scores"]))
                 for r in rows.sort_values("generation_id").to_dict("records")])
        return len(rows)

    def ids(self, verdict: str = LOW, prompt_version: str = PROMPT_VERSION) -> set[str]:
        """generation_ids whose stored verdict under `prompt_version` is `verdict` (none without a file)."""
        import duckdb

        if not Path(self.path).exists():
            return set()
        with duckdb.connect(self.path, read_only=True) as con:
            found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'judge_verdicts'"
                                ).fetchone()[0]
            if not found:
                return set()
            rows = con.execute("SELECT generation_id FROM judge_verdicts WHERE verdict = ? AND prompt_version = ?",
                               [verdict, prompt_version]).fetchall()
        return {r[0] for r in rows}
