"""The executor interface and the task runner: retries, failures, duplicated stragglers."""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading

import pytest

from dermatwin.execution import ExecutionError, Executor, get_executor, run_tasks
from dermatwin.execution.manifest import ChunkManifest


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
        ({"name": "cluster"}, "--executor: unknown executor 'cluster'; allowed: serial, "),
        ({"name": "processes", "workers": 0}, "--workers must be >= 1"),
        ({"name": "serial", "scheduler": "tcp://x:1"}, "--scheduler is for --executor dask"),
        ({"name": "serial", "retries": -1}, "--retries must be >= 0"),
    ],
)
def test_bad_executor_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ExecutionError) as err:
        get_executor(**kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unreachable_scheduler_is_a_one_line_error(monkeypatch):
    from dermatwin.execution import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ExecutionError) as err:
        get_executor("dask", scheduler="tcp://127.0.0.1:9")
    assert str(err.value).startswith("--scheduler: cannot connect to 'tcp://127.0.0.1:9'")
    assert "\n" not in str(err.value)


def test_manifest_ignores_a_torn_record_and_checks_identity(tmp_path):
    m = ChunkManifest.create(tmp_path, {"spec_sha256": "a", "seed": 1})
    m.record("0:00000", "done", patients=3)
    with open(m.path, "a") as fh:
        fh.write('{"chunk": "0:00001", "sta')  # killed while appending
    again = ChunkManifest.resume(tmp_path, {"spec_sha256": "a", "seed": 1})
    assert list(again.done()) == ["0:00000"]
    again.record("0:00001", "done", patients=3)
    assert list(ChunkManifest.resume(tmp_path, {"spec_sha256": "a", "seed": 1}).done()) == [
        "0:00000",
        "0:00001",
    ]
    with pytest.raises(ExecutionError, match="different seed"):
        ChunkManifest.resume(tmp_path, {"spec_sha256": "a", "seed": 2})


def test_progress_bar_counts_and_is_quiet_off_a_terminal(capsys):
    from dermatwin.execution.progress import progress_bar

    with progress_bar("simulation", 10, enabled=True) as advance:
        advance(4)
        advance(6)
    assert "10/10" in capsys.readouterr().err
    with progress_bar("simulation", 10) as advance:  # pytest's output is not a terminal
        advance(10)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def die_once(marker: str, x: int) -> int:
    if x == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)  # the worker process dies: the pool is broken
    return 10 * x


def test_processes_restart_a_broken_pool_and_retry_the_lost_tasks(tmp_path):
    marker = tmp_path / "died"
    results, failures = {}, {}
    with get_executor("processes", workers=2, retries=2) as ex:
        run_tasks(
            ex,
            die_once,
            {k: (str(marker), k) for k in range(4)},
            on_result=results.__setitem__,
            on_failure=failures.__setitem__,
        )
    assert marker.exists()
    assert results == {0: 0, 1: 10, 2: 20, 3: 30} and failures == {}
