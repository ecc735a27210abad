"""Bring your own data: stream CSV, JSONL or Parquet files onto the data contract, with a reason per
bad line instead of an aborted import.

Reading is chunked (`chunk_rows` records at a time), so memory stays bounded whatever the file size.
Every record ends up either as a contract row or as a quarantine entry (line number + reason).
Rows get a deterministic `generation_id` when the file has none (a hash of the record's content),
so importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from curation_dagster.lib.contract import CONTRACT_COLUMNS
from curation_dagster.lib.registry import Registry, first_doc_line

REQUIRED = ("instruction", "output")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0", ""}


class RecordError(ValueError):
    """Why one record cannot be imported (goes to quarantine, the import goes on)."""


@dataclass(frozen=True)
class ImportSettings:
    mapping: dict[str, str] = field(default_factory=dict)  # contract column -> the file's column
    assign_date: str | None = None  # created_at for rows without one (YYYY-MM-DD or an ISO timestamp)
    template_id: str | None = "general"  # template for rows without one (the filter rejects unknown ones)
    max_field_chars: int = 100_000  # longer text is an absurd size, quarantined
    max_line_bytes: int = 2_000_000


@dataclass
class Quarantined:
    line: int
    reason: str
    raw: str


@dataclass(frozen=True)
class ImportFormat:
    """A format `curation import` / `curation convert` read. `read(path, settings, progress)` yields
    (line number, record or None, error or None, raw text); `suffixes` let detect_format pick it by a
    file's suffix. `conversation` (lib/formats.ConversationFormat) is set for conversation formats: the
    record's messages give the contract's text fields (and `curation convert --to` can write it)."""

    name: str
    read: Callable
    suffixes: tuple[str, ...] = ()
    conversation: object | None = None


#: name -> format, in registration order: the flat readers here (`@import_format`), then the
#: conversation formats of lib/formats.py (`@conversation_format`), sniffed in that order
IMPORT_FORMATS: Registry[ImportFormat] = Registry("import format")


def import_format(name: str, description: str = "", *, suffixes: tuple[str, ...] = ()):
    """Register the decorated reader `read(path, settings, progress)` as flat import format `name`."""
    def register(read):
        IMPORT_FORMATS.add(name, ImportFormat(name, read, suffixes), description or first_doc_line(read))
        return read

    return register


def import_formats() -> Registry[ImportFormat]:
    """IMPORT_FORMATS with lib/formats.py's conversation formats registered (imported on first use)."""
    import curation_dagster.lib.formats  # noqa: F401  registers chat, sharegpt, alpaca

    return IMPORT_FORMATS


def _is_conversation(f: ImportFormat) -> bool:
    return f.conversation is not None


def __getattr__(name: str):
    """FLAT_FORMATS, CONVERSATION_FORMATS, FORMATS: the registered names (read from the registry)."""
    if name == "FLAT_FORMATS":
        return import_formats().names(lambda f: not _is_conversation(f))
    if name == "CONVERSATION_FORMATS":
        return import_formats().names(_is_conversation)
    if name == "FORMATS":
        return tuple(import_formats())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def detect_format(path: str | Path) -> str:
    """By suffix; for JSON files, by the first readable record (messages -> chat, conversations ->
    sharegpt, instruction/input/output -> alpaca, else flat jsonl: the conversation formats' sniff)."""
    formats = import_formats()
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = next((f.name for f in formats.values() if suffix in f.suffixes), None)
    if not fmt:
        raise ValueError(f"cannot tell the format of {path} from its suffix; pass --format ({', '.join(formats)})")
    if formats[fmt].read is _jsonl:
        from curation_dagster.lib.formats import sniff

        for _, rec, error, _ in _jsonl(Path(path), ImportSettings(), [0]):
            if rec is not None:
                return sniff(rec, default=fmt)
    return fmt


def read_records(path: str | Path, fmt: str, settings: ImportSettings, chunk_rows: int = 10_000,
                 progress: list[int] | None = None) -> Iterator[list[tuple[int, dict | None, str | None, str]]]:
    """Chunks of (line number, record or None, error or None, raw text for quarantine).

    `progress[0]` is kept at the bytes read so far (for a progress bar)."""
    formats = import_formats()
    if fmt not in formats:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(formats)}")
    progress = progress if progress is not None else [0]
    chunk: list = []
    for item in formats[fmt].read(Path(path), settings, progress):
        chunk.append(item)
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@import_format("jsonl", suffixes=("jsonl", "ndjson", "json"))
def _jsonl(path: Path, s: ImportSettings, progress: list[int]):
    """flat JSON lines (or a JSON array) of records, columns mapped onto the contract"""
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
        f.seek(0)
        if head.startswith(b"["):  # a JSON array (common for ShareGPT dumps): read whole, one element a record
            yield from _json_array(f, progress)
            return
        for no, raw in enumerate(f, 1):
            progress[0] += len(raw)
            if len(raw) > s.max_line_bytes:
                yield no, None, f"line of {len(raw):,} bytes is over the {s.max_line_bytes:,}-byte limit", raw[:300].decode(
                    "utf-8", "replace")
                continue
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield no, None, f"invalid UTF-8 at byte {exc.start}", raw[:2000].decode("utf-8", "replace")
                continue
            try:
                rec = json.loads(text)
            except json.JSONDecodeError as exc:
                yield no, None, f"broken JSON: {exc.msg} at column {exc.colno}", text[:2000]
                continue
            if not isinstance(rec, dict):
                yield no, None, f"a JSON {type(rec).__name__}, not an object", text[:2000]
                continue
            yield no, rec, None, text[:2000]


def _json_array(f, progress: list[int]):
    raw = f.read()
    progress[0] = len(raw)
    try:
        items = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a readable JSON array ({exc}); JSONL lets one bad record be quarantined "
                         f"instead") from exc
    for no, rec in enumerate(items, 1):
        text = json.dumps(rec, ensure_ascii=False)[:2000]
        if isinstance(rec, dict):
            yield no, rec, None, text
        else:
            yield no, None, f"element is a JSON {type(rec).__name__}, not an object", text


@import_format("csv", suffixes=("csv",))
def _csv(path: Path, s: ImportSettings, progress: list[int]):
    """CSV with a header row, columns mapped onto the contract"""
    # surrogateescape keeps invalid bytes visible per field instead of failing the whole file
    with open(path, "rb") as fb:
        text = io.TextIOWrapper(fb, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.DictReader(text)
        if not reader.fieldnames:
            return
        while True:
            start = reader.line_num + 1
            try:
                rec = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, None, f"broken CSV: {exc}", ""
                continue
            finally:
                progress[0] = fb.tell()
            raw = json.dumps(rec, ensure_ascii=False, default=str)[:2000].encode("utf-8", "replace").decode()
            if None in rec:
                yield start, None, f"{len(rec[None])} more fields than the header has", raw
                continue
            if any(isinstance(v, str) and _has_escaped_bytes(v) for v in rec.values()):
                yield start, None, "invalid UTF-8", raw
                continue
            yield start, {k: (None if v == "" else v) for k, v in rec.items()}, None, raw


@import_format("parquet", suffixes=("parquet", "pq"))
def _parquet(path: Path, s: ImportSettings, progress: list[int]):
    """Parquet, columns mapped onto the contract"""
    import pyarrow.parquet as pq

    no = 0
    pf = pq.ParquetFile(path)
    size, total = path.stat().st_size, max(pf.metadata.num_rows, 1)
    for batch in pf.iter_batches(batch_size=10_000):
        progress[0] = int(size * min(no + batch.num_rows, total) / total)
        for rec in batch.to_pylist():
            no += 1
            yield no, rec, None, json.dumps(rec, ensure_ascii=False, default=str)[:2000]


def _has_escaped_bytes(v: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in v)


# ------------------------------------------------------------------------------------------------
# one record -> one contract row
# ------------------------------------------------------------------------------------------------


def _text(v, name: str, s: ImportSettings) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (dict, list)):
        if name == "identity":
            return json.dumps(v, ensure_ascii=False, sort_keys=True)
        raise RecordError(f"{name} is a JSON {type(v).__name__}, not text")
    if not isinstance(v, (str, int, float)):
        raise RecordError(f"{name} has type {type(v).__name__}, not text")
    v = str(v)
    try:
        v.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(f"{name} holds a lone surrogate at character {exc.start}") from None
    if len(v) > s.max_field_chars:
        raise RecordError(f"{name} has {len(v):,} characters, over the {s.max_field_chars:,} limit")
    return v


def _bool(v, name: str):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    if isinstance(v, float):
        return None
    raise RecordError(f"{name} is {v!r}, not a boolean")


def _number(v, name: str, lo: float, hi: float, integer: bool = False):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return None
    if isinstance(v, bool):
        raise RecordError(f"{name} is a boolean, not a number")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise RecordError(f"{name} is {v!r}, not a number") from None
    if not lo <= x <= hi:
        raise RecordError(f"{name} is {x:g}, outside {lo:g}..{hi:g}")
    return int(round(x)) if integer else x


def _timestamp(v, s: ImportSettings):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        if not s.assign_date:
            raise RecordError("no created_at (map a timestamp column, or pass --assign-date)")
        v = s.assign_date
    try:
        ts = pd.Timestamp(v)
    except (TypeError, ValueError):
        raise RecordError(f"created_at {v!r} is not a timestamp") from None
    if ts is pd.NaT:
        raise RecordError(f"created_at {v!r} is not a timestamp")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def to_contract_row(rec: dict, s: ImportSettings, fmt: str = "jsonl", repairs: dict | None = None) -> dict:
    """Map one record onto the data contract; RecordError says why it cannot be.

    Conversation formats give the text fields from their messages (lib/formats.contract_fields); the
    other fields (id, created_at, template, usage) come from the record through the mapping as usual.
    Chat and ShareGPT conversations from split dumps are repaired (leading assistant turns dropped,
    same-role turns merged, blank turns dropped: lib/formats.repair_turns); `repairs`, when given, is
    filled with what was done to this record (only when the record becomes a row)."""
    get = lambda col: rec.get(s.mapping.get(col, col))  # noqa: E731
    done: dict = {}
    if getattr(import_formats().get(fmt), "conversation", None) is not None:
        from curation_dagster.lib.formats import contract_fields, messages_of

        texts = contract_fields(messages_of(rec, fmt, repairs=done))
        text_of = lambda col: texts[col]  # noqa: E731
    else:
        text_of = get
    row = {
        "instruction": _text(text_of("instruction"), "instruction", s),
        "output": _text(text_of("output"), "output", s),
        "input_message": _text(text_of("input_message"), "input_message", s),
        "identity": _text(text_of("identity"), "identity", s),
        "template_id": _text(get("template_id"), "template_id", s) or s.template_id,
        "generator_version": _text(get("generator_version"), "generator_version", s),
        "created_at": _timestamp(get("created_at"), s),
        "copied": _bool(get("copied"), "copied"),
        "sent": _bool(get("sent"), "sent"),
        "edit_ratio": _number(get("edit_ratio"), "edit_ratio", 0.0, 1.0),
        "rating": _number(get("rating"), "rating", 1, 5, integer=True),
    }
    for col in REQUIRED:
        if not row[col] or not row[col].strip():
            raise RecordError(f"missing {col} (column {s.mapping.get(col, col)!r})")
    gid = _text(get("generation_id"), "generation_id", s)
    row["generation_id"] = gid.strip() if gid and gid.strip() else content_id(row)
    if repairs is not None:
        repairs.update(done)
    return {c: row[c] for c in CONTRACT_COLUMNS}


def content_id(row: dict) -> str:
    """A stable id for a record without one: the same content always gets the same id."""
    key = json.dumps({k: row[k] for k in ("instruction", "input_message", "output", "identity", "template_id")}
                     | {"created_at": row["created_at"].isoformat()}, sort_keys=True, ensure_ascii=False)
    return "imp-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


REPAIR_COUNTS = ("leading_assistant_dropped", "same_role_merged", "blank_turns_dropped")


def convert_chunk(chunk: list[tuple[int, dict | None, str | None, str]], s: ImportSettings,
                  fmt: str = "jsonl", stats: dict | None = None,
                  origins: list[tuple[int, str]] | None = None) -> tuple[pd.DataFrame, list[Quarantined]]:
    """Contract rows and quarantine entries of one chunk.

    `stats`, when given, gains per REPAIR_COUNTS key the number of imported conversations that had
    that repair (a conversation counts once however many turns were dropped or merged); `origins`,
    when given, gains (line number, raw text) of each row, in row order, so a row the sink refuses
    later can still be quarantined with its line."""
    rows, bad = [], []
    for no, rec, error, raw in chunk:
        if error:
            bad.append(Quarantined(no, error, raw))
            continue
        repairs: dict = {}
        try:
            rows.append(to_contract_row(rec, s, fmt, repairs))
        except RecordError as exc:
            bad.append(Quarantined(no, str(exc), raw))
            continue
        if origins is not None:
            origins.append((no, raw))
        if stats is not None:
            for key in REPAIR_COUNTS:
                stats[key] = stats.get(key, 0) + bool(repairs.get(key))
    return pd.DataFrame(rows, columns=list(CONTRACT_COLUMNS)), bad


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------------
# the run range an import suggests
# ------------------------------------------------------------------------------------------------

EARLIEST_DAY = "2000-01-01"  # older created_at days are placeholders (epoch 0, 1900-01-01), not history


@dataclass(frozen=True)
class RunRange:
    first: str | None  # first and last plausible day (None when no row has one)
    last: str | None
    days: int  # distinct plausible days
    rows: int  # rows on them
    rows_outside: int  # rows dated before `lo` or after `hi`
    outside_days: tuple[str, ...]  # their distinct days, sorted
    lo: str
    hi: str


def suggested_run_range(day_counts: dict[str, int], today: str | None = None) -> RunRange:
    """The partitions to materialize after an import, from the rows per created_at day (YYYY-MM-DD).

    Fixed bounds, not quantiles: days before EARLIEST_DAY (2000-01-01: epoch-0 and 1900 placeholders)
    or after today (UTC) + 1 day (clock errors, 2099 sentinels; the +1 day allows for time zones
    ahead of UTC) are out of range. Fixed bounds never cut off a genuine but sparse stretch of
    history the way an interquantile rule would, and they give the same answer for the same file
    whatever else it holds. Out-of-range rows are still imported (nothing is lost); they are only
    left out of the suggested range and counted, so a user can look at them."""
    today_ts = pd.Timestamp(today) if today else pd.Timestamp(datetime.now(timezone.utc).date())
    lo, hi = EARLIEST_DAY, (today_ts + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    inside = {d: n for d, n in day_counts.items() if lo <= d <= hi}
    outside = {d: n for d, n in day_counts.items() if d not in inside}
    return RunRange(min(inside) if inside else None, max(inside) if inside else None, len(inside),
                    sum(inside.values()), sum(outside.values()), tuple(sorted(outside)), lo, hi)
