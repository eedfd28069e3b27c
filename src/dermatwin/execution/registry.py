"""Pick an executor by name: ``serial``, ``processes`` or ``dask``."""

from __future__ import annotations

from dermatwin.execution.base import ExecutionError, Executor

EXECUTORS = ("serial", "processes", "dask")


def get_executor(
    name: str = "serial",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 2,
) -> Executor:
    """An executor by name; ``workers`` for local pools, ``scheduler`` (address) for Dask.

    >>> with get_executor("serial") as ex:
    ...     ex.submit(pow, 2, 10).result()
    1024
    """
    if name not in EXECUTORS:
        raise ExecutionError(
            f"--executor: unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}"
        )
    if scheduler and name != "dask":
        raise ExecutionError(f"--scheduler is for --executor dask, not {name!r}")
    if scheduler and workers is not None:
        raise ExecutionError("--workers is for local workers; a --scheduler cluster has its own")
    if name == "serial":
        from dermatwin.execution.serial import SerialExecutor

        if workers not in (None, 1):
            raise ExecutionError(f"--workers: the serial executor has 1 worker, got {workers}")
        return SerialExecutor(retries=retries)
    if name == "processes":
        from dermatwin.execution.processes import ProcessExecutor

        return ProcessExecutor(workers, retries=retries)
    from dermatwin.execution.dask_executor import DaskExecutor

    return DaskExecutor(scheduler, workers, retries=retries)
