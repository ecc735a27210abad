"""Deliver the published fine-tuning dataset in the formats teams ask for: SQLite, CSV, Parquet, ShareGPT JSONL or OpenAI chat JSONL
(EXPORT_FORMATS: one `@export_format` writer each, below; add one there, plus its test).

The source is what `finetuning_dataset` published: `train.jsonl`, `validation.jsonl` (`test.jsonl`
too when the export has a test split), `provenance.jsonl` and `manifest.json` in
`<export_dir>/finetuning_dataset/`. Every file is checked against its sha256 in the manifest first,
so what is delivered is exactly what was validated and published. One row per example: its split
and line, `generation_id`, `messages` (the JSON text of the line's messages list) and the provenance
fields (cluster, template, quality score), plus `created_at` of the generation when the pipeline's
DuckDB storage is given.

Outputs are written to a temp path beside the target and renamed into place, so a failed export
never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from curation_dagster.lib.export import jsonl_bytes, jsonl_lines
from curation_dagster.lib.files import tmp_beside, write_atomic
from curation_dagster.lib.formats import record_of
from curation_dagster.lib.registry import Registry, first_doc_line
from curation_dagster.lib.splits import published_splits

#: files every published dataset has (test.jsonl too when its manifest lists it)
DATASET_FILES = ("train.jsonl", "validation.jsonl", "provenance.jsonl")
COLUMNS = ("split", "line", "generation_id", "cluster_id", "cluster_name", "template_id", "quality_score",
           "messages", "created_at")
DEFAULT_NAME = "finetuning_dataset"



@dataclass(frozen=True)
class ExportFormat:
    """How `curation export --format NAME` writes the published dataset. With a `suffix`, one file:
    `write(tmp_path, examples, manifest, data)` writes it (then fsynced and renamed onto the target;
    `out` a directory gets `finetuning_dataset<suffix>`). Without one, a directory:
    `write(out_dir, examples, manifest, data)` writes its files itself (atomically) and returns them.
    `examples`: one row per example (COLUMNS); `data`: the published files' bytes by name."""

    name: str
    write: Callable
    suffix: str | None = None


#: name -> format, in registration order (`@export_format` below)
EXPORT_FORMATS: Registry[ExportFormat] = Registry("export format")


def export_format(name: str, description: str = "", *, suffix: str | None = None):
    """Register the decorated writer as export format `name` (see ExportFormat)."""
    def register(write):
        EXPORT_FORMATS.add(name, ExportFormat(name, write, suffix), description or first_doc_line(write))
        return write

    return register


EXAMPLES_DDL = """
CREATE TABLE examples (
    split TEXT NOT NULL,
    line INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    cluster_id INTEGER,
    cluster_name TEXT,
    template_id TEXT,
    quality_score REAL,
    messages TEXT NOT NULL,
    created_at TEXT,
    PRIMARY KEY (split, line)
)
"""


def dataset_dir(export_dir: Path) -> Path:
    """The published dataset folder: `export_dir` itself when it holds a manifest, else its
    `finetuning_dataset` folder."""
    export_dir = Path(export_dir)
    if (export_dir / "manifest.json").is_file():
        return export_dir
    return export_dir / DEFAULT_NAME


def load_published(export_dir: Path) -> tuple[dict, dict[str, bytes], pd.DataFrame]:
    """(manifest, the split files' bytes, one row per example), after checking every file's sha256
    against the manifest. ValueError names what is missing or does not match."""
    src = dataset_dir(export_dir)
    if not (src / "manifest.json").is_file():
        raise ValueError(f"no published dataset in {src}: materialize finetuning_dataset first")
    try:
        manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{src / 'manifest.json'} is not valid JSON: {exc}") from None
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict):
        raise ValueError(f"{src / 'manifest.json'} has no files section with sha256 sums")
    data: dict[str, bytes] = {}
    for name in dict.fromkeys(DATASET_FILES + tuple(f"{s}.jsonl" for s in published_splits(listed))):
        if name not in listed or not isinstance(listed[name], dict) or "sha256" not in listed[name]:
            raise ValueError(f"{src / 'manifest.json'} lists no sha256 for {name}")
        path = src / name
        if not path.is_file():
            raise ValueError(f"{path} is missing (listed in the manifest): the published dataset is incomplete")
        data[name] = path.read_bytes()
        digest = hashlib.sha256(data[name]).hexdigest()
        if digest != listed[name]["sha256"]:
            raise ValueError(f"{path} does not match its sha256 in the manifest (file {digest[:12]}…, "
                             f"manifest {str(listed[name]['sha256'])[:12]}…): it changed after publishing")
    examples = _examples(src, data, manifest)
    return manifest, data, examples


def _lines(name: str, data: bytes) -> list[dict]:
    out = []
    for no, raw in enumerate(jsonl_lines(data.decode("utf-8")), 1):
        if raw.strip():
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{name} line {no} is not valid JSON: {exc.msg}") from None
    return out


def _examples(src: Path, data: dict[str, bytes], manifest: dict) -> pd.DataFrame:
    prov = {(p["split"], int(p["line"])): p for p in _lines("provenance.jsonl", data["provenance.jsonl"])}
    rows = []
    for split in published_splits(data):
        records = _lines(f"{split}.jsonl", data[f"{split}.jsonl"])
        expected = (manifest.get("rows") or {}).get(split)
        if expected is not None and expected != len(records):
            raise ValueError(f"{src / f'{split}.jsonl'} has {len(records)} lines, the manifest says {expected}")
        for line, rec in enumerate(records, 1):
            p = prov.pop((split, line), None)
            if p is None:
                raise ValueError(f"{src / 'provenance.jsonl'} has no entry for {split} line {line}")
            if not isinstance(rec, dict) or not isinstance(rec.get("messages"), list):
                raise ValueError(f"{src / f'{split}.jsonl'} line {line} has no messages list")
            rows.append({
                "split": split, "line": line, "generation_id": p["generation_id"],
                "cluster_id": None if p.get("cluster_id") is None else int(p["cluster_id"]),
                "cluster_name": p.get("cluster_name"), "template_id": p.get("template_id"),
                "quality_score": None if p.get("quality_score") is None else float(p["quality_score"]),
                # the same text as the warehouse table's `messages` column
                "messages": json.dumps(rec["messages"], ensure_ascii=False),
                "created_at": None,
            })
    if prov:
        extra = sorted(prov)[:3]
        raise ValueError(f"{src / 'provenance.jsonl'} has {len(prov)} entries for lines the split files do not "
                         f"have, e.g. {extra}")
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df["line"] = df["line"].astype("int64")
    df["cluster_id"] = df["cluster_id"].astype("Int64")
    df["quality_score"] = df["quality_score"].astype("float64")
    for col in ("split", "generation_id", "cluster_name", "template_id", "messages", "created_at"):
        df[col] = df[col].astype(object)
    return df


def _created_at_from_storage(df: pd.DataFrame, storage_path: Path) -> dict:
    """Fill `created_at` from the `finetuning_dataset` table in the pipeline's DuckDB storage, when it can
    be read; says what it found (the files stay the source of truth)."""
    storage_path = Path(storage_path)
    info: dict = {"path": str(storage_path)}
    if not storage_path.is_file():
        return info | {"note": "no such file; created_at left empty"}
    import duckdb

    try:
        with duckdb.connect(str(storage_path), read_only=True) as con:
            table = con.execute(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'finetuning_dataset' "
                "ORDER BY table_schema = 'curation' DESC LIMIT 1").fetchall()
            if not table:
                return info | {"note": "no finetuning_dataset table; created_at left empty"}
            stored = con.execute(
                f'SELECT generation_id, strftime(created_at, \'%Y-%m-%dT%H:%M:%S.%f\') AS created_at '
                f'FROM "{table[0][0]}".finetuning_dataset').df()
    except duckdb.Error as exc:
        return info | {"note": f"cannot read it ({type(exc).__name__}: {str(exc)[:200]}); created_at left empty"}
    when = dict(zip(stored["generation_id"], stored["created_at"]))
    df["created_at"] = [when.get(g) for g in df["generation_id"]]
    matched = int(df["created_at"].notna().sum())
    info |= {"matched": matched, "missing": len(df) - matched,
             "table_rows": len(stored), "in_table_only": len(set(when) - set(df["generation_id"]))}
    if info["missing"] or info["in_table_only"]:
        info["note"] = "the table differs from the published files (materialize finetuning_dataset again)"
    return info


def _manifest_rows(manifest: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Flatten the manifest into (dotted key, value) rows; lists become JSON text."""
    rows: list[tuple[str, object]] = []
    for key in sorted(manifest):
        value, name = manifest[key], f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _manifest_rows(value, name + ".")
        elif isinstance(value, (list, dict)):
            rows.append((name, json.dumps(value, ensure_ascii=False)))
        elif isinstance(value, bool):
            rows.append((name, int(value)))
        else:
            rows.append((name, value))
    return rows


@export_format("sqlite", suffix=".sqlite")
def _export_sqlite(tmp: Path, df: pd.DataFrame, manifest: dict, data: dict) -> None:
    """one SQLite file: tables examples (indexed on generation_id and split) and manifest (dotted key / value rows)"""
    _write_sqlite(tmp, df, manifest)


def _write_sqlite(tmp: Path, df: pd.DataFrame, manifest: dict) -> None:
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.execute(EXAMPLES_DDL)
            records = [tuple(None if pd.isna(v) else (int(v) if c in ("line", "cluster_id") else v)
                             for c, v in zip(COLUMNS, row))
                       for row in df[list(COLUMNS)].itertuples(index=False, name=None)]
            con.executemany(f"INSERT INTO examples ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                            records)
            con.execute("CREATE INDEX examples_generation_id ON examples (generation_id)")
            con.execute("CREATE INDEX examples_split ON examples (split)")
            con.execute("CREATE TABLE manifest (key TEXT PRIMARY KEY, value)")
            con.executemany("INSERT INTO manifest (key, value) VALUES (?, ?)", _manifest_rows(manifest))
    finally:
        con.close()


def _write_parquet(tmp: Path, df: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("split", pa.string()), ("line", pa.int64()), ("generation_id", pa.string()),
                        ("cluster_id", pa.int64()), ("cluster_name", pa.string()), ("template_id", pa.string()),
                        ("quality_score", pa.float64()), ("messages", pa.string()), ("created_at", pa.string())])
    table = pa.Table.from_pandas(df[list(COLUMNS)], schema=schema, preserve_index=False)
    pq.write_table(table, tmp)


@export_format("csv", suffix=".csv")
def _export_csv(tmp: Path, df: pd.DataFrame, manifest: dict, data: dict) -> None:
    """one CSV file, one row per example, messages as JSON text"""
    df[list(COLUMNS)].to_csv(tmp, index=False, encoding="utf-8")


@export_format("parquet", suffix=".parquet")
def _export_parquet(tmp: Path, df: pd.DataFrame, manifest: dict, data: dict) -> None:
    """one Parquet file, one row per example, messages as JSON text"""
    _write_parquet(tmp, df)


@export_format("sharegpt", suffix=".sharegpt.jsonl")
def _export_sharegpt(tmp: Path, df: pd.DataFrame, manifest: dict, data: dict) -> None:
    """one ShareGPT JSONL file (Axolotl, LLaMA-Factory): {"id", "split", "conversations": [{"from", "value"}]}"""
    # the import side's own writer, so `curation import` reads this file back to the same messages
    records = [record_of(json.loads(r.messages), "sharegpt", {"id": r.generation_id, "split": r.split})
               for r in df.itertuples(index=False)]
    tmp.write_bytes(jsonl_bytes(records))


@export_format("jsonl")
def _export_jsonl(out: Path, df: pd.DataFrame, manifest: dict, data: dict) -> list[Path]:
    """a directory with train.jsonl, validation.jsonl (test.jsonl when published), byte-identical to the published ones"""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file: jsonl export writes one JSONL file per split into a directory")
    out.mkdir(parents=True, exist_ok=True)
    splits = published_splits(data)
    tmps = {}
    try:
        for split in splits:  # all complete on disk before any is renamed into place
            tmps[split] = tmp_beside(out / f"{split}.jsonl")
            with open(tmps[split], "wb") as f:
                f.write(data[f"{split}.jsonl"])
                f.flush()
                os.fsync(f.fileno())
        for split in splits:
            os.replace(tmps[split], out / f"{split}.jsonl")
    finally:
        for tmp in tmps.values():
            with suppress(FileNotFoundError):
                tmp.unlink()
    return [out / f"{s}.jsonl" for s in splits]


#: the registered names and the one-file formats' suffixes (what the CLI and the README list)
FORMATS = tuple(EXPORT_FORMATS)
SUFFIX = {f.name: f.suffix for f in EXPORT_FORMATS.values() if f.suffix}


def _target_file(out: Path, fmt: str) -> Path:
    return out / f"{DEFAULT_NAME}{EXPORT_FORMATS[fmt].suffix}" if out.is_dir() else out


def export_dataset(export_dir: Path, out: Path, fmt: str, storage_path: Path | None = None) -> dict:
    """Write the published dataset in `export_dir` (or its `finetuning_dataset` folder) to `out` as
    `fmt`, after checking every file against the manifest's sha256.

    - `sqlite`: one file, tables `examples` (indexed on generation_id and split) and `manifest`
      (dotted key / value rows); `csv` and `parquet`: one row per example, `messages` as JSON text.
      `out` is the file (or a directory, which then gets `finetuning_dataset.<ext>`).
    - `jsonl`: `out` is a directory that gets `train.jsonl` and `validation.jsonl` (and `test.jsonl`
      when published), byte-identical to the published ones.

    `storage_path` (the pipeline's DuckDB storage) fills `created_at` from its `finetuning_dataset`
    table when given; without it the column is empty. Returns a summary: format, out, rows per split.
    Raises ValueError when there is no published dataset, a file does not match the manifest, or the
    format is unknown. The formats are EXPORT_FORMATS (`@export_format` writers in this module).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    writer = EXPORT_FORMATS[fmt]
    manifest, data, df = load_published(Path(export_dir))
    out = Path(out)
    summary: dict = {"format": fmt, "source": str(dataset_dir(Path(export_dir))),
                     "dataset": manifest.get("dataset"), "manifest_created_at": manifest.get("created_at")}
    if storage_path is not None:
        summary["storage"] = _created_at_from_storage(df, Path(storage_path))
    if writer.suffix is None:
        files = writer.write(out, df, manifest, data)
        summary["out"] = str(out)
        summary["files"] = [str(f) for f in files]
    else:
        target = _target_file(out, fmt)
        write_atomic(target, lambda tmp: writer.write(tmp, df, manifest, data))
        summary["out"] = str(target)
        summary["files"] = [str(target)]
    counts = df["split"].value_counts().to_dict()
    summary["rows"] = {s: int(counts.get(s, 0)) for s in published_splits(data)} | {"total": len(df)}
    return summary
