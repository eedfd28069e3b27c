"""The executor interface and the task runner: retries, failures, duplicated stragglers."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import pytest

from dermatwin.errors import DermatwinError
from dermatwin.execution import ExecutionError, Executor, get_executor, run_tasks


class ThreadExecutor(Executor):
    """Threads stand in for workers: fast enough to test timing behaviour."""

    name = "threads"

    def __init__(self, retries: int = 2) -> None:
        super().__init__(retries=retries)
        self.pool = cf.ThreadPoolExecutor(4)

    @property
    def workers(self) -> int:
        return 4

    def submit(self, fn, /, *args):
        return self.pool.submit(fn, *args)

    def wait_first(self, futures, timeout):
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def test_serial_executor_runs_and_reports_each_task():
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += 1
        if x == 3 and calls["n"] < 5:
            raise RuntimeError("transient")
        if x == 4:
            raise ValueError("always")
        return x * x

    results, failures = {}, {}
    with get_executor("serial", retries=2) as ex:
        run_tasks(
            ex,
            flaky,
            {k: (k,) for k in range(6)},
            on_result=results.__setitem__,
            on_failure=failures.__setitem__,
        )
    assert results == {0: 0, 1: 1, 2: 4, 3: 9, 5: 25}
    assert list(failures) == [4] and "always" in str(failures[4])


def test_a_straggler_is_duplicated_and_the_first_copy_wins():
    lock, starts = threading.Lock(), {}
    release, stuck_done = threading.Event(), threading.Event()

    def task(k):
        with lock:
            starts[k] = starts.get(k, 0) + 1
            first = starts[k] == 1
        if k == 1 and first:
            release.wait(60)  # a stuck worker: only the duplicate can finish
            stuck_done.set()
            return -1  # would show if the stuck copy's result were taken
        return k

    results = {}
    with ThreadExecutor() as ex:
        run_tasks(
            ex,
            task,
            {k: (k,) for k in range(3)},
            on_result=results.__setitem__,
            on_failure=lambda k, e: pytest.fail(str(e)),
            timeout=0.3,
        )
        returned_before_the_stuck_copy = not stuck_done.is_set()
        release.set()
    assert results == {0: 0, 1: 1, 2: 2}
    assert starts[1] == 2 and returned_before_the_stuck_copy


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cluster"}, "executor: unknown executor 'cluster'; allowed: serial, "),
        ({"name": "processes", "workers": 0}, "workers: 0; allowed: >= 1"),
        ({"name": "serial", "scheduler": "tcp://x:1"}, "scheduler: for the dask executor only"),
        ({"name": "serial", "retries": -1}, "retries: -1; allowed: >= 0"),
    ],
)
def test_bad_executor_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ExecutionError) as err:
        get_executor(**kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    # the command line puts the flag in place of the parameter (dermatwin.cli_common.in_flags)
    assert err.value.parameter == message.split(":")[0]


def test_unreachable_scheduler_is_a_one_line_error(monkeypatch):
    from dermatwin.execution import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    for address in ("tcp://127.0.0.1:1", "tcp://127.0.0.1:notaport", "nonsense://x"):
        with pytest.raises(ExecutionError) as err:
            get_executor("dask", scheduler=address)
        assert str(err.value).startswith(f"scheduler {address}: cannot reach the Dask scheduler")
        assert "\n" not in str(err.value)


class Misconfigured(DermatwinError):
    pass


def fails_as_user_error(counter: str, x: int) -> int:
    """A task that counts its calls in a file (workers may be other processes)."""
    with open(counter, "a") as fh:
        fh.write(".")
    if x == 2:
        raise Misconfigured("visit_every: must be > 0, got 0")
    return x


@pytest.mark.parametrize("name", ["serial", "dask"])
def test_a_user_error_in_a_task_is_not_retried_and_stops_the_run(tmp_path, name):
    counter = tmp_path / "calls"
    kwargs = {"workers": 1} if name == "dask" else {}
    results, failures = {}, {}
    with get_executor(name, retries=2, **kwargs) as ex, pytest.raises(Misconfigured) as err:
        run_tasks(
            ex,
            fails_as_user_error,
            {k: (str(counter), k) for k in [2]},
            on_result=results.__setitem__,
            on_failure=failures.__setitem__,
        )
    assert str(err.value) == "visit_every: must be > 0, got 0"
    assert counter.read_text() == "."  # one attempt: retrying cannot help
    assert failures == {}


def test_a_scheduler_lost_during_a_run_is_a_one_line_error(monkeypatch, capfd):
    import time

    from distributed import LocalCluster

    from dermatwin.execution import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    ex = get_executor("dask", scheduler=cluster.scheduler_address)
    try:
        future = ex.submit(time.sleep, 3)
        cluster.sync(cluster.scheduler.close)  # the scheduler goes away mid-run
        with pytest.raises(ExecutionError) as err:
            for _ in range(30):
                ex.wait_first([future], 1.0)
        message = str(err.value)
        assert message.startswith(f"scheduler {cluster.scheduler_address}: lost the Dask")
        assert "rerun with resume=True" in message and "\n" not in message
    finally:
        ex.shutdown()
        cluster.close()
    assert "Traceback" not in capfd.readouterr().err  # distributed's own logs stay quiet
