"""What the export's gate finds in each JSONL line, kept between validations by a digest of the line's
bytes: whether it is a valid chat record (lib.export.validate_chat_record), the first PII kind in its
messages (lib.pii), its tokens, and the last user turn and reply the duplicate search compares. Each is
a function of the line's bytes, the tokenizer and the PII detector's source, and the kept answers are
used only while those two are the same, so a daily validation of a 50,000-line dataset parses and
scans only its new lines and answers exactly as checking every line again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from curation_dagster.lib.export import turns_of, validate_chat_record
from curation_dagster.lib.files import read_keyed, write_keyed
from curation_dagster.lib.pii import detector_identity, first_pii_kind
from curation_dagster.lib.tokens import count_tokens, example_text

#: bump when what a line is checked for changes
VERSION = "line-checks:1"
COLUMNS = {"problem": pa.string(), "pii": pa.string(), "tokens": pa.int64(), "user": pa.string(),
           "reply": pa.string()}


@dataclass
class LineChecks:
    """Per line: what is wrong with it (None: a valid chat record), first PII kind, tokens (of every
    message's content, one per line; 0 for an invalid line), last user turn and reply (None for an
    invalid line). `checked`: lines checked now rather than read back."""
    problem: list[str | None] = field(default_factory=list)
    pii: list[str | None] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    users: list[str | None] = field(default_factory=list)
    replies: list[str | None] = field(default_factory=list)
    checked: int = 0


def _identity(tokenizer: str) -> str:
    return f"{VERSION}|{tokenizer}|{detector_identity().hex()}"


def _check(lines: list[str], tokenizer: str) -> list[tuple]:
    found = []
    for line in lines:
        try:
            rec = json.loads(line)
            problem = validate_chat_record(rec)
        except ValueError as exc:
            rec, problem = None, f"not JSON: {exc}"
        text = example_text(rec["messages"]) if not problem else ""
        user, reply = turns_of(rec) if not problem else (None, None)
        found.append([problem, first_pii_kind(text), text, user, reply])
    for row, n in zip(found, count_tokens([r[2] for r in found], tokenizer)):
        row[2] = int(n)
    return [tuple(r) for r in found]


def check_lines(lines: list[str], tokenizer: str, cache: Path | None = None) -> LineChecks:
    """The checks of each line (no trailing newline). `cache` (a Parquet file): the answers for lines
    checked in the last call are read back, and the file is rewritten with exactly this call's lines."""
    keys = [hashlib.blake2b(line.encode("utf-8", "surrogatepass"), digest_size=16).digest() for line in lines]
    identity = _identity(tokenizer)
    known = read_keyed(cache, identity, tuple(COLUMNS))
    todo = {k: line for k, line in zip(keys, lines) if k not in known}
    known.update(zip(todo, _check(list(todo.values()), tokenizer)))
    rows = [known[k] for k in keys]
    if cache is not None and (todo or len(known) != len(set(keys))):
        write_keyed(cache, identity, dict(zip(keys, rows)), COLUMNS)
    return LineChecks(*(list(col) for col in zip(*rows)), checked=len(todo)) if rows else LineChecks()
