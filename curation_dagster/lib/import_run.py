"""One import of a file into the source table: read in chunks, convert to the contract, add to the
sink (content hashes make a re-import add nothing), quarantine bad lines with their reason. The CLI
(`curation import`) only opens the sink, shows progress and prints the report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from curation_dagster.lib.importing import (REPAIR_COUNTS, ImportSettings, Quarantined, RunRange, convert_chunk,
                                            now_iso, read_records, suggested_run_range)

COUNTS = ("read", "imported", "already_present", "quarantined", "conflicting_ids", *REPAIR_COUNTS)


@dataclass
class ImportReport:
    source: str  # the file's absolute path: its rows in import_quarantine carry it
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    days: dict[str, int] = field(default_factory=dict)  # rows added or present per created_at day
    seconds: float = 0.0

    @property
    def run_range(self) -> RunRange:
        return suggested_run_range(self.days)

    @property
    def records_per_second(self) -> float:
        return self.counts["read"] / self.seconds if self.seconds else 0.0


def import_records(src: Path, fmt: str, opts: ImportSettings, sink, chunk_rows: int = 10_000,
                   on_progress: Callable[[int], None] | None = None,
                   on_quarantined: Callable[[list[Quarantined]], None] | None = None) -> ImportReport:
    """Import `src` (format `fmt`) into `sink`. A generation_id that comes again with other content is
    quarantined beside the lines that cannot be read, in line order; the source's earlier quarantine
    rows are replaced, so re-importing a fixed file leaves only its remaining bad lines.
    `on_progress(bytes read so far)`; `on_quarantined(entries)` once per chunk (e.g. to a file).
    Raises OSError / ValueError when the file itself cannot be read as `fmt`."""
    report = ImportReport(source=str(src.resolve()))
    counts, stamp, t0 = report.counts, now_iso(), time.perf_counter()
    sink.reset_quarantine(report.source)
    position = [0]
    for chunk in read_records(src, fmt, opts, chunk_rows, progress=position):
        origins: list[tuple[int, str]] = []
        rows, bad = convert_chunk(chunk, opts, fmt, stats=counts, origins=origins)
        result = sink.add(rows)
        clash = [Quarantined(origins[pos][0], reason, origins[pos][1]) for pos, reason in result.conflicts]
        bad = sorted(bad + clash, key=lambda b: b.line)
        sink.quarantine(report.source, bad, stamp)
        if on_quarantined and bad:
            on_quarantined(bad)
        counts["read"] += len(chunk)
        counts["imported"] += result.added
        counts["already_present"] += result.present
        counts["quarantined"] += len(bad)
        counts["conflicting_ids"] += len(clash)
        clashing = {pos for pos, _ in result.conflicts}
        for pos, d in enumerate(rows["created_at"]):
            if pos not in clashing:
                report.days[str(d)[:10]] = report.days.get(str(d)[:10], 0) + 1
        if on_progress:
            on_progress(position[0])
    report.seconds = time.perf_counter() - t0
    return report
