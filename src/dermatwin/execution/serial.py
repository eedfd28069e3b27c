"""The serial executor: runs each task at submission, in this process."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable
from typing import Any

from dermatwin.execution.base import Executor


class SerialExecutor(Executor):
    """Runs tasks one after the other in the calling process (the reference executor)."""

    name = "serial"

    @property
    def workers(self) -> int:
        return 1

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as err:  # a failing task is the caller's to handle, as in a pool
            future.set_exception(err)
        return future

    def wait_first(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        return {f for f in futures if f.done()}
