"""Checks of command-line values, shared by :mod:`dermatwin.cli` and the twin commands.

Each runs while the command line is parsed (a typer callback), so a bad value is one line
``error: Invalid value for '--flag': ...`` (see :func:`dermatwin.cli.main`) before any work.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

#: seeds are 0 .. 2**32 - 1 (numpy's legacy RandomState, used by the twin sampler)
SEED_MAX = 2**32 - 1


def above(low: float):
    """An option callback: the value must be a number > ``low`` (NaN is refused too)."""

    def check(value: float | None) -> float | None:
        if value is not None and not value > low:
            raise typer.BadParameter(f"{value:g}; allowed: a number > {low:g}")
        return value

    return check


def worker_count(value: int | None) -> int | None:
    """An option callback: local worker processes, 1 to
    :func:`~dermatwin.execution.base.max_workers` (4 per CPU)."""
    from dermatwin.execution.base import max_workers

    if value is not None and not 1 <= value <= max_workers():
        raise typer.BadParameter(
            f"{value}; allowed: a whole number from 1 to {max_workers()} (4 per CPU)"
        )
    return value


def input_file(path: Path | None) -> Path | None:
    """An argument callback: an input file exists, is a file and is readable (checked
    while the command line is parsed, so before any work)."""
    if path is None:
        return None
    shown = str(path) if len(str(path)) <= 60 else "..." + str(path)[-57:]
    try:
        if not path.exists():
            raise typer.BadParameter(f"{shown}: no such file")
        if path.is_dir():
            raise typer.BadParameter(f"{shown} is a folder; expected a file")
        if not path.is_file() or not os.access(path, os.R_OK):
            raise typer.BadParameter(f"{shown}: not a readable file")
    except OSError as err:  # e.g. a name too long for the file system
        raise typer.BadParameter(f"{shown}: cannot read ({err.strerror})") from None
    return path


def between(low: float, high: float):
    """An option callback: the value must lie strictly between ``low`` and ``high``."""

    def check(value: float | None) -> float | None:
        if value is not None and not low < value < high:
            raise typer.BadParameter(f"{value:g}; allowed: between {low:g} and {high:g}")
        return value

    return check
