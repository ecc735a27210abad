"""Real data through the project: a ShareGPT V3 dump imported and curated with the CLI, and the filter
rules scored against hand labels (and, for comparison, against the sample generator's labels).

    .venv/bin/python benchmarks/real_data.py --limit 400 --days 2          # import + whole graph on 400 conversations
    .venv/bin/python benchmarks/real_data.py --skip-graph                  # full dump: import + rule scoring only
    .venv/bin/python benchmarks/real_data.py /tmp/real/dev.json --config curation.yaml --workdir /tmp/rd
    /work/shared/tools/real-conversations /tmp/real/dev.json             # writes the dump (ShareGPT V3, dev half)

What it does:
1. Copies the first --limit conversations of the dump with a `created_at` per conversation (spread
   evenly over --days days ending yesterday, UTC: `curation import` reads created_at from a ShareGPT
   record like any other column), then runs `curation import` on the copy in a subprocess with
   CURATION_DATA_DIR=<workdir>/data and DAGSTER_HOME=<workdir>/dagster_home, and reports rows read /
   imported / quarantined, quarantine reasons read from the warehouse's import_quarantine table.
2. Unless --skip-graph: runs `curation run --from FIRST --to LAST` in a subprocess (timed, peak RSS
   of the child from wait4's rusage), parses its per-partition / per-job seconds and asset checks,
   then reads `curation stats --json`, the pipeline DuckDB file (read-only), the export manifest and
   the Dagster run storage (seconds per step). `curation run` has no --config option: the settings
   file reaches it through CURATION_CONFIG. Without --config the script writes
   <workdir>/curation.yaml with the filter settings real imported data needs (known_templates: [],
   require_identity: false, require_generator_version: false), the same ones the scoring uses; pass
   --builtin-defaults to run with the built-in defaults instead.
3. Scores every rule of lib/rules.RULES (low_quality left out: ShareGPT has no usage signals) on the
   hand-labelled sample (benchmarks/labels/, see its README) without the graph: keep rows kept,
   recall per reject reason, false rejections per rule, overall catch rate; once on the labelled
   pair alone (what the labels judge) and once with the earlier turns from the dump as input_message
   (what the graph sees).
4. Scores the rules on the sample generator's labels (benchmarks/rule_scores.py's core, one seed).
5. Prints a report and writes every figure to <workdir>/real_data.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CURATION = str(BIN / "curation") if (BIN / "curation").exists() else str(REPO / ".venv" / "bin" / "curation")
DEFAULT_DUMP = "/tmp/real/dev.json"
DEFAULT_LABELS = REPO / "benchmarks" / "labels" / "sharegpt_dev_labels.jsonl"
#: what real imported data needs (no identity, no generator version, template "general" only)
REAL_DATA_FILTER = {"known_templates": [], "require_identity": False, "require_generator_version": False}
KEEP_TARGET, RECALL_TARGET = 0.95, 0.95
#: environment variables that would send the children's files somewhere else than the workdir
PATH_VARS = ("CURATION_WAREHOUSE_PATH", "CURATION_STORAGE_PATH", "CURATION_EXPORT_DIR", "CURATION_START_DATE",
             "CURATION_CONFIG", "DAGSTER_DEPLOYMENT", "CURATION_SOURCE_TABLE")


def out(line: str = "") -> None:
    print(line, flush=True)


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def ratio(a: int, b: int) -> float | None:
    return a / b if b else None


# ------------------------------------------------------------------------------------------------
# subprocesses
# ------------------------------------------------------------------------------------------------


def child_env(workdir: Path, config: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PATH_VARS}
    env["CURATION_DATA_DIR"] = str(workdir / "data")
    env["DAGSTER_HOME"] = str(workdir / "dagster_home")
    env["CURATION_CONFIG"] = str(config) if config else "none"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_child(cmd: list[str], env: dict, cwd: Path, log: Path, echo: bool = True,
              timeout: float | None = None) -> dict:
    """Run `cmd`, echo its output (stdout and stderr merged) indented, keep it in `log`; returns rc,
    seconds, the output and the child's own peak RSS (wait4 rusage, MiB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace", bufsize=1)
    lines: list[str] = []
    killed = []
    if timeout:
        timer = threading.Timer(timeout, lambda: (killed.append(True), p.kill()))
        timer.daemon = True
        timer.start()
    with open(log, "w", encoding="utf-8") as f:
        for raw in p.stdout:
            for line in raw.rstrip("\n").split("\r"):
                if not line.strip() or line.startswith(("Importing ", "Converting ")):
                    continue  # progress bar
                lines.append(line)
                f.write(line + "\n")
                if echo:
                    out("    | " + line)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if timeout:
        timer.cancel()
    return {"cmd": cmd, "rc": p.returncode, "seconds": round(time.perf_counter() - t0, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "output": "\n".join(lines), "log": str(log),
            "killed_by_timeout": bool(killed)}


# ------------------------------------------------------------------------------------------------
# 1. import
# ------------------------------------------------------------------------------------------------


def spread_days(n_days: int, end: str | None) -> list[str]:
    last = (datetime.strptime(end, "%Y-%m-%d") if end
            else datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=1))
    return [(last - timedelta(days=n_days - 1 - i)).strftime("%Y-%m-%d") for i in range(n_days)]


def write_dated_copy(conversations: list, days: list[str], path: Path) -> dict[str, int]:
    """The conversations with a created_at each: day i*D//N, evenly spaced seconds within the day."""
    n, d = len(conversations), len(days)
    per_day = Counter(i * d // n for i in range(n))
    seen: Counter = Counter()
    counts: dict[str, int] = {}
    dated = []
    for i, rec in enumerate(conversations):
        k = i * d // n
        second = seen[k] * 86_400 // max(per_day[k], 1)
        seen[k] += 1
        stamp = f"{days[k]}T{second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}"
        counts[days[k]] = counts.get(days[k], 0) + 1
        dated.append({**rec, "created_at": stamp} if isinstance(rec, dict) else rec)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dated, f, ensure_ascii=False)
    return counts


_IMPORT_RE = re.compile(r"read ([\d,]+) records, imported ([\d,]+), already present ([\d,]+), "
                        r"quarantined ([\d,]+) \(([\d,]+) records/s\)")
_REPAIR_RE = re.compile(r"leading assistant turns dropped in ([\d,]+), same-role turns merged in ([\d,]+), "
                        r"blank turns dropped in ([\d,]+)")
_SPAN_RE = re.compile(r"`curation run --from (\S+) --to (\S+)`")


def _int(s: str) -> int:
    return int(s.replace(",", ""))


def reason_class(reason: str) -> str:
    """A quarantine reason without its particulars (numbers, roles, quoted values)."""
    head = re.split(r": |\(", reason, maxsplit=1)[0].strip()
    return re.sub(r"\d[\d,.]*", "N", head)


def import_figures(res: dict, warehouse: Path, source: Path) -> dict:
    text = res["output"]
    fig: dict = {"rc": res["rc"], "seconds": res["seconds"], "peak_rss_mib": res["peak_rss_mib"]}
    m = _IMPORT_RE.search(text)
    if m:
        fig.update(read=_int(m[1]), imported=_int(m[2]), already_present=_int(m[3]), quarantined=_int(m[4]),
                   records_per_s=_int(m[5]))
    m = _REPAIR_RE.search(text)
    if m:
        fig["repaired"] = {"leading_assistant_dropped": _int(m[1]), "same_role_merged": _int(m[2]),
                           "blank_turns_dropped": _int(m[3])}
    m = _SPAN_RE.search(text)
    if m:
        fig["suggested_range"] = [m[1], m[2]]
    try:
        import duckdb

        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute("SELECT reason, line FROM import_quarantine WHERE source = ? ORDER BY line",
                               [str(source.resolve())]).fetchall()
            fig["warehouse_rows"] = con.execute("SELECT count(*) FROM generations").fetchone()[0]
        by_class: Counter = Counter(reason_class(r) for r, _ in rows)
        example = {}
        for r, line in rows:
            example.setdefault(reason_class(r), f"line {line}: {r[:160]}")
        fig["quarantine_by_reason"] = dict(by_class.most_common())
        fig["quarantine_examples"] = example
    except Exception as exc:  # noqa: BLE001
        fig["quarantine_error"] = f"{type(exc).__name__}: {exc}"
    return fig


# ------------------------------------------------------------------------------------------------
# 2. the graph
# ------------------------------------------------------------------------------------------------

_PART_RE = re.compile(r"^\s*partition (\S+): (ok|FAILED) \(([\d.]+)s\)")
_FIT_RE = re.compile(r"^\s*topic model \(fit\): (ok|FAILED) \(([\d.]+)s\)")
_POOL_RE = re.compile(r"^\s*pool \(.*\): (ok|FAILED) \(([\d.]+)s\)")
_CHECKS_RE = re.compile(r"^Asset checks: (\d+) of (\d+) passed")
_FAILED_CHECK_RE = re.compile(r"^  (\w+) (\S+) on (.+?): (.*)$")


def parse_run_output(text: str) -> dict:
    fig: dict = {"partitions": {}, "failed_checks": []}
    in_checks = False
    for line in text.splitlines():
        if m := _PART_RE.match(line):
            fig["partitions"][m[1]] = {"status": m[2], "seconds": float(m[3])}
        elif m := _FIT_RE.match(line):
            fig["topic_model_fit"] = {"status": m[1], "seconds": float(m[2])}
        elif m := _POOL_RE.match(line):
            fig["pool_refresh"] = {"status": m[1], "seconds": float(m[2])}
        elif m := _CHECKS_RE.match(line):
            fig["checks_passed"], fig["checks_total"] = int(m[1]), int(m[2])
            in_checks = True
        elif in_checks and (m := _FAILED_CHECK_RE.match(line)):
            fig["failed_checks"].append({"severity": m[1], "check": m[2], "on": m[3], "detail": m[4][:400]})
        elif in_checks and line and not line.startswith("  "):
            in_checks = False
    errors = [ln for ln in text.splitlines() if ln.startswith("Error:")]
    if errors:
        i = text.splitlines().index(errors[0])
        fig["error"] = "\n".join(text.splitlines()[i:i + 6])
    return fig


def storage_figures(storage: Path, export_dir: Path) -> dict:
    import duckdb

    fig: dict = {}
    with duckdb.connect(str(storage), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'curation' ORDER BY table_name").fetchall()]
        count = lambda t: con.execute(f'SELECT count(*) FROM curation."{t}"').fetchone()[0]  # noqa: E731
        fig["table_rows"] = {t: count(t) for t in tables}
        if "raw_generations" in tables:
            fig["rows_in"] = count("raw_generations")
        if "filtered_generations" in tables:
            fig["kept"] = count("filtered_generations")
        if "rejected_generations" in tables:
            fig["rejected"] = count("rejected_generations")
            fig["rejected_by_rule"] = dict(con.execute(
                "SELECT rule, count(*) n FROM curation.rejected_generations GROUP BY rule ORDER BY n DESC").fetchall())
            fired: Counter = Counter()
            for (s,) in con.execute("SELECT rules_fired FROM curation.rejected_generations").fetchall():
                fired.update(r for r in str(s or "").split(",") if r)
            fig["fired_by_rule"] = dict(fired.most_common())
        if "duplicate_generations" in tables:
            fig["pool_duplicates"] = dict(con.execute(
                "SELECT rule, count(*) FROM curation.duplicate_generations GROUP BY rule").fetchall())
        if "generation_clusters" in tables:
            n, clusters, outliers = con.execute(
                "SELECT count(*), count(DISTINCT cluster_id) FILTER (WHERE cluster_id <> -1), "
                "avg(CAST(is_outlier AS DOUBLE)) FROM curation.generation_clusters").fetchone()
            fig.update(clustered_rows=n, clusters=clusters, outlier_share=round(outliers or 0.0, 4))
        if "sampled_examples" in tables:
            fig["sampled"] = count("sampled_examples")
    manifest = export_dir / "finetuning_dataset" / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        fig["export_rows"] = m.get("rows")
    return fig


def step_seconds(dagster_home: Path) -> dict:
    """Seconds per step (asset) from the Dagster run storage, summed over the runs of each job."""
    old = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        from dagster import DagsterInstance

        instance = DagsterInstance.get()
        per: dict = {}
        for rec in instance.get_run_records():
            run = rec.dagster_run
            job = per.setdefault(run.job_name, {"runs": 0, "statuses": Counter(), "steps": {}})
            job["runs"] += 1
            job["statuses"][run.status.value] += 1
            for st in instance.get_run_step_stats(run.run_id):
                if st.start_time and st.end_time:
                    s = job["steps"].setdefault(st.step_key, {"seconds": 0.0, "runs": 0, "failed": 0})
                    s["seconds"] = round(s["seconds"] + st.end_time - st.start_time, 2)
                    s["runs"] += 1
                    s["failed"] += st.status is not None and st.status.value == "FAILURE"
        for job in per.values():
            job["statuses"] = dict(job["statuses"])
        return per
    finally:
        if old is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = old


# ------------------------------------------------------------------------------------------------
# 3. hand labels
# ------------------------------------------------------------------------------------------------


def filter_settings(config: Path | None):
    """The FilterSettings the scoring uses, and where they came from."""
    from curation_dagster.lib.rules import FilterSettings

    if config is None:
        return FilterSettings(known_templates=(), require_identity=False, require_generator_version=False), \
            "built in: FilterSettings(known_templates=(), require_identity=False, require_generator_version=False)"
    os.environ["CURATION_CONFIG"] = str(config)
    try:  # what the graph itself builds: FilterConfig with the file's values as defaults
        from curation_dagster.defs.filtering.config import FilterConfig

        return FilterConfig().to_settings(), f"{config} through defs/filtering/config.FilterConfig"
    except Exception as exc:  # noqa: BLE001
        first_error = f"{type(exc).__name__}: {exc}"
    import dataclasses

    names = {f.name for f in dataclasses.fields(FilterSettings)} - {"quality_weights", "decontamination"}
    try:
        from curation_dagster.lib.settings_file import load_settings, section_values

        values = section_values(load_settings(config), "filter", names)
        how = f"{config} through lib/settings_file (FilterConfig failed: {first_error})"
    except ImportError:
        import yaml

        data = yaml.safe_load(config.read_text()) or {}
        section = {**{k: v for k, v in data.items() if k in ("max_tokens_per_example", "tokenizer")},
                   **(data.get("filter") or {})}
        values = {k: v for k, v in section.items() if k in names}
        how = f"{config} read with PyYAML (FilterConfig failed: {first_error})"
    return FilterSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}), how


def load_labels(labels_path: Path, sample_path: Path) -> list[dict]:
    labels = [json.loads(x) for x in labels_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    sample = {r["id"]: r for r in (json.loads(x) for x in sample_path.read_text(encoding="utf-8").splitlines()
                                   if x.strip())}
    rows = []
    for lab in labels:
        s = sample[lab["id"]]
        reasons = lab.get("reasons") or ([lab["reason"]] if lab.get("reason") else [])
        rows.append({**s, "label": lab["label"], "reasons": reasons, "note": lab.get("note", "")})
    return rows


def history_rows(labelled: list[dict], dump: list) -> tuple[dict[str, dict], dict]:
    """Per labelled id, the contract row `curation import` makes of its conversation in the dump (first
    occurrence), when its instruction and output are the labelled pair."""
    from curation_dagster.lib.importing import ImportSettings, RecordError, to_contract_row

    first: dict[str, dict] = {}
    for rec in dump:
        if isinstance(rec, dict) and rec.get("id") not in first:
            first[rec.get("id")] = rec
    s = ImportSettings(assign_date="2026-12-01")
    found, stats = {}, {"found": 0, "not_in_dump": 0, "pair_differs": 0, "quarantined": 0, "with_history": 0}
    for r in labelled:
        rec = first.get(r["id"])
        if rec is None:
            stats["not_in_dump"] += 1
            continue
        try:
            row = to_contract_row(rec, s, "sharegpt", {})
        except RecordError:
            stats["quarantined"] += 1
            continue
        if row["instruction"] != r["instruction"] or row["output"] != r["output"]:
            stats["pair_differs"] += 1
            continue
        stats["found"] += 1
        stats["with_history"] += row["input_message"] is not None
        found[r["id"]] = row
    return found, stats


def contract_row(r: dict, history: dict | None = None) -> dict:
    import pandas as pd

    row = {"generation_id": r["id"], "created_at": pd.Timestamp("2026-12-01"), "template_id": "general",
           "generator_version": None, "instruction": r["instruction"], "identity": None, "input_message": None,
           "output": r["output"], "copied": None, "sent": None, "edit_ratio": None, "rating": None}
    if history:
        row["input_message"], row["identity"] = history.get("input_message"), history.get("identity")
    return row


def fire_rules(row: dict, settings) -> dict[str, str]:
    from curation_dagster.lib.rules import RULES

    fired = {}
    for name, fn in RULES.items():
        if name == "low_quality":
            continue
        try:
            reason = fn(row, settings)
        except Exception as exc:  # noqa: BLE001  (apply_filters counts a crash as a reason too)
            reason = f"rule raised {type(exc).__name__}: {exc}"[:300]
        if reason:
            fired[name] = reason
    return fired


def score_labels(labelled: list[dict], settings, histories: dict[str, dict] | None = None) -> dict:
    from curation_dagster.lib.rules import RULES

    t0 = time.perf_counter()
    results = []
    for r in labelled:
        fired = fire_rules(contract_row(r, (histories or {}).get(r["id"])), settings)
        results.append((r, fired))
    seconds = time.perf_counter() - t0
    keeps = [(r, f) for r, f in results if r["label"] == "keep"]
    rejects = [(r, f) for r, f in results if r["label"] == "reject"]
    kept = sum(1 for _, f in keeps if not f)
    codes = sorted({c for r, _ in rejects for c in r["reasons"]})
    recall = {}
    for c in codes:
        rows = [(r, f) for r, f in rejects if c in r["reasons"]]
        caught = sum(1 for _, f in rows if c in f)
        recall[c] = {"caught": caught, "labelled": len(rows), "recall": ratio(caught, len(rows)),
                     "rule_exists": c in RULES,
                     "caught_by_another_rule": sum(1 for _, f in rows if f and c not in f),
                     "missed_ids": [r["id"] for r, f in rows if c not in f]}
    false_any: Counter = Counter(n for _, f in keeps for n in f)
    false_first: Counter = Counter(next(iter(f)) for _, f in keeps if f)
    precision = {}
    for name in RULES:
        if name == "low_quality":
            continue
        on = [(r, f) for r, f in results if name in f]
        if on:
            precision[name] = {"fired": len(on), "on_reject_rows": sum(r["label"] == "reject" for r, _ in on),
                               "on_rows_labelled_this_reason": sum(name in r["reasons"] for r, _ in on)}
    caught_any = sum(1 for _, f in rejects if f)
    return {
        "rows": len(results), "seconds": round(seconds, 2),
        "keep_rows": len(keeps), "keep_rows_kept": kept, "keep_share": ratio(kept, len(keeps)),
        "reject_rows": len(rejects), "reject_rows_caught": caught_any, "reject_catch_rate": ratio(caught_any, len(rejects)),
        "recall_by_reason": recall,
        "false_rejections_by_rule_any": dict(false_any.most_common()),
        "false_rejections_by_rule_first": dict(false_first.most_common()),
        "rule_firings": precision,
        "false_rejections": [{"id": r["id"], "rules": f, "note": r["note"]} for r, f in keeps if f],
        "missed_rejects": [{"id": r["id"], "reasons": r["reasons"], "fired": f, "note": r["note"]}
                           for r, f in rejects if not all(c in f for c in r["reasons"])],
    }


def opening_turns(warehouse: Path) -> dict:
    """Over every imported conversation: how many open on an answer they do not hold (instruction_junk's
    opening-turn check: a continuation request as the first of several turns, or a short request naming
    an earlier answer), with the back-references listed for reading (continuation_request itself is scored
    by the labels' instruction_junk cases)."""
    import duckdb

    from curation_dagster.lib.export import conversation_history
    from curation_dagster.lib.rules import continuation_request, opening_request, refers_to_missing_turn

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT generation_id, instruction, input_message FROM generations").df().to_dict("records")
    kinds: Counter = Counter()
    back = []
    for r in rows:
        opener = opening_request(r)
        if opener is None:
            continue
        if continuation_request(opener):
            # a one-turn row's opening turn is its instruction, which the check before this one already judged
            kinds["continuation" if conversation_history(r["input_message"]) is not None else "continuation_one_turn"] += 1
        elif refers_to_missing_turn(opener):
            kinds["back_reference"] += 1
            back.append({"generation_id": r["generation_id"], "opening_turn": " ".join(opener.split())[:160]})
    return {"rows": len(rows), "continuation": kinds["continuation"], "back_reference": kinds["back_reference"],
            "continuation_one_turn": kinds["continuation_one_turn"], "back_references": back}


# ------------------------------------------------------------------------------------------------
# 4. generator labels (benchmarks/rule_scores.py's core, one seed)
# ------------------------------------------------------------------------------------------------


def generator_scores(rows: int, seed: int, days: int = 14) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from rule_scores import score_seed

    gens, elapsed, report = score_seed(rows, days, seed)
    return {"rows": len(gens), "seed": seed, "days": days, "filter_seconds": round(elapsed, 2),
            "rows_per_s": round(len(gens) / elapsed, 1), "rules": report.to_dict("records")}


# ------------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------------


def print_import(fig: dict) -> None:
    out(f"  rows read {fig.get('read', '?'):,}  imported {fig.get('imported', '?'):,}  already present "
        f"{fig.get('already_present', '?'):,}  quarantined {fig.get('quarantined', '?'):,}  "
        f"({fig['seconds']:.1f}s, {fig.get('records_per_s', '?')} records/s, peak RSS {fig['peak_rss_mib']:.0f} MiB, "
        f"rc {fig['rc']})")
    if fig.get("repaired"):
        out("  conversations repaired: " + ", ".join(f"{k}={v:,}" for k, v in fig["repaired"].items()))
    if fig.get("quarantine_by_reason"):
        out("  quarantined by reason:")
        for k, v in fig["quarantine_by_reason"].items():
            out(f"    {v:>6,}  {k}")
            out(f"            e.g. {fig['quarantine_examples'][k]}")
    if fig.get("quarantine_error"):
        out(f"  (import_quarantine not readable: {fig['quarantine_error']})")


def print_graph(g: dict) -> None:
    r = g["run"]
    out(f"  `curation run` rc {r['rc']}  wall {r['seconds']:.1f}s  peak RSS of the child {r['peak_rss_mib']:.0f} MiB "
        f"(RUSAGE_CHILDREN max so far: {g['rusage_children_max_rss_mib']:.0f} MiB)"
        + ("  KILLED by --run-timeout" if r.get("killed_by_timeout") else ""))
    p = g["parsed"]
    for key, v in p["partitions"].items():
        out(f"    partition {key}: {v['status']} {v['seconds']:.1f}s")
    for name in ("topic_model_fit", "pool_refresh"):
        if name in p:
            out(f"    {name}: {p[name]['status']} {p[name]['seconds']:.1f}s")
    if p.get("error"):
        out("  FAILED:\n    " + p["error"].replace("\n", "\n    "))
    if "checks_total" in p:
        out(f"  asset checks: {p['checks_passed']} of {p['checks_total']} passed")
        for c in p["failed_checks"]:
            out(f"    {c['severity']} {c['check']} on {c['on']}: {c['detail'][:200]}")
    s = g.get("storage") or {}
    if g.get("storage_error"):
        out(f"  (pipeline storage not readable: {g['storage_error']})")
    if s:
        out(f"  rows in {s.get('rows_in', 0):,}  kept {s.get('kept', 0):,}  rejected {s.get('rejected', 0):,}"
            f"  ({pct(ratio(s.get('kept', 0), s.get('rows_in', 0)))} kept)")
        if s.get("rejected_by_rule"):
            out("  rejected by (first) rule: " + ", ".join(f"{k}={v}" for k, v in s["rejected_by_rule"].items()))
            out("  fired at all:            " + ", ".join(f"{k}={v}" for k, v in s["fired_by_rule"].items()))
        if "pool_duplicates" in s:
            out("  pool duplicates: " + (", ".join(f"{k}={v}" for k, v in s["pool_duplicates"].items()) or "0"))
        if "clusters" in s:
            out(f"  clusters {s['clusters']}  outlier share {pct(s['outlier_share'])}  (rows clustered "
                f"{s['clustered_rows']:,})")
        out(f"  sampled {s.get('sampled', 'n/a')}  export rows {s.get('export_rows', 'not exported')}")
        missing = [t for t in ("raw_generations", "filtered_generations", "generation_clusters", "sampled_examples",
                               "finetuning_dataset") if t not in s.get("table_rows", {})]
        if missing:
            out("  tables not materialized: " + ", ".join(missing))
    st = g.get("stats_json")
    if isinstance(st, dict) and st.get("empty_pool"):
        out(f"  curation stats: the pool is empty: {st['empty_pool']}")
    if g.get("stats_error"):
        out(f"  curation stats --json failed: {g['stats_error'][:300]}")
    steps = g.get("step_seconds") or {}
    if steps:
        out("  seconds per step (Dagster run storage, summed over runs):")
        for job, v in steps.items():
            out(f"    {job} ({v['runs']} run(s): " + ", ".join(f"{k}={n}" for k, n in v["statuses"].items()) + ")")
            for step, sv in sorted(v["steps"].items(), key=lambda kv: -kv[1]["seconds"]):
                out(f"      {sv['seconds']:>8.1f}s  {step}" + (f"  FAILED x{sv['failed']}" if sv["failed"] else ""))
    elif g.get("step_seconds_error"):
        out(f"  (no per-step seconds: {g['step_seconds_error']})")


def print_scores(title: str, sc: dict) -> None:
    out(f"  {title}: {sc['rows']} rows scored in {sc['seconds']:.1f}s")
    ok = lambda x, t: "ok" if x is not None and x >= t else "BELOW TARGET"  # noqa: E731
    out(f"    keep rows kept: {sc['keep_rows_kept']}/{sc['keep_rows']} = {pct(sc['keep_share'])} "
        f"(target >= {KEEP_TARGET:.0%}: {ok(sc['keep_share'], KEEP_TARGET)})")
    out(f"    reject rows caught by any rule: {sc['reject_rows_caught']}/{sc['reject_rows']} = "
        f"{pct(sc['reject_catch_rate'])}")
    out(f"    recall per reason (rule of the same name fired; target >= {RECALL_TARGET:.0%} each):")
    for c, v in sc["recall_by_reason"].items():
        extra = f", {v['caught_by_another_rule']} more caught by another rule" if v["caught_by_another_rule"] else ""
        out(f"      {c:<22} {v['caught']:>3}/{v['labelled']:<3} = {pct(v['recall']):>6}  "
            f"{ok(v['recall'], RECALL_TARGET)}{extra}" + ("" if v["rule_exists"] else "  (no such rule)"))
    fa, ff = sc["false_rejections_by_rule_any"], sc["false_rejections_by_rule_first"]
    out("    false rejections of keep rows by rule (fired at all / as first rule): "
        + (", ".join(f"{k}={fa[k]}/{ff.get(k, 0)}" for k in fa) or "none"))
    out("    firings per rule (fired / on reject rows / on rows labelled that reason): "
        + ", ".join(f"{k}={v['fired']}/{v['on_reject_rows']}/{v['on_rows_labelled_this_reason']}"
                    for k, v in sc["rule_firings"].items()))


def print_cases(sc: dict) -> None:
    if sc["false_rejections"]:
        out("    false rejections (keep label, a rule fired):")
        for x in sc["false_rejections"]:
            rules = "; ".join(f"{k}: {v[:90]}" for k, v in x["rules"].items())
            out(f"      {x['id']:<14} {rules}")
            out(f"      {'':<14} label note: {x['note'][:150]}")
    if sc["missed_rejects"]:
        out("    rejects not caught by their own rule(s):")
        for x in sc["missed_rejects"]:
            fired = ", ".join(x["fired"]) or "nothing fired"
            out(f"      {x['id']:<14} {'+'.join(x['reasons']):<34} fired: {fired}")
            out(f"      {'':<14} label note: {x['note'][:150]}")


# ------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump", nargs="?", default=DEFAULT_DUMP, help=f"ShareGPT JSON dump (default {DEFAULT_DUMP})")
    ap.add_argument("--limit", type=int, default=None, help="use the first N conversations")
    ap.add_argument("--days", type=int, default=10, help="days (daily partitions) to spread them over")
    ap.add_argument("--end-date", default=None, help="last day (default yesterday, UTC: the last daily partition)")
    ap.add_argument("--config", type=Path, default=None, help="curation.yaml settings file")
    ap.add_argument("--builtin-defaults", action="store_true",
                    help="without --config, run the graph on the built-in defaults instead of the real-data filter settings")
    ap.add_argument("--workdir", type=Path, default=None, help="where data, Dagster home and results go (default: a temp dir)")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="hand labels (JSONL)")
    ap.add_argument("--sample", type=Path, default=None,
                    help="the labelled rows (default: sharegpt_dev_sample.jsonl next to --labels)")
    ap.add_argument("--skip-graph", action="store_true", help="import and filter scoring only: no `curation run`")
    ap.add_argument("--run-timeout", type=float, default=None, help="kill `curation run` after this many seconds")
    ap.add_argument("--gen-rows", type=int, default=3000, help="rows of the generator-label scoring")
    ap.add_argument("--gen-seed", type=int, default=7, help="seed of the generator-label scoring")
    ap.add_argument("--quiet", action="store_true", help="do not echo the CLI's output")
    args = ap.parse_args()

    t_start = time.perf_counter()
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="real_data_"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = args.config.resolve() if args.config else None
    if config and not config.is_file():
        ap.error(f"--config {config}: no such file")
    dump_path = Path(args.dump)
    if not dump_path.is_file():
        ap.error(f"{dump_path}: no such file (write it with /work/shared/tools/real-conversations {dump_path})")
    sample_path = args.sample or args.labels.with_name("sharegpt_dev_sample.jsonl")
    report: dict = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                    "workdir": str(workdir), "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}

    out(f"== Real data benchmark: {dump_path}  (workdir {workdir})")
    dump = json.loads(dump_path.read_text(encoding="utf-8"))
    convs = dump[: args.limit] if args.limit else dump
    days = spread_days(args.days, args.end_date)
    dated = workdir / f"{dump_path.stem}.dated.json"
    per_day = write_dated_copy(convs, days, dated)
    report["input"] = {"dump_conversations": len(dump), "used": len(convs), "days": days, "per_day": per_day,
                       "dated_copy": str(dated)}
    out(f"   {len(convs):,} of {len(dump):,} conversations spread over {len(days)} day(s) {days[0]} .. {days[-1]} "
        f"({min(per_day.values()):,}-{max(per_day.values()):,} a day) -> {dated.name}")

    run_config = config
    if not config and not args.builtin_defaults and not args.skip_graph:
        run_config = workdir / "curation.yaml"
        run_config.write_text("# written by benchmarks/real_data.py: what imported ShareGPT data needs\nfilter:\n"
                              "  known_templates: []\n  require_identity: false\n  require_generator_version: false\n")
    env = child_env(workdir, run_config)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if (REPO / "dagster.yaml").exists() and not (home / "dagster.yaml").exists():
        shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")  # what the CLI does from the repo root
    report["settings_file_for_cli"] = str(run_config) if run_config else None

    # 1. import ------------------------------------------------------------------------------------
    out(f"\n== 1. curation import  (CURATION_DATA_DIR={env['CURATION_DATA_DIR']})")
    res = run_child([CURATION, "import", str(dated)], env, workdir, workdir / "import.log", echo=not args.quiet)
    imp = import_figures(res, Path(env["CURATION_DATA_DIR"]) / "warehouse.duckdb", dated)
    report["import"] = imp
    print_import(imp)

    # 2. graph -------------------------------------------------------------------------------------
    if not args.skip_graph and res["rc"] == 0:
        first, last = imp.get("suggested_range") or (days[0], days[-1])
        help_text = subprocess.run([CURATION, "run", "--help"], env=env, capture_output=True, text=True).stdout
        cmd = [CURATION, "run", "--from", first, "--to", last]
        if config and "--config" in help_text:
            cmd += ["--config", str(config)]
        how = ("--config" if "--config" in cmd else f"CURATION_CONFIG={run_config}" if run_config
               else "built-in defaults")
        out(f"\n== 2. curation run --from {first} --to {last}  (settings: {how})")
        run = run_child(cmd, env, workdir, workdir / "run.log", echo=not args.quiet, timeout=args.run_timeout)
        graph: dict = {"run": {k: v for k, v in run.items() if k != "output"}, "settings": how,
                       "rusage_children_max_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
                       "parsed": parse_run_output(run["output"])}
        st = subprocess.run([CURATION, "stats", "--json"], env=env, cwd=workdir, capture_output=True, text=True)
        try:
            graph["stats_json"] = json.loads(st.stdout)
        except ValueError:
            graph["stats_error"] = (st.stderr or st.stdout).strip()
        try:
            graph["storage"] = storage_figures(Path(env["CURATION_DATA_DIR"]) / "pipeline.duckdb",
                                               Path(env["CURATION_DATA_DIR"]) / "exports")
        except Exception as exc:  # noqa: BLE001
            graph["storage_error"] = f"{type(exc).__name__}: {exc}"
        try:
            graph["step_seconds"] = step_seconds(home)
        except Exception as exc:  # noqa: BLE001
            graph["step_seconds_error"] = f"{type(exc).__name__}: {exc}"
        report["graph"] = graph
        out("")
        print_graph(graph)
    elif not args.skip_graph:
        out("\n== 2. curation run skipped: the import failed")

    if res["rc"] == 0:
        ot = opening_turns(Path(env["CURATION_DATA_DIR"]) / "warehouse.duckdb")
        report["opening_turns"] = ot
        out(f"\n   opening on an answer they do not hold (instruction_junk's opening-turn check, whatever other rules "
            f"say): {ot['continuation'] + ot['back_reference']:,} of {ot['rows']:,} imported conversations: "
            f"{ot['continuation']:,} with earlier turns open on a continuation request, {ot['back_reference']:,} name an "
            f"earlier answer ({ot['continuation_one_turn']:,} one-turn continuation requests the instruction check "
            f"catches besides):")
        for b in ot["back_references"][:20]:
            out(f"      {b['generation_id']}  {b['opening_turn'][:110]}")

    # 3. hand labels -------------------------------------------------------------------------------
    settings, source = filter_settings(config)
    labelled = load_labels(args.labels, sample_path)
    out(f"\n== 3. rules vs hand labels ({args.labels.name}: {len(labelled)} rows, "
        f"{sum(r['label'] == 'keep' for r in labelled)} keep / {sum(r['label'] == 'reject' for r in labelled)} reject)")
    out(f"   filter settings: {source}")
    pair = score_labels(labelled, settings)
    print_scores("labelled pair only (instruction + output, what the labels judge)", pair)
    histories, hstats = history_rows(labelled, dump)
    with_hist = score_labels(labelled, settings, histories)
    out(f"  with the earlier turns from the dump as input_message (what the graph sees): {hstats['found']} rows "
        f"matched in the dump, {hstats['with_history']} with history, {hstats['pair_differs']} whose imported pair "
        f"differs from the sample (scored without history), {hstats['not_in_dump']} not in the dump")
    out(f"    keep rows kept {with_hist['keep_rows_kept']}/{with_hist['keep_rows']} = {pct(with_hist['keep_share'])}, "
        f"reject rows caught {with_hist['reject_rows_caught']}/{with_hist['reject_rows']} = "
        f"{pct(with_hist['reject_catch_rate'])}, false rejections: "
        + (", ".join(f"{k}={v}" for k, v in with_hist["false_rejections_by_rule_any"].items()) or "none"))
    print_cases(pair)
    extra = [x for x in with_hist["false_rejections"] if x["id"] not in {y["id"] for y in pair["false_rejections"]}]
    for x in extra:
        out(f"    with history only: {x['id']} " + "; ".join(f"{k}: {v[:90]}" for k, v in x["rules"].items()))
    report["hand_labels"] = {"settings": source, "pair_only": pair, "with_history": with_hist,
                             "history_match": hstats}

    # 4. generator labels --------------------------------------------------------------------------
    gen = generator_scores(args.gen_rows, args.gen_seed)
    report["generator_labels"] = gen
    out(f"\n== 4. rules vs the sample generator's labels (seed {gen['seed']}, {gen['rows']:,} rows over "
        f"{gen['days']} days, FilterSettings() defaults; filter {gen['rows_per_s']:,.0f} rows/s)")
    out(f"  {'rule':<22} {'rejected':>8} {'labelled':>8} {'precision':>9} {'recall':>7} {'f1':>6}")
    for r in gen["rules"]:
        out(f"  {r['rule']:<22} {r['rejected']:>8} {r['labelled']:>8} {r['precision']:>9.3f} {r['recall']:>7.3f} "
            f"{r['f1']:>6.3f}")

    report["seconds_total"] = round(time.perf_counter() - t_start, 1)
    path = workdir / "real_data.json"
    path.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    out(f"\nAll figures: {path}  ({report['seconds_total']:.0f}s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
