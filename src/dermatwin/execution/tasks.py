"""Run many keyed tasks on an executor: bounded in flight, retries, duplicated stragglers.

Each task is ``fn(*args)`` under a key. Results are handed to ``on_result`` as they
arrive (so the caller can stream them to disk and keep memory bounded); a task that still
fails after its retries goes to ``on_failure`` and the others go on. A task running
longer than ``timeout`` seconds gets one duplicate; whichever copy finishes first wins
(tasks are deterministic, so either result is the same). A user error
(:class:`~dermatwin.errors.DermatwinError`) raised by a task is not retried: it would fail
again, so it stops the run and reaches the user as its one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dermatwin._base.errors import DermatwinError
from dermatwin.execution.base import Executor, UserErrorResult


@dataclass
class _Slot:
    futures: list = field(default_factory=list)
    started: float = 0.0
    attempts: int = 0
    duplicated: bool = False


def run_tasks(
    executor: Executor,
    fn: Callable[..., Any],
    tasks: Mapping[Hashable, tuple],
    *,
    on_result: Callable[[Hashable, Any], None],
    on_failure: Callable[[Hashable, BaseException], None],
    timeout: float | None = None,
    max_in_flight: int | None = None,
) -> None:
    """Run ``fn(*tasks[key])`` for every key (see the module docstring).

    ``timeout`` (s): a task not done after this long is submitted once more.
    ``max_in_flight``: tasks submitted at once (default: twice the workers), which bounds
    the results waiting in memory.
    """
    pending = list(tasks)
    pending.reverse()  # pop() from the end keeps the submission order of ``tasks``
    limit = max_in_flight or 2 * executor.workers
    slots: dict[Hashable, _Slot] = {}
    owner: dict[Any, Hashable] = {}

    def start(key: Hashable, slot: _Slot) -> None:
        future = executor.submit(fn, *tasks[key])
        slot.futures.append(future)
        owner[future] = key

    try:
        while pending or slots:
            while pending and len(slots) < limit:
                key = pending.pop()
                slots[key] = _Slot(started=time.monotonic(), attempts=1)
                start(key, slots[key])
            wait_for = None
            if timeout is not None:
                ages = [time.monotonic() - s.started for s in slots.values() if not s.duplicated]
                wait_for = max(0.0, timeout - max(ages)) if ages else None
            done = executor.wait_first(list(owner), wait_for)
            for future in done:
                key = owner.pop(future, None)
                if key is None or key not in slots:
                    continue  # the other copy of a duplicated task already won
                slot = slots[key]
                slot.futures.remove(future)
                error = future.exception()
                if isinstance(error, DermatwinError):
                    raise error
                if error is None:
                    result = future.result()
                    if isinstance(result, UserErrorResult):
                        raise result.error
                    _drop(slot, owner)
                    del slots[key]
                    on_result(key, result)
                elif slot.futures:
                    continue  # its duplicate may still succeed
                elif not executor.native_retries and slot.attempts <= executor.retries:
                    slot.attempts += 1
                    slot.started = time.monotonic()
                    start(key, slot)
                else:
                    del slots[key]
                    on_failure(key, error)
            if timeout is not None:
                now = time.monotonic()
                for key, slot in slots.items():
                    if not slot.duplicated and now - slot.started > timeout:
                        slot.duplicated = True
                        start(key, slot)
    finally:
        for slot in slots.values():
            _drop(slot, owner)


def _drop(slot: _Slot, owner: dict) -> None:
    for other in slot.futures:
        other.cancel()
        owner.pop(other, None)
    slot.futures.clear()
