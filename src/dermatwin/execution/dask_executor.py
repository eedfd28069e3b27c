"""Dask: a ``dask.distributed`` cluster (``--scheduler ADDRESS``) or a local one.

Failed tasks are retried by Dask itself (``retries=``), including tasks whose worker was
lost. Tasks are submitted with ``pure=False`` so that a duplicate of a straggler really
runs again instead of being merged with the original by key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dermatwin.execution.base import ExecutionError, Executor

#: seconds to wait for a scheduler before giving up
CONNECT_TIMEOUT_S = 10


class DaskExecutor(Executor):
    """Connects to ``scheduler`` or starts a LocalCluster of ``workers`` processes."""

    name = "dask"
    native_retries = True

    def __init__(
        self, scheduler: str | None = None, workers: int | None = None, *, retries: int = 2
    ) -> None:
        super().__init__(retries=retries)
        if workers is not None and workers < 1:
            raise ExecutionError(f"--workers must be >= 1, got {workers}")
        from distributed import Client, LocalCluster

        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError, ValueError, TypeError) as err:
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ExecutionError(
                    f"--scheduler: cannot connect to {scheduler!r} ({reason}); give a running "
                    "scheduler's address such as tcp://host:8786, or leave it out for a local "
                    "cluster"
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # one core per worker: numba's own threads on top would oversubscribe
                env={"NUMBA_NUM_THREADS": "1"},
            )
            self.client = Client(self._cluster)

    @property
    def workers(self) -> int:
        info = self.client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        return self.client.submit(fn, *args, retries=self.retries, pure=False)

    def wait_first(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        from distributed import wait

        futures = list(futures)
        try:
            done, _ = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return {f for f in futures if f.done()}
        return set(done)

    def shutdown(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
