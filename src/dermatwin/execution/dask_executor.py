"""Dask: a ``dask.distributed`` cluster (``--scheduler ADDRESS``) or a local one.

Failed tasks are retried by Dask itself (``retries=``), including tasks whose worker was
lost; a user error raised by a task is returned as a value instead, so it is not
retried (:func:`~dermatwin.execution.base.call_returning_user_errors`). Tasks are
submitted with ``pure=False`` so that a duplicate of a straggler really runs again
instead of being merged with the original by key.

An unreachable scheduler, or one lost during a run, is a one-line error (the staged
chunks stay: ``--resume`` continues the run).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable
from typing import Any

from dermatwin.execution.base import ExecutionError, Executor, call_returning_user_errors

#: seconds to wait for a scheduler (when connecting, or reconnecting after losing it)
CONNECT_TIMEOUT_S = 5


class DaskExecutor(Executor):
    """Connects to ``scheduler`` or starts a LocalCluster of ``workers`` processes."""

    name = "dask"
    native_retries = True

    def __init__(
        self, scheduler: str | None = None, workers: int | None = None, *, retries: int = 2
    ) -> None:
        super().__init__(retries=retries)
        if workers is not None and workers < 1:
            raise ExecutionError(f"workers: {workers}; allowed: >= 1", parameter="workers")
        from distributed import Client, LocalCluster

        self._cluster = None
        self.scheduler = scheduler
        # a lost scheduler is reported by this executor in one line; distributed's client
        # would also log each broken connection with a traceback
        for name in ("distributed.client", "distributed.comm", "distributed.core"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if scheduler:
            reason = None
            try:
                self.client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except Exception as err:  # noqa: BLE001 - any failure to connect is the address's
                reason = _reason(err)
            if reason is not None:
                # the half-built client sits in a reference cycle; were the collector to
                # finalise it later, inside the next Client's start, its close would wait
                # on the loop lock that start holds (a deadlock seen in the tests):
                # finalise it now, outside any client
                gc.collect()
                raise ExecutionError(
                    f"scheduler {_short(scheduler)}: cannot reach the Dask scheduler "
                    f"({reason}); give a running scheduler's address such as "
                    "tcp://host:8786, or leave it out for a local cluster",
                    parameter="scheduler",
                )
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
        self._check_scheduler()
        return self.client.submit(
            call_returning_user_errors, fn, *args, retries=self.retries, pure=False
        )

    def wait_first(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        from distributed import wait

        futures = list(futures)
        try:
            done, _ = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = {f for f in futures if f.done()}
        except Exception:  # noqa: BLE001 - the connection broke while waiting
            self._check_scheduler(lost=True)
            raise
        # futures are cancelled only by the run itself (and then no longer waited on),
        # or by the client when it lost the scheduler
        if any(f.cancelled() for f in done):
            self._check_scheduler(lost=True)
        return set(done)

    def _check_scheduler(self, lost: bool = False) -> None:
        """A one-line error when the scheduler is gone (the staged chunks are kept)."""
        status = getattr(self.client, "status", "closed")
        if lost or status not in ("running", "connecting"):
            name = "scheduler" if self.scheduler else "executor"
            where = f"scheduler {_short(self.scheduler)}" if self.scheduler else "executor dask"
            raise ExecutionError(
                f"{where}: lost the Dask scheduler during the run (client {status}); start it "
                "again and rerun with resume=True to continue from the chunks already done",
                parameter=name,
            )

    def shutdown(self) -> None:
        if getattr(self, "client", None) is not None:
            try:
                self.client.close(timeout=CONNECT_TIMEOUT_S)
            except Exception:  # noqa: BLE001, S110 - a lost scheduler has nothing to close
                pass
            finally:
                # the client made itself dask's default scheduler; a close that failed
                # (lost scheduler) leaves that setting behind, and later dask work in
                # this process (xarray writes) would ask for a client that is gone
                import dask

                if dask.config.get("scheduler", None) in ("dask.distributed", "distributed"):
                    dask.config.set(scheduler=None)
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return _short(text.splitlines()[0] if text else type(err).__name__, 120)
