"""What every command of the command line shares: the one-line error path, the claimed
output folder, the ``--overwrite`` option and the disclaimer.

Used by :mod:`dermatwin.cli` and the twin commands (:mod:`dermatwin.twins.cli`), so that
neither imports the other's module for them (no cli <-> twins import cycle). Importing
it loads typer and rich only: ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: F401  (the commands print it)
from dermatwin._base.errors import DermatwinError

try:  # typer runs on its own copy of click (typer._click) since 0.24: its context is that one
    from typer._click.globals import get_current_context
except ImportError:  # an older typer runs on click itself
    from click import get_current_context

err_console = Console(stderr=True)


def fail(message: str) -> None:
    """Print ``error: message`` on stderr (no markup) and exit with code 2."""
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def in_flags(err: DermatwinError, flags: Mapping[str, str] | None = None) -> str:
    """The message of ``err`` as the command line speaks: the library names parameters, the
    command line names flags. A leading ``err.parameter`` becomes its flag (``out x: ...``
    -> ``--out x: ...``), and ``name=True`` of an on/off flag becomes the flag
    (``pass overwrite=True`` -> ``pass --overwrite``). The flags are the options of the
    running command (by parameter name), plus ``flags`` where a library parameter has
    another name (``{"path": "--out"}``); a name that is no option stays as it is.

    >>> app = typer.Typer()
    >>> @app.command()
    ... def run(out: str = "", overwrite: bool = typer.Option(False, "--overwrite")): ...
    >>> err = DermatwinError("out x: exists; pass overwrite=True to replace it", parameter="out")
    >>> with typer.Context(typer.main.get_command(app)):
    ...     in_flags(err)
    '--out x: exists; pass --overwrite to replace it'
    >>> in_flags(err)  # no running command: the library's words
    'out x: exists; pass overwrite=True to replace it'
    """
    text = str(err)
    ctx = get_current_context(silent=True)
    options = [p for p in ctx.command.params if p.param_type_name == "option"] if ctx else []
    named = {p.name: max(p.opts, key=len) for p in options}
    named.update(flags or {})
    name = err.parameter
    if name in named and re.match(rf"{re.escape(name)}\b", text):
        text = named[name] + text[len(name) :]
    switches = {p.name: max(p.opts, key=len) for p in options if p.is_flag}
    return re.sub(r"\b(\w+)=True\b", lambda m: switches.get(m[1], m[0]), text)


@contextmanager
def user_errors(flags: Mapping[str, str] | None = None):
    """Turn a :class:`~dermatwin.errors.DermatwinError` raised inside into :func:`fail`,
    its message worded in flags (:func:`in_flags`; ``flags``: library parameter -> flag
    where the names differ)."""
    try:
        yield
    except DermatwinError as err:
        fail(in_flags(err, flags))


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
