"""Crash-safe files: write to a temporary name, fsync, rename, fsync the folder.

A reader (or a run resumed after a crash) sees the whole file or none of it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """``text`` (UTF-8) at ``path``, atomically."""
    return write_atomic(path, lambda fh: fh.write(text.encode("utf-8")))


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as Parquet at ``path``, atomically."""
    return write_atomic(path, lambda fh: frame.to_parquet(fh, index=False))
