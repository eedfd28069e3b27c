"""The executor interface: submit a function, get a future, wait for the first to finish.

In the spirit of :mod:`concurrent.futures`: every executor returns futures with
``done()``, ``result()``, ``exception()`` and ``cancel()``; :meth:`Executor.wait_first`
hides the one difference between engines (how to wait on several futures at once).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from dermatwin._base.errors import DermatwinError


class ExecutionError(DermatwinError):
    """An executor cannot be created or a run cannot go on (one-line message)."""


#: local worker processes allowed per CPU: more only queue for the same cores and cost
#: each its start-up (imports, the model) and memory
WORKERS_PER_CPU = 4


def max_workers() -> int:
    """The most local worker processes a command accepts: :data:`WORKERS_PER_CPU` per CPU.

    >>> max_workers() >= WORKERS_PER_CPU
    True
    """
    return WORKERS_PER_CPU * (os.cpu_count() or 1)


class UserErrorResult:
    """A user error raised by a task, returned as its value so that an engine that retries
    failures itself (Dask) does not run a task again that can only fail the same way."""

    def __init__(self, error: DermatwinError) -> None:
        self.error = error


def call_returning_user_errors(fn: Callable[..., Any], /, *args: Any) -> Any:
    """``fn(*args)``, or a :class:`UserErrorResult` holding the user error it raised."""
    try:
        return fn(*args)
    except DermatwinError as err:
        return UserErrorResult(err)


class Executor(ABC):
    """Runs tasks; use as a context manager so workers are always shut down."""

    #: name used on the command line
    name: str = ""
    #: True when the engine itself retries failed tasks (Dask's ``retries=``)
    native_retries: bool = False

    def __init__(self, *, retries: int = 2) -> None:
        if retries < 0:
            raise ExecutionError(f"retries: {retries}; allowed: >= 0", parameter="retries")
        self.retries = retries

    @property
    @abstractmethod
    def workers(self) -> int:
        """Tasks that can run at the same time."""

    @abstractmethod
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """Start ``fn(*args)``; returns a future."""

    @abstractmethod
    def wait_first(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        """The futures that are done, waiting until at least one is or ``timeout`` s pass."""

    def shutdown(self) -> None:  # noqa: B027 - executors without resources need nothing
        """Release workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
