"""Each example's chat record as its JSONL line, with the last user turn and reply the export's
duplicate search reads, kept between exports by a digest of the columns the record is made of
(RECORD_COLUMNS): a daily refresh of a 50,000-line dataset builds only its new or changed records.
The lines are byte for byte those of building every record again (lib.export.to_chat_record and
jsonl_bytes); only the work is skipped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from curation_dagster.lib.export import RECORD_COLUMNS, jsonl_line, to_chat_record, turns_of
from curation_dagster.lib.files import read_keyed, write_keyed

#: what every line starts with: the messages' JSON (the shipped table's `messages`) is the rest but the final "}"
LINE_PREFIX = '{"messages": '
#: bump when to_chat_record or the line format changes: kept lines of another version are built again
VERSION = "chat-line:1"
COLUMNS = {"line": pa.string(), "user": pa.string(), "reply": pa.string()}


@dataclass
class ChatLines:
    """Per row of the frame they were made for: its JSONL line (no newline), last user turn and reply
    (None when the record has none), and how many were built now rather than read back."""
    lines: list[str]
    users: list[str | None]
    replies: list[str | None]
    built: int = 0


def messages_json(line: str) -> str:
    """A chat line's messages list as JSON text (json.dumps(record["messages"], ensure_ascii=False))."""
    return line[len(LINE_PREFIX):-1]


def record_keys(df: pd.DataFrame) -> list[bytes]:
    """A digest per row of what its chat record is made of. repr() keeps None, NaN, "" and text apart."""
    cols = [df[c].tolist() if c in df.columns else [None] * len(df) for c in RECORD_COLUMNS]
    return [hashlib.blake2b(repr((VERSION, *vals)).encode("utf-8", "surrogatepass"), digest_size=16).digest()
            for vals in zip(*cols)]


def chat_lines(df: pd.DataFrame, cache: Path | None = None) -> ChatLines:
    """The rows' chat lines. `cache` (a Parquet file): read the lines built last time for unchanged rows
    and rewrite it with exactly this call's rows (so it never outgrows the dataset)."""
    keys = record_keys(df)
    known = read_keyed(cache, VERSION, tuple(COLUMNS))
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        cols = [c for c in RECORD_COLUMNS if c in df.columns]
        rows = df.iloc[todo][cols].to_dict("records")
        for i, row in zip(todo, rows):
            rec = to_chat_record(row)
            known[keys[i]] = (jsonl_line(rec), *turns_of(rec))
    got = [known[k] for k in keys]
    if cache is not None and (todo or len(known) != len(set(keys))):
        write_keyed(cache, VERSION, dict(zip(keys, got)), COLUMNS)
    return ChatLines([g[0] for g in got], [g[1] for g in got], [g[2] for g in got], len(todo))
