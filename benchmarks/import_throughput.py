"""Throughput and peak memory of `curation import` on a large generated JSONL file, and of re-importing it.

    .venv/bin/python benchmarks/import_throughput.py                  # 1 GB (several minutes)
    .venv/bin/python benchmarks/import_throughput.py --size-mb 100
    .venv/bin/python benchmarks/import_throughput.py --size-mb 100 --path /tmp/big.jsonl --keep

Generates realistic records once (`generate_sample_data`, 20,000 rows by default, with the sample
data's own noise), then writes them again and again with new unique ids and dates shifted by the
sample's span, streaming, until the file reaches `--size-mb`. About 1% of lines are malformed on
purpose (broken JSON, invalid UTF-8 bytes, no output). Field names are a team's own
(`id`, `timestamp`, `prompt`, `completion`), so the import runs with `--map`.

It then runs `.venv/bin/curation import` as a subprocess into a fresh DuckDB warehouse and reports
file size, records, imported, quarantined, wall seconds, records/s, MB/s and the import process's
peak RSS (from `wait4`'s rusage, no /usr/bin/time needed; RSS is also sampled from /proc during the
run, to show whether it grows as the import goes on). Then it imports the same file again and
reports that run's time and that it added 0 rows. The load average is printed too: the machine may
be shared, and figures taken under load are slower than the code is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ["generation_id=id", "created_at=timestamp", "instruction=prompt", "output=completion"]
RENAME = {"generation_id": "id", "created_at": "timestamp", "instruction": "prompt", "output": "completion"}
MALFORMED_EVERY = 100  # one line in 100 is broken on purpose, the kinds in turn


def base_records(n_rows: int, days: int, seed: int) -> list[dict]:
    from curation_dagster.sample_data import generate_sample_data

    gens, _ = generate_sample_data(n_rows=n_rows, days=days, seed=seed)
    out = []
    for rec in gens.to_dict("records"):
        rec = {RENAME.get(k, k): v for k, v in rec.items()}
        rec["timestamp"] = rec["timestamp"].to_pydatetime()
        rec["rating"] = None if rec["rating"] is None or rec["rating"] != rec["rating"] else int(rec["rating"])
        out.append(rec)
    return out


def _body(rec: dict) -> str:
    """The record's JSON without id and timestamp and without the opening brace (they are prepended per copy)."""
    rest = {k: v for k, v in rec.items() if k not in ("id", "timestamp")}
    try:
        text = json.dumps(rest, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # the sample data's lone-surrogate noise: keep it as a JSON escape
        text = json.dumps(rest)
    return text[1:]


def write_file(path: Path, size_bytes: int, records: list[dict], span_days: int) -> dict:
    """Stream copies of `records` into `path` until it holds `size_bytes`; returns line counts."""
    bodies = [_body(r) for r in records]
    no_output = []
    for r in records:
        rest = {k: v for k, v in r.items() if k not in ("id", "timestamp", "completion")}
        no_output.append(json.dumps(rest, ensure_ascii=True)[1:])
    written = lines = malformed = 0
    rep = 0
    with open(path, "wb", buffering=1 << 20) as f:
        while written < size_bytes:
            shift = timedelta(days=span_days * rep)
            for i, rec in enumerate(records):
                head = (f'{{"id": "{rec["id"]}-r{rep}", '
                        f'"timestamp": "{(rec["timestamp"] + shift).isoformat()}", ')
                if lines % MALFORMED_EVERY == MALFORMED_EVERY - 1:
                    kind = (lines // MALFORMED_EVERY) % 3
                    if kind == 0:  # broken JSON: cut mid-record
                        line = (head + bodies[i])[: len(head) + len(bodies[i]) // 2].encode("utf-8") + b"\n"
                    elif kind == 1:  # invalid UTF-8 bytes inside a string
                        enc = (head + bodies[i]).encode("utf-8")
                        cut = enc.index(b'"prompt": "') + 11
                        line = enc[:cut] + b"\xff\xfe\xc3(" + enc[cut:] + b"\n"
                    else:  # valid JSON, no output
                        line = (head + no_output[i]).encode("utf-8") + b"\n"
                    malformed += 1
                else:
                    line = (head + bodies[i]).encode("utf-8") + b"\n"
                f.write(line)
                written += len(line)
                lines += 1
                if written >= size_bytes:
                    break
            rep += 1
    return {"bytes": written, "lines": lines, "malformed_on_purpose": malformed, "copies": rep}


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_import(cli: Path, path: Path, warehouse: Path, log: Path) -> dict:
    """Run `curation import` and return wall time, exit code, peak RSS (wait4) and its RSS over time."""
    cmd = [str(cli), "import", str(path), "--warehouse", str(warehouse)]
    for m in MAP:
        cmd += ["--map", m]
    samples: list[tuple[float, float]] = []
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                rss = _rss_mb(proc.pid)
                if rss is not None:
                    samples.append((time.perf_counter() - t0, rss))

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"read ([\d,]+) records, imported ([\d,]+), already present ([\d,]+), quarantined ([\d,]+)", text)
    nums = [int(x.replace(",", "")) for x in m.groups()] if m else [None] * 4
    return {"rc": proc.returncode, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "samples": samples,
            "read": nums[0], "imported": nums[1], "already_present": nums[2], "quarantined": nums[3],
            "output": text}


def rss_profile(samples: list[tuple[float, float]]) -> str:
    if not samples:
        return "n/a"
    picks = [samples[min(int(len(samples) * q), len(samples) - 1)] for q in (0.1, 0.25, 0.5, 0.75, 0.99)]
    return ", ".join(f"{t:.0f}s {rss:.0f} MB" for t, rss in picks)


def table_counts(warehouse: Path) -> tuple[int, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM generations").fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM import_quarantine").fetchone()[0]
    return rows, quarantined


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=1024, help="size of the generated JSONL file (default 1024)")
    ap.add_argument("--path", type=Path, help="where to write the JSONL file (default: a temp dir)")
    ap.add_argument("--base-rows", type=int, default=20_000, help="distinct generated records repeated (20,000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (file and warehouse)")
    ap.add_argument("--skip-reimport", action="store_true")
    args = ap.parse_args()

    cli = ROOT / ".venv" / "bin" / "curation"
    if not cli.exists():
        sys.exit(f"{cli} not found: run ./scripts/demo.sh or ./scripts/test.sh to set up .venv")
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    path = args.path or work / "generations.jsonl"
    warehouse = work / "wh.duckdb"
    print(f"load average before: {load()}", flush=True)
    try:
        t0 = time.perf_counter()
        span = 14
        records = base_records(args.base_rows, span, args.seed)
        info = write_file(path, int(args.size_mb * 1024 * 1024), records, span)
        del records
        print(f"generated {path}: {info['bytes'] / 2**20:,.1f} MB, {info['lines']:,} lines "
              f"({info['copies']} copies of {args.base_rows:,} records, {info['malformed_on_purpose']:,} malformed "
              f"on purpose) in {time.perf_counter() - t0:.1f}s", flush=True)

        first = run_import(cli, path, warehouse, work / "import1.log")
        rows, quarantined = table_counts(warehouse)
        mb = info["bytes"] / 2**20
        print(f"\nimport (rc {first['rc']}):\n"
              f"  file size       {mb:,.1f} MB\n"
              f"  records read    {first['read']:,}\n"
              f"  imported        {first['imported']:,}  (table now {rows:,} rows)\n"
              f"  quarantined     {first['quarantined']:,}  (import_quarantine {quarantined:,} rows)\n"
              f"  wall            {first['wall_s']:,.1f} s\n"
              f"  records/s       {first['read'] / first['wall_s']:,.0f}\n"
              f"  MB/s            {mb / first['wall_s']:,.2f}\n"
              f"  peak RSS        {first['peak_rss_mb']:,.0f} MB\n"
              f"  RSS over time   {rss_profile(first['samples'])}\n"
              f"  load average    {load()}", flush=True)
        if first["rc"] != 0:
            print(first["output"][-3000:])
        if not args.skip_reimport:
            second = run_import(cli, path, warehouse, work / "import2.log")
            rows2, _ = table_counts(warehouse)
            print(f"\nre-import of the same file (rc {second['rc']}):\n"
                  f"  wall            {second['wall_s']:,.1f} s ({second['read'] / second['wall_s']:,.0f} records/s)\n"
                  f"  rows added      {second['imported']:,} (table {rows:,} -> {rows2:,}; "
                  f"already present {second['already_present']:,})\n"
                  f"  peak RSS        {second['peak_rss_mb']:,.0f} MB\n"
                  f"  RSS over time   {rss_profile(second['samples'])}\n"
                  f"  load average    {load()}", flush=True)
        print(f"\nwarehouse file {warehouse.stat().st_size / 2**20:,.0f} MB")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            if args.path and path.exists() and not args.keep:
                path.unlink()


if __name__ == "__main__":
    main()
