"""File conversions: CSV <-> JSONL for flat records, chat <-> ShareGPT <-> Alpaca for conversations.

Streams record by record through the import readers (same line numbers and bad-line reasons), so
a converted file and an imported one agree on what was wrong where.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from curation_dagster.lib.formats import conversation_formats, messages_of, record_of
from curation_dagster.lib.importing import ImportSettings, RecordError, read_records

FLAT_OUT = ("jsonl", "csv")  # flat records are written as these (any import format can be read)


def output_formats() -> tuple[str, ...]:
    """What `curation convert --to` writes: FLAT_OUT and every registered conversation format."""
    return FLAT_OUT + conversation_formats()


def convert_file(source: Path, from_fmt: str, target: Path, to_fmt: str, quarantine: Path,
                 chunk_rows: int = 10_000, on_progress=None) -> dict:
    """Convert source to target (written to a temp file, then renamed); returns read/written/quarantined."""
    conversations = conversation_formats()
    conv_in, conv_out = from_fmt in conversations, to_fmt in conversations
    if conv_in != conv_out or (not conv_out and to_fmt not in FLAT_OUT):
        raise ValueError(f"cannot convert {from_fmt} to {to_fmt}: convert flat records between jsonl and csv "
                         f"(parquet as input), conversations between {', '.join(conversations)}")
    counts = {"read": 0, "written": 0, "quarantined": 0}
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _convert(source, from_fmt, to_fmt, tmp, quarantine, chunk_rows, counts, conv_out, on_progress)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed conversion never leaves a half-written target
        raise
    os.replace(tmp, target)
    if not counts["quarantined"]:
        quarantine.unlink(missing_ok=True)
    return counts


def _convert(source: Path, from_fmt: str, to_fmt: str, tmp: Path, quarantine: Path, chunk_rows: int,
             counts: dict, conv_out: bool, on_progress=None) -> None:
    header: list[str] | None = None
    writer = None
    with open(tmp, "w", encoding="utf-8", newline="") as out, open(quarantine, "w", encoding="utf-8") as bad:
        position = [0]
        for chunk in read_records(source, from_fmt, ImportSettings(max_field_chars=10**9), chunk_rows, position):
            if on_progress:
                on_progress(position[0])  # bytes of the source read so far
            for no, rec, error, raw in chunk:
                counts["read"] += 1
                try:
                    if error:
                        raise RecordError(error)
                    if conv_out:
                        extra = {k: v for k, v in rec.items() if k in ("id",)}
                        out.write(json.dumps(record_of(messages_of(rec, from_fmt), to_fmt, extra),
                                             ensure_ascii=False) + "\n")
                    elif to_fmt == "jsonl":
                        out.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                    else:
                        if header is None:
                            header = list(dict.fromkeys(k for _, r, _, _ in chunk if r for k in r))
                            writer = csv.DictWriter(out, fieldnames=header)
                            writer.writeheader()
                        unknown = [k for k in rec if k not in header]
                        if unknown:
                            raise RecordError(f"fields {unknown} are not in the CSV header (taken from the first "
                                              f"{len(chunk):,} records)")
                        writer.writerow({k: _cell(v) for k, v in rec.items()})
                    counts["written"] += 1
                except RecordError as exc:
                    counts["quarantined"] += 1
                    bad.write(json.dumps({"line": no, "reason": str(exc), "raw": raw}, ensure_ascii=False) + "\n")


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return v
