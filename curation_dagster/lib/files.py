"""Writing a file so readers see the old one or the new one, never half of one."""

from __future__ import annotations

import os
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Callable


def tmp_beside(target: Path) -> Path:
    return target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"


def write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp_path), fsync it and rename it onto target; on any failure remove the temp file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_beside(target)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise


def state_path(dataset_dir: Path, what: str) -> Path:
    """Where a stage keeps what it may reuse next time (token counts, diversity instruments, the sampler's
    text view): `<export dir>/state/<dataset or asset>.<what>`, beside the published folder, never inside
    it (a dot folder there is a publish in progress)."""
    return Path(dataset_dir).parent / "state" / f"{Path(dataset_dir).name}.{what}"


def read_keyed(path: Path | None, stamp: str, columns: tuple[str, ...]) -> dict[bytes, tuple]:
    """key -> the row's `columns`, from a Parquet file written by write_keyed with the same `stamp` (what
    the rows depend on besides their key); {} when there is none, it is unreadable or its stamp differs."""
    if path is None:
        return {}
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        if (table.schema.metadata or {}).get(b"stamp") != stamp.encode():
            return {}
        return dict(zip(table.column("key").to_pylist(), zip(*(table.column(c).to_pylist() for c in columns))))
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return {}


def write_keyed(path: Path, stamp: str, rows: dict[bytes, tuple], types: dict[str, object]) -> None:
    """Replace `path` (atomically) with these rows: a 16-byte key each and one value per column of `types`
    (column name -> pyarrow type, in the rows' order), stamped for read_keyed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = list(rows.values())
    table = pa.table({"key": pa.array(list(rows), pa.binary(16)),
                      **{c: pa.array([v[j] for v in values], t) for j, (c, t) in enumerate(types.items())}})
    write_atomic(Path(path), lambda tmp: pq.write_table(table.replace_schema_metadata({"stamp": stamp}), tmp,
                                                        compression="zstd"))
