"""Background jobs of the web server: a pool of threads, each driving one trial run
(:func:`dermatwin.trials.streaming.run_trial_to` on an executor of
:mod:`dermatwin.execution`: serial, processes or a Dask cluster), twin fit, twin plan or
validation (:mod:`dermatwin.web.tasks`).

The data folder holds ``jobs.sqlite`` (:mod:`dermatwin.web.job_table`), each job's trial
as submitted in ``trials/ID.yaml`` and its output folder ``runs/ID/`` (claimed, staged
and swapped by :mod:`dermatwin.io.output_folder`; an interrupted run stays staged in
``runs/.ID.partial``). A job's files are written before its row is added (a failed
write or a full queue removes them: no row ever names missing files). A job is
cancelled between chunks (the run's chunk hook stops it; its finished chunks stay
staged) and a cancelled or interrupted job is resumed with the run's own ``resume``:
only its missing chunks are computed. A twin fit or plan is
cancelled between sampler steps or regimens, and a resume starts it again (same seed,
same result); a validation job is cancelled only before it starts.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dermatwin._base.errors import DermatwinError
from dermatwin.web.job_table import ACTIVE, RESUMABLE, JobTable, new_job_id
from dermatwin.web.limits import LimitError, Limits, WebError, check_work


class JobCancelled(Exception):
    """Raised by the chunk hook of a job asked to stop."""


class JobRunner:
    """Queue, run, cancel and resume the trial jobs of one data folder."""

    def __init__(
        self,
        data: Path,
        table: JobTable,
        limits: Limits,
        *,
        executor: str = "serial",
        workers: int | None = None,
        scheduler: str | None = None,
        chunk_hook: Callable[[str, str], None] | None = None,
        validation_trials: Path | None = None,
    ) -> None:
        from dermatwin.calibration.targets import EXAMPLE_TRIALS

        self.data, self.table, self.limits = data, table, limits
        #: the trials a validation job may run (their reference rows)
        self.validation_trials = Path(validation_trials or EXAMPLE_TRIALS)
        self.executor, self.workers, self.scheduler = executor, workers, scheduler
        #: called with (job id, chunk id) after each recorded chunk (fault-injection tests)
        self.chunk_hook = chunk_hook
        self._pool = ThreadPoolExecutor(limits.max_running, thread_name_prefix="dermatwin-job")
        self._stop: dict[str, threading.Event] = {}
        self._closing = False
        self._lock = threading.Lock()  # admission: the queue check and the insert are one step
        for job in table.recover():
            self._start(job, resume=False)

    def trial_file(self, job: str) -> Path:
        return self.data / "trials" / f"{job}.yaml"

    def out(self, job: str) -> Path:
        return self.data / "runs" / job

    def submit(self, spec, yaml_text: str) -> str:
        """Queue the validated trial ``spec`` (written as ``yaml_text``); its id."""
        from dermatwin.trials.orchestration import trial_chunks

        patients = sum(spec.arm_sizes().values())
        if patients > self.limits.max_patients:
            raise LimitError(
                f"arms: {patients} patients in all; allowed on this server: up to "
                f"{self.limits.max_patients} per job"
            )
        check_work(spec, patients, self.limits)

        def write(job: str) -> None:
            path = self.trial_file(job)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml_text, encoding="utf-8")

        def remove(job: str) -> None:
            self.trial_file(job).unlink(missing_ok=True)

        return self._queue("trial", spec.name, patients, len(trial_chunks(spec)), write, remove)

    def _queue(
        self,
        kind: str,
        name: str,
        patients: int,
        units: int,
        write: Callable[[str], None],
        remove: Callable[[str], None],
    ) -> str:
        """Write a new job's files (``write(job)``), then add its row and start it; a
        failed write or a full queue removes what was written (``remove(job)``), so a
        refused or failed submission leaves neither a file nor a row. Its id."""
        job = new_job_id()
        try:
            write(job)
            with self._lock:  # admission: the queue check and the insert are one step
                waiting = self.table.count("queued")
                if waiting >= self.limits.max_queued:
                    raise LimitError(
                        f"queue full: {waiting} jobs waiting; allowed: up to "
                        f"{self.limits.max_queued}; try again when one has started"
                    )
                self.table.add(name, patients=patients, chunks=units, kind=kind, job=job)
        except BaseException:
            remove(job)
            raise
        self._start(job, resume=False)
        return job

    def _start(self, job: str, *, resume: bool) -> None:
        self._stop[job] = threading.Event()
        self._pool.submit(self._run, job, resume)

    def cancel(self, job: str) -> None:
        """Stop a queued job now, a running one after its current chunk."""
        if self.table.move(job, "cancelled", when=("queued",), message="cancelled before start"):
            return
        found = self.table.get(job)
        if found is None or found.status != "running":
            raise WebError(f"job {job}: {found.status if found else 'unknown'}; cannot cancel")
        self._stop[job].set()

    def resume(self, job: str) -> None:
        """Queue a cancelled or interrupted job again; its staged chunks are kept."""
        with self._lock:
            if self.table.count("queued") >= self.limits.max_queued:
                raise LimitError(f"queue full; allowed: up to {self.limits.max_queued} waiting")
            if not self.table.move(job, "queued", when=RESUMABLE, message="resuming"):
                found = self.table.get(job)
                status = found.status if found else "unknown"
                raise WebError(
                    f"job {job}: {status}; allowed to resume: {' or '.join(RESUMABLE)} jobs"
                )
        self._start(job, resume=True)

    def submit_task(self, kind: str, name: str, units: int, write: Callable[[str], None]) -> str:
        """Queue a job of ``kind`` (:mod:`dermatwin.web.tasks`) of ``units`` progress units;
        ``write(job)`` stores its request in the job's folder before it can start. Its id."""
        from dermatwin.web.tasks import job_dir

        def remove(job: str) -> None:
            shutil.rmtree(job_dir(self.data, kind, job), ignore_errors=True)

        return self._queue(kind, name, 1, units, write, remove)

    def _run(self, job: str, resume: bool) -> None:
        stop = self._stop[job]
        if stop.is_set() or not self.table.move(job, "running", when=("queued",)):
            return  # cancelled while waiting
        found = self.table.get(job)
        done = found.chunks_done if resume and found.kind == "trial" else 0
        self.table.progress(job, done)

        def advance(chunk: str = "") -> None:
            nonlocal done
            done += 1
            self.table.progress(job, min(done, found.chunks_total))
            if self.chunk_hook is not None:
                self.chunk_hook(job, chunk)
            if stop.is_set():
                raise JobCancelled

        try:
            if found.kind == "trial":
                message = self._run_trial(job, resume, advance)
            else:
                message = self._run_task(found.kind, job, advance)
        except JobCancelled:
            if self._closing:  # the server stops: the run stays staged for a resume
                message = "the server stopped; resume continues it"
                self.table.move(job, "interrupted", message=message)
            else:
                self.table.move(
                    job, "cancelled", message=f"cancelled after {done} of {found.chunks_total}"
                )
        except DermatwinError as err:
            self.table.move(job, "failed", message=str(err).splitlines()[0])
        except Exception as err:  # a bug: the job says so, the server goes on
            self.table.move(job, "failed", message=f"{type(err).__name__}: {err}"[:300])
        else:
            self.table.move(job, "done", message=message)
        # a SystemExit (a test's stand-in for a killed server) leaves the job 'running'

    def _run_trial(self, job: str, resume: bool, advance: Callable[[str], None]) -> str:
        from dermatwin.execution import get_executor
        from dermatwin.trials.spec import load_trial
        from dermatwin.trials.streaming import run_trial_to

        notes: list[str] = []
        spec = load_trial(self.trial_file(job))
        self.out(job).parent.mkdir(parents=True, exist_ok=True)
        with get_executor(self.executor, workers=self.workers, scheduler=self.scheduler) as ex:
            run_trial_to(
                spec,
                self.out(job),
                executor=ex,
                resume=resume,
                progress=False,
                on_chunk=advance,
                inputs=[self.trial_file(job)],
                log=notes.append,
            )
        return "; ".join(notes)[:300]

    def _run_task(self, kind: str, job: str, advance: Callable[[], None]) -> str:
        """A twin fit, plan or validation (no chunks to keep: a resume starts it again)."""
        from dermatwin.web import tasks

        if kind == "twin":
            return tasks.run_twin(self.data, job, advance)
        if kind == "plan":
            return tasks.run_plan(self.data, job, advance)
        return tasks.run_validation(self.data, job, self.validation_trials, advance)

    def running(self) -> list[str]:
        return [j.id for j in self.table.all() if j.status in ACTIVE]

    def shutdown(self, wait: bool = True) -> None:
        """Stop running jobs after their current chunk (they stay resumable)."""
        self._closing = True
        for event in self._stop.values():
            event.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
