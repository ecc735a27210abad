"""Each example's chat record as its JSONL line, with the last user turn and reply the export's
duplicate search reads, kept between exports by a digest of the columns the record is made of
(RECORD_COLUMNS): a daily refresh of a 50,000-line dataset builds only its new or changed records.
The lines are byte for byte those of building every record again (lib.export.to_chat_record and
jsonl_bytes); only the work is skipped."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from curation_dagster.lib.export import RECORD_COLUMNS, to_chat_record, turns_of
from curation_dagster.lib.files import write_atomic

#: what every line starts with: the messages' JSON (the shipped table's `messages`) is the rest but the final "}"
LINE_PREFIX = '{"messages": '
#: bump when to_chat_record or the line format changes: kept lines of another version are built again
VERSION = "chat-line:1"


@dataclass
class ChatLines:
    """Per row of the frame they were made for: its JSONL line (no newline), last user turn and reply
    (None when the record has none), and how many were built now rather than read back."""
    lines: list[str]
    users: list[str | None]
    replies: list[str | None]
    built: int = 0

    def messages(self, i: int) -> str:
        """The row's messages list as JSON text (json.dumps(record["messages"], ensure_ascii=False))."""
        return self.lines[i][len(LINE_PREFIX):-1]


def record_keys(df: pd.DataFrame) -> list[bytes]:
    """A digest per row of what its chat record is made of. repr() keeps None, NaN, "" and text apart."""
    cols = [df[c].tolist() if c in df.columns else [None] * len(df) for c in RECORD_COLUMNS]
    return [hashlib.blake2b(repr((VERSION, *vals)).encode("utf-8", "surrogatepass"), digest_size=16).digest()
            for vals in zip(*cols)]


def line_of(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def _load(cache: Path | None) -> dict[bytes, tuple[str, str | None, str | None]]:
    if cache is None:
        return {}
    try:
        t = pq.read_table(cache)
        if (t.schema.metadata or {}).get(b"version") != VERSION.encode():
            return {}
        return dict(zip(t.column("key").to_pylist(),
                        zip(t.column("line").to_pylist(), t.column("user").to_pylist(), t.column("reply").to_pylist())))
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return {}  # unreadable: every record is built again


def chat_lines(df: pd.DataFrame, cache: Path | None = None) -> ChatLines:
    """The rows' chat lines. `cache` (a Parquet file): read the lines built last time for unchanged rows
    and rewrite it with exactly this call's rows (so it never outgrows the dataset)."""
    keys = record_keys(df)
    known = _load(cache)
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        cols = [c for c in RECORD_COLUMNS if c in df.columns]
        rows = df.iloc[todo][cols].to_dict("records")
        for i, row in zip(todo, rows):
            rec = to_chat_record(row)
            known[keys[i]] = (line_of(rec), *turns_of(rec))
    got = [known[k] for k in keys]
    out = ChatLines([g[0] for g in got], [g[1] for g in got], [g[2] for g in got], len(todo))
    if cache is not None and (todo or len(known) != len(set(keys))):
        uniq = dict(zip(keys, got))
        table = pa.table({"key": pa.array(list(uniq), pa.binary(16)),
                          "line": [v[0] for v in uniq.values()],
                          "user": pa.array([v[1] for v in uniq.values()], pa.string()),
                          "reply": pa.array([v[2] for v in uniq.values()], pa.string())})
        write_atomic(Path(cache), lambda tmp: pq.write_table(table.replace_schema_metadata({"version": VERSION}), tmp,
                                                             compression="zstd"))
    return out
