"""Executors for large runs: serial, local processes and Dask, behind one interface.

Work is cut into chunks of patients; every chunk depends only on its seed-defined
patients, so results are bit-identical whatever the executor or the chunk size. See
``docs/scale.md``.

>>> from dermatwin.execution import get_executor
>>> with get_executor("serial") as ex:
...     ex.submit(sum, [1, 2, 3]).result()
6
"""

from dermatwin.execution.base import ExecutionError, Executor
from dermatwin.execution.registry import EXECUTORS, get_executor
from dermatwin.execution.tasks import run_tasks

__all__ = ["EXECUTORS", "ExecutionError", "Executor", "get_executor", "run_tasks"]
