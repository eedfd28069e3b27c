"""Executors for large runs: serial, local processes and Dask, behind one interface.

Work is cut into chunks of patients; every chunk depends only on its seed-defined
patients, so results are bit-identical whatever the executor or the chunk size. See
``docs/scale.md``. Public names are imported on first use (:mod:`dermatwin._lazy`).

>>> from dermatwin.execution import get_executor
>>> with get_executor("serial") as ex:
...     ex.submit(sum, [1, 2, 3]).result()
6
"""

from typing import TYPE_CHECKING

from dermatwin._lazy import attach

__all__ = ["EXECUTORS", "ExecutionError", "Executor", "get_executor", "run_tasks"]

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from dermatwin.execution.base import ExecutionError, Executor
    from dermatwin.execution.registry import EXECUTORS, get_executor
    from dermatwin.execution.tasks import run_tasks

__getattr__, __dir__ = attach(
    __name__,
    {
        "dermatwin.execution.base": ["ExecutionError", "Executor"],
        "dermatwin.execution.registry": ["EXECUTORS", "get_executor"],
        "dermatwin.execution.tasks": ["run_tasks"],
    },
)
