"""Independent calibration runs (grid points, placebo curve points, validation reruns)
spread over local worker processes.

Each run is a deterministic function of its arguments (its trial spec and seed fix its
virtual patients), so the results are bit-identical for any number of workers: the list
comes back in the order of the arguments. The workers are spawned processes
(:class:`~dermatwin.execution.processes.ProcessExecutor`, one numba thread each) that keep
their imports and the model they built (and the kernel they loaded) between runs, so a
caller with several batches (:func:`dermatwin.calibration.posterior.calibrate_posterior`:
two grids and a check per step, 13 steps) opens one pool for all of them and each worker
starts once.

A user error raised in a worker (a :class:`~dermatwin.errors.CalibrationError`, say) comes
back as itself, one line; a run that fails otherwise is tried again (a lost worker
restarts the pool) and then stops the batch with a one-line :class:`CalibrationError`.

>>> with worker_pool(1) as pool:  # one worker: the runs stay in this process
...     run_each(pow, [(2, 3), (3, 2)], pool)
[8, 9]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dermatwin.execution.base import Executor, max_workers
from dermatwin.params.parameter_set import CalibrationError


def check_workers(workers: int) -> int:
    """``workers`` if it is a whole number from 1 to
    :func:`~dermatwin.execution.base.max_workers`; else a one-line error naming it."""
    limit = max_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= limit:
        raise CalibrationError(
            f"workers: {workers!r}; allowed: a whole number from 1 to {limit} (4 per CPU)",
            parameter="workers",
        )
    return workers


@contextmanager
def worker_pool(workers: int | Executor = 1) -> Iterator[Executor | None]:
    """None for one worker (the runs stay in this process); ``workers`` spawned processes,
    shut down on exit; an open executor as it is (its owner shuts it down)."""
    if isinstance(workers, Executor):
        yield workers
        return
    if check_workers(workers) == 1:
        yield None
        return
    from dermatwin.execution.processes import ProcessExecutor

    with ProcessExecutor(workers) as pool:
        yield pool


def run_each(
    fn: Callable[..., Any],
    args: Sequence[tuple],
    pool: Executor | None,
    advance: Callable[[int], None] | None = None,
) -> list:
    """``[fn(*a) for a in args]``: in this process without a ``pool``, else on its workers
    (``fn`` and the arguments must pickle). ``advance(1)`` after each run (a progress bar)."""
    step = advance or (lambda k: None)
    if pool is None:
        out = []
        for a in args:
            out.append(fn(*a))
            step(1)
        return out
    from dermatwin.execution.tasks import run_tasks

    done: dict[int, Any] = {}

    def keep(key: int, result: Any) -> None:
        done[key] = result
        step(1)

    def failed(key: int, error: BaseException) -> None:
        text = str(error).strip().splitlines()
        raise CalibrationError(
            f"run {key + 1} of {len(args)} failed in a worker process after "
            f"{pool.retries} retries ({type(error).__name__}: {text[0] if text else ''})"
        )

    run_tasks(pool, fn, dict(enumerate(args)), on_result=keep, on_failure=failed)
    return [done[k] for k in range(len(args))]
