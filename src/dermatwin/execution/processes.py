"""Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`).

Workers are spawned (not forked: a fork of a process holding threads or numba state is
unsafe) and load the compiled model once each, through the per-process cache of
:mod:`dermatwin.trials.worker`. A worker that dies breaks the pool; the next
submission starts a fresh pool so that the run can retry the lost tasks.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dermatwin.execution.base import ExecutionError, Executor


def one_numba_thread() -> None:
    """Each worker is one core: numba's own threads on top would oversubscribe them."""
    import numba

    numba.set_num_threads(1)


class ProcessExecutor(Executor):
    """``workers`` local processes (default: the number of CPUs)."""

    name = "processes"

    def __init__(self, workers: int | None = None, *, retries: int = 2) -> None:
        super().__init__(retries=retries)
        if workers is not None and workers < 1:
            raise ExecutionError(f"workers: {workers}; allowed: >= 1", parameter="workers")
        self._workers = workers or os.cpu_count() or 1
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def _start(self) -> cf.ProcessPoolExecutor:
        self._pool = cf.ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=one_numba_thread,
        )
        return self._pool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        pool = self._pool or self._start()
        try:
            return pool.submit(fn, *args)
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            return self._start().submit(fn, *args)

    def wait_first(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
