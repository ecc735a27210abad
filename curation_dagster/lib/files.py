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
