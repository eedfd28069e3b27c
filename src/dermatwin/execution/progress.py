"""Progress bars (rich) for long runs: items done, rate, time left.

Shown only on an interactive terminal: silent under ``--json`` and ``-q``, in pipes, logs
and tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dermatwin._base.verbosity import quiet


def interactive() -> bool:
    """A terminal on stdout and stderr, and no ``-q``."""
    return sys.stdout.isatty() and sys.stderr.isatty() and not quiet()


@contextmanager
def progress_bar(
    description: str, total: int, *, unit: str = "patients", enabled: bool | None = None
) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(k)``; draws a bar on stderr when ``enabled`` (default: a terminal)
    and not under ``-q``."""
    if quiet() or not (interactive() if enabled is None else enabled):
        yield lambda k: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(k: int) -> None:
            bar.advance(task, k)
            speed = bar.tasks[task].speed
            bar.update(task, rate=f"{speed:,.0f} {unit}/s" if speed else "")

        yield advance
