"""Crash-safe files: write to a temporary name, fsync, rename, fsync the folder.

A reader (or a run resumed after a crash) sees the whole file or none of it. Files get
the usual permissions (``0o666`` less the umask), like any file the user creates:
``tempfile.mkstemp`` would make every output owner-only (0600), so reports could not be
shared.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # only an annotation: importing this module loads no pandas
    import pandas as pd


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new, empty, hidden file beside ``folder / name`` opened for writing: its
    descriptor and path. Created with ``O_EXCL`` (never an existing file) and mode
    ``0o666`` filtered by the umask, as ``open()`` would."""
    for _ in range(100):
        tmp = Path(folder) / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    raise FileExistsError(f"no free temporary name beside {Path(folder) / name}")


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """``text`` (UTF-8) at ``path``, atomically."""
    return write_atomic(path, lambda fh: fh.write(text.encode("utf-8")))


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as Parquet at ``path``, atomically."""
    return write_atomic(path, lambda fh: frame.to_parquet(fh, index=False))
