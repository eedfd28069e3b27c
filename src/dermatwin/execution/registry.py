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
            f"executor: unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}",
            parameter="executor",
        )
    if scheduler and name != "dask":
        raise ExecutionError(
            f"scheduler: for the dask executor only, not {name!r}", parameter="scheduler"
        )
    if scheduler and workers is not None:
        raise ExecutionError(
            "workers: for local workers only; a scheduler's cluster has its own",
            parameter="workers",
        )
    if name == "serial":
        from dermatwin.execution.serial import SerialExecutor

        if workers not in (None, 1):
            raise ExecutionError(
                f"workers: the serial executor has 1 worker, got {workers}", parameter="workers"
            )
        return SerialExecutor(retries=retries)
    if name == "processes":
        from dermatwin.execution.processes import ProcessExecutor

        return ProcessExecutor(workers, retries=retries)
    from dermatwin.execution.dask_executor import DaskExecutor

    return DaskExecutor(scheduler, workers, retries=retries)
