"""How much the command line says besides its results: ``-q`` / ``-v``.

Level ``-1`` (``-q``) hides progress bars and one-line notices (e.g. "compiling the
solver") and shows only errors in the log; ``0`` (default) shows bars and notices on a
terminal and log warnings; ``1`` (``-v``) adds informational log messages, ``2``
(``-vv``) debug messages. The Python API stays at 0 unless a caller sets it.

>>> set_verbosity(-1); quiet()
True
>>> set_verbosity(0); quiet()
False
"""

from __future__ import annotations

import logging
import sys

_LEVELS = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG}
_state = {"level": 0}
_handler: logging.Handler | None = None


def set_verbosity(level: int) -> None:
    """Set the level (-1 .. 2; larger values count as 2) and the ``dermatwin`` logger's."""
    global _handler
    level = max(-1, min(2, int(level)))
    _state["level"] = level
    logger = logging.getLogger("dermatwin")
    logger.setLevel(_LEVELS[level])
    if level != 0 and _handler is None:
        # a handler of its own, so messages show without configuring the root logger
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("dermatwin: %(levelname)s: %(message)s"))
        logger.addHandler(_handler)
        logger.propagate = False
    elif level == 0 and _handler is not None:
        logger.removeHandler(_handler)
        logger.propagate = True
        _handler = None


def verbosity() -> int:
    return _state["level"]


def quiet() -> bool:
    """True under ``-q``: no progress bars, no notices."""
    return _state["level"] < 0


def notice(line: str) -> None:
    """A one-line notice on stderr (a recomputed chunk, a calibration step), not under
    ``-q``."""
    if not quiet():
        print(line, file=sys.stderr, flush=True)
