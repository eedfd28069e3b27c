"""What every command of the command line shares: the one-line error path, the claimed
output folder, the ``--overwrite`` option and the disclaimer.

Used by :mod:`dermatwin.cli` and the twin commands (:mod:`dermatwin.twins.cli`), so that
neither imports the other's module for them (no cli <-> twins import cycle). Importing
it loads typer and rich only: ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: F401  (the commands print it)
from dermatwin._base.errors import DermatwinError

err_console = Console(stderr=True)


def fail(message: str) -> None:
    """Print ``error: message`` on stderr (no markup) and exit with code 2."""
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def user_errors():
    """Turn a :class:`~dermatwin.errors.DermatwinError` raised inside into :func:`fail`."""
    try:
        yield
    except DermatwinError as err:
        fail(str(err))


def output_folder(out: Path, command: str, inputs: list[Path | None], overwrite: bool):
    """The claimed output folder of a command (:mod:`dermatwin.io.output_folder`): checked
    and locked on entering, before any work; write into ``folder.staging()``."""
    from dermatwin.io.output_folder import OutputFolder

    inputs = [p for p in inputs if p is not None]
    return OutputFolder(out, command=command, inputs=inputs, overwrite=overwrite)


#: the --overwrite option of every command that writes a folder
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="replace an earlier dermatwin output in --out")
]
