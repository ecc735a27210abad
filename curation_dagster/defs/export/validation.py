"""Validation of an exported dataset's bytes: run before they are published (a failure keeps the last
good export on disk) and again on the published files by the `finetuning_dataset_valid` check."""

import hashlib
from pathlib import Path

import dagster as dg
import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from curation_dagster.defs.checks import ERROR, gx_check
from curation_dagster.lib.export import jsonl_lines, read_jsonl_strict, turn_duplicates
from curation_dagster.lib.files import state_path, write_atomic
from curation_dagster.lib.line_checks import check_lines
from curation_dagster.lib.splits import SPLITS, split_problems
from curation_dagster.lib.tokens import DEFAULT_TOKENIZER

CHECK_NAME = "finetuning_dataset_valid"
DESCRIPTION = (
    "[ERROR] Every line of train.jsonl, validation.jsonl (and test.jsonl) is valid chat JSON with roles "
    "in order (system?, user, assistant) and a non-empty assistant message; each example is under "
    "`max_tokens_per_example` tokens (packaged MiniLM tokenizer); the splits are disjoint and no split "
    "group (same normalised prompt or source_group) is on two of them; no email, phone, card number, IBAN "
    "or secret-carrying URL appears (lib/pii.py, the detector the filter uses); no two examples are exact "
    "or near duplicates (normalised text; word 3-shingle Jaccard >= 0.7 on the user and assistant "
    "messages; derived rows, provenance `derivation`, are near copies of their source by design and not compared); manifest.json's sha256, its rows per split and its split_grouping block match the files."
)


def line_frame(files: dict[str, bytes], provenance: list[dict], tokenizer: str = DEFAULT_TOKENIZER,
               dataset_dir: Path | None = None) -> pd.DataFrame:
    """One row per JSONL line: what is wrong with it (problem, pii, duplicate) and its tokens.
    `dataset_dir`: the published folder whose state files (state_path) keep what the last validation
    found in each line (lib.line_checks, by the line's bytes) and each example's MinHash signature and
    near pairs (lib.export.chat_duplicates): only new lines are parsed and scanned."""
    cache = (lambda what: state_path(dataset_dir, what)) if dataset_dir is not None else (lambda what: None)
    ids = {(p["split"], p["line"]): p["generation_id"] for p in provenance}
    splits, numbers, lines = [], [], []
    for split in SPLITS:
        for i, line in enumerate(jsonl_lines(files.get(f"{split}.jsonl", b"").decode("utf-8")), 1):
            splits.append(split)
            numbers.append(i)
            lines.append(line)
    checks = check_lines(lines, tokenizer, cache("line_checks.parquet"))
    df = pd.DataFrame({"split": pd.Series(splits, dtype=object), "line": pd.Series(numbers, dtype="int64"),
                       "generation_id": pd.Series([ids.get((s, n), f"<unknown {s}:{n}>") for s, n in zip(splits, numbers)],
                                                  dtype=object),
                       "problem": pd.Series(checks.problem, dtype=object), "pii": pd.Series(checks.pii, dtype=object)})
    places = [f"{s}:{n}" for s, n in zip(splits, numbers)]
    # keyed by generation id (when the provenance names each line once), so the near pairs kept beside the
    # signatures (lib.export.chat_duplicates) are those of the build, not of line numbers that shift
    ids_here = df["generation_id"].tolist()
    keys = ids_here if len(set(ids_here)) == len(ids_here) else places
    place_of = dict(zip(keys, places))
    derived = {(p["split"], p["line"]) for p in provenance if p.get("derivation")}  # lib.variants: near copies by design
    hits = {h.generation_id: h for h in turn_duplicates(keys, checks.users, checks.replies,
                                                        exempt=[(s, n) in derived for s, n in zip(splits, numbers)],
                                                        signature_cache=cache("chat_signatures.npz"))}
    df["duplicate"] = pd.Series([f"{hits[k].kind} of {place_of[hits[k].duplicate_of]}" if k in hits else None
                                 for k in keys], dtype=object)
    df["tokens"] = pd.Series(checks.tokens, dtype="int64")
    return df


def _lines_key(files: dict[str, bytes], tokenizer: str, run_id: str) -> str:
    h = hashlib.sha256(f"{run_id}\x1f{tokenizer}".encode())
    # what line_frame reads (the gate's files carry manifest.json too, the check's do not)
    for name in sorted(n for n in files if n == "provenance.jsonl" or n in {f"{s}.jsonl" for s in SPLITS}):
        h.update(f"\x1f{name}\x1f{hashlib.sha256(files[name]).hexdigest()}".encode())
    return h.hexdigest()


def _read_lines(memo: Path, key: str) -> pd.DataFrame | None:
    try:
        table = pq.read_table(memo)
    except (OSError, ValueError, pa.ArrowException):
        return None
    if (table.schema.metadata or {}).get(b"key") != key.encode():
        return None
    return table.to_pandas()


def _write_lines(memo: Path, key: str, lines: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(lines, preserve_index=False)
    write_atomic(memo, lambda tmp: pq.write_table(table.replace_schema_metadata({"key": key}), tmp))


def validated_lines(files: dict[str, bytes], provenance: list[dict], tokenizer: str = DEFAULT_TOKENIZER,
                    dataset_dir: Path | None = None, run_id: str | None = None) -> pd.DataFrame:
    """line_frame, kept in the state file validated_lines.parquet under the run and the sha256 of the
    files it reads: the check that follows the export's gate in the same run reads the same bytes back
    from disk, and the line checks (JSON, roles, PII, duplicates, tokens: half a minute at 50,000
    lines) would give the same answer. Another run, or a byte changed, validates every line again."""
    memo = state_path(dataset_dir, "validated_lines.parquet") if dataset_dir is not None else None
    key = _lines_key(files, tokenizer, run_id) if memo is not None and run_id else None
    lines = _read_lines(memo, key) if key else None
    if lines is None:
        lines = line_frame(files, provenance, tokenizer, dataset_dir)
        if key:
            _write_lines(memo, key, lines)
    return lines


def dataset_suites(files: dict[str, bytes], manifest: dict, max_tokens: int, tokenizer: str = DEFAULT_TOKENIZER,
                   dataset_dir: Path | None = None, run_id: str | None = None) -> list[tuple[pd.DataFrame, list]]:
    provenance, provenance_problems = read_jsonl_strict("provenance.jsonl", files.get("provenance.jsonl", b"").decode())
    lines = validated_lines(files, provenance, tokenizer, dataset_dir, run_id)
    split_lines = {s: int((lines["split"] == s).sum()) for s in SPLITS if f"{s}.jsonl" in files}
    hashes = pd.DataFrame([
        {"file": name, "matches": name in files and hashlib.sha256(files[name]).hexdigest() == meta["sha256"]}
        for name, meta in manifest.get("files", {}).items()
    ] or [{"file": "<none listed>", "matches": False}])
    return [
        (lines, [
            gxe.ExpectTableRowCountToEqual(value=int(manifest.get("rows", {}).get("total", -1))),
            gxe.ExpectColumnValuesToBeNull(column="problem"),
            gxe.ExpectColumnValuesToBeNull(column="pii"),
            gxe.ExpectColumnValuesToBeNull(column="duplicate"),
            gxe.ExpectColumnValuesToBeBetween(column="tokens", min_value=1, max_value=max_tokens),
            gxe.ExpectColumnValuesToBeUnique(column="generation_id"),
        ]),
        (hashes, [gxe.ExpectColumnValuesToBeInSet(column="matches", value_set=[True])]),
        (pd.DataFrame({"split_problem": split_problems(provenance, split_lines, manifest) or [None]}, dtype=object),
         [gxe.ExpectColumnValuesToBeNull(column="split_problem")]),
        (pd.DataFrame({"provenance_problem": provenance_problems[:20] or [None]}, dtype=object),
         [gxe.ExpectColumnValuesToBeNull(column="provenance_problem")]),
    ]


def validate_dataset(files: dict[str, bytes], manifest: dict, max_tokens: int, tokenizer: str = DEFAULT_TOKENIZER,
                     dataset_dir: Path | None = None, run_id: str | None = None) -> dg.AssetCheckResult:
    """The blocking check's verdict on these files. `dataset_dir`: the published folder whose state
    files keep what the last validation found of unchanged examples (token counts, PII, MinHash
    signatures: each example is scanned once) and, with `run_id`, this run's line checks of the same
    bytes (validated_lines)."""
    return gx_check(dataset_suites(files, manifest, max_tokens, tokenizer, dataset_dir, run_id),
                    CHECK_NAME, "finetuning_dataset", ERROR,
                    extra={"rows": manifest.get("rows", {}).get("total", 0), "max_tokens_per_example": max_tokens})
