"""Large virtual trials: chunks on any executor, streamed to Parquet, resumable.

A run has two phases, both split into tasks for an executor
(:mod:`dermatwin.execution`):

1. **Population.** Candidate blocks (up to ``chunk_size`` candidates each, seeded by
   candidate index) are screened in parallel; the arm's patients are the first ``n``
   accepted candidates in candidate order, so the population does not depend on the
   split. Each screened block (accepted candidates with their steady states) is written
   to ``population/arm=ARM/block-*.parquet`` as it arrives.
2. **Simulation.** Chunks of ``chunk_size`` patients get their candidate indices and
   steady states from those blocks, redraw parameters from the seeds, are simulated,
   and are written as they finish to ``endpoints/arm=ARM/chunk-NNNNN.parquet`` and
   ``trajectories/arm=ARM/chunk-NNNNN.parquet`` (temporary name, fsync, rename), then
   recorded in ``chunks.jsonl`` (:class:`~dermatwin.execution.manifest.ChunkManifest`).

Every record lists its files' SHA-256 and size; on resume a damaged chunk is computed
again and an arm with a damaged population file is screened again (one line each on
stderr, or to ``log``), and the results still equal an uninterrupted run's.

A paired trial (``paired: true``) screens one population for every arm, in
``population/shared/``; each arm takes its first ``n`` patients.

The run is :func:`dermatwin.trials.orchestration.orchestrate` with the Parquet result
store :class:`ParquetStore`, as the in-memory run is with its memory store. The summary
is computed from the endpoint table (one row per patient); trajectories are never all
held in memory. The run is staged in ``.OUT.partial`` beside ``OUT`` and swapped
into place when complete (:mod:`dermatwin.io.output_folder`: claimed and locked for the
whole run); an interrupted run is continued with ``resume=True``, and a run without it
discards the interrupted one (saying so in one line). Only a ``.OUT.partial`` that
dermatwin made (a real folder holding its token file) is ever resumed or deleted: any
other file, folder or link of that name is a one-line error, before any work.

Usage::

    from dermatwin.execution import get_executor
    with get_executor("processes", workers=2) as ex:
        result = run_trial_to(load_trial("trial.yaml"), Path("results/big"), executor=ex)
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from dermatwin._base.atomic import write_parquet_atomic
from dermatwin._base.verbosity import notice
from dermatwin.execution.base import ExecutionError, Executor
from dermatwin.execution.manifest import MANIFEST_NAME, ChunkManifest
from dermatwin.execution.progress import progress_bar
from dermatwin.execution.tasks import run_tasks
from dermatwin.io.output_folder import (
    OutputFolder,
    OutputFolderError,
    is_dermatwin_output,
    is_own_folder,
    shown,
    write_errors,
)
from dermatwin.patients.baseline import Selection
from dermatwin.patients.population import (
    baseline_selection,
    evaluate_candidates,
    inclusion_error,
    select_candidates,
)
from dermatwin.patients.profile import PatientError
from dermatwin.trials.orchestration import CHUNK_FAILED, orchestrate, trial_chunks
from dermatwin.trials.run import ChunkResult, TrialResult, prepare_trial, simulate_chunk
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.worker import spec_key, trial_model_cached

#: the report draws its figures from all trajectory rows up to this many, else from the
#: first patients of each arm (memory stays bounded)
REPORT_MAX_ROWS = 500_000


@dataclass(repr=False)  # keeps the short repr of TrialResult
class StreamedTrialResult(TrialResult):
    """A streamed run: trajectories stay on disk under ``folder``."""

    folder: Path | None = None
    #: chunks simulated by this call (a resumed run skips those already done)
    computed_chunks: int = 0

    def load_trajectories(self, **filters) -> pd.DataFrame:
        """The trajectories (all of them: mind the memory for large trials)."""
        return pd.read_parquet(self.folder / "trajectories.parquet", **filters)


def scan_block(
    spec: TrialSpec, stream: int, start: int, size: int, selection: Selection | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accepted candidates among ``start .. start+size-1`` of arm ``stream``: their
    indices, equilibrated states and statuses (``selection``: the baseline-matching rule,
    fitted once by the driver)."""
    model = trial_model_cached(spec)
    pop_spec = spec.population_spec()
    block = evaluate_candidates(model, pop_spec, spec.seed, stream, start, size, selection)
    keep = block.eligible
    return block.accepted, block.y0[keep], block.status[keep]


def chunk_task(
    spec: TrialSpec,
    arm_index: int,
    lo: int,
    candidates: np.ndarray,
    y0: np.ndarray | None = None,
    status: np.ndarray | None = None,
) -> ChunkResult:
    """Simulate patients ``lo ..`` of an arm, made from their candidate indices (and
    their screened steady states, which spares a second equilibration)."""
    model = trial_model_cached(spec)
    stream = spec.population_stream(arm_index)
    pop_spec = spec.population_spec()
    pop = select_candidates(model, pop_spec, spec.seed, stream, candidates, y0, status)
    return simulate_chunk(spec, model, arm_index, np.arange(lo, lo + len(candidates)), pop)


def arm_folders(spec: TrialSpec) -> dict[str, str]:
    """Folder name of each arm (``arm=NAME``, made safe for file systems)."""
    safe = {arm: "".join(c if c.isalnum() or c in "_.-" else "_" for c in arm) for arm in spec.arms}
    if len(set(safe.values())) < len(safe):
        safe = {arm: f"{a}_{s}" for a, (arm, s) in enumerate(safe.items())}
    return {arm: f"arm={s}" for arm, s in safe.items()}


def staging_folder(out: Path) -> Path:
    out = Path(out).resolve()
    return out.parent / f".{out.name}.partial"


@dataclass
class _ArmPopulation:
    """An arm's patients: candidate indices, and the screened blocks holding their states
    (``blocks``: [start, accepted] in candidate order; patients are their accepted rows
    in turn) in ``population/FOLDER/``."""

    candidates: np.ndarray
    blocks: list[list[int]]
    folder: str


@dataclass(frozen=True)
class _Screening:
    """One screened population: the manifest record ``key``, the candidates' random
    ``stream``, how many patients it needs, its folder under ``population/``, the arms
    (indices) that take their patients from it, and how messages name it."""

    key: str
    stream: int
    size: int
    folder: str
    arms: tuple[int, ...]
    label: str


#: folder of the shared population of a paired trial (arm folders are ``arm=NAME``)
SHARED_POPULATION = "shared"


def _screenings(spec: TrialSpec) -> list[_Screening]:
    """One per arm; or, for a paired trial, one shared by every arm (screened once, of the
    largest arm's size: a smaller arm takes its first patients)."""
    sizes = list(spec.arm_sizes().values())
    if spec.paired:
        arms = tuple(range(len(sizes)))
        label = "shared population of the paired arms"
        return [_Screening("population:shared", 0, max(sizes), SHARED_POPULATION, arms, label)]
    dirs = arm_folders(spec)
    return [
        _Screening(f"population:{a}", a, n, dirs[arm], (a,), f"population of arm {arm!r}")
        for a, (arm, n) in enumerate(zip(spec.arms, sizes, strict=True))
    ]


def _block_path(folder: Path, population: str, start: int) -> Path:
    return folder / "population" / population / f"block-{start:010d}.parquet"


def _population(
    spec: TrialSpec,
    executor: Executor,
    folder: Path,
    manifest: ChunkManifest,
    timeout,
    advance,
    log: Callable[[str], None] = notice,
) -> dict[int, _ArmPopulation]:
    """Every arm's patients (screened now, or read when resuming).

    Screened blocks go to disk as they arrive (accepted candidates with their states), so
    the driver holds one integer per accepted candidate, whatever the trial size. A
    recorded population whose files are damaged is screened again (same patients:
    candidates are seeded by index).
    """
    pop_spec = spec.population_spec()
    sizes = list(spec.arm_sizes().values())
    screenings = _screenings(spec)
    done = manifest.done()
    out: dict[int, _ArmPopulation] = {}

    def share(g: int, candidates: np.ndarray, blocks: list[list[int]]) -> None:
        scr = screenings[g]
        for a in scr.arms:
            out[a] = _ArmPopulation(candidates[: sizes[a]], blocks, scr.folder)

    found: dict[int, dict[int, np.ndarray]] = {}
    for g, scr in enumerate(screenings):
        entry = done.get(scr.key)
        if entry is not None:
            reason = _damaged(manifest, entry, "blocks")
            if reason is None:
                table = pq.read_table(folder / "population" / f"{scr.folder}.parquet")
                share(g, table["candidate"].to_numpy(), entry["blocks"])
                advance(scr.size)
                continue
            again = "the arm" if len(scr.arms) == 1 else "it"
            log(f"{scr.label}: {reason}; screening {again} again")
        # blocks of an unrecorded or damaged screening are redone (their split may differ)
        shutil.rmtree(folder / "population" / scr.folder, ignore_errors=True)
        found[g] = {}
    drawn = dict.fromkeys(found, 0)
    # the baseline-matching rule: fitted here once (its pilot), not by every worker
    selection = None
    if found and pop_spec.baseline is not None:
        selection = baseline_selection(trial_model_cached(spec), pop_spec, spec.seed)
    # small arms are screened in smaller blocks so that every worker gets some
    blocks = {
        g: max(16, min(spec.chunk_size, math.ceil(screenings[g].size / executor.workers)))
        for g in found
    }

    def on_failure(key, err):
        g, start = key
        raise ExecutionError(
            f"{screenings[g].label}: candidates {start}-{start + blocks[g] - 1} "
            f"failed ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        )

    while found:
        tasks = {}
        for g in list(found):
            scr, block = screenings[g], blocks[g]
            n, budget = scr.size, scr.size * pop_spec.max_draws_per_patient
            accepted = sum(len(v) for v in found[g].values())
            if accepted >= n or drawn[g] >= budget:
                starts = sorted(found[g])
                cands = np.concatenate([found[g][s] for s in starts] or [[]])
                if len(cands) < n:
                    raise inclusion_error(pop_spec, len(cands), n, budget)
                used, total = [], 0
                for s in starts:
                    if total >= n:
                        break
                    used.append([s, len(found[g][s])])
                    total += len(found[g][s])
                candidates = cands[:n].astype(np.int64)
                share(g, candidates, used)
                path = folder / "population" / f"{scr.folder}.parquet"
                write_parquet_atomic(pd.DataFrame({"candidate": candidates}), path)
                files = [path] + [_block_path(folder, scr.folder, s) for s, _ in used]
                manifest.record(scr.key, "done", files, patients=n, blocks=used)
                del found[g]
                continue
            rate = accepted / drawn[g] if accepted else 1.0
            wanted = math.ceil((n - accepted) / max(rate, 1.0 / pop_spec.max_draws_per_patient))
            wanted = max(wanted, block * executor.workers)  # keep every worker busy
            stop = min(budget, drawn[g] + math.ceil(wanted / block) * block)
            for start in range(drawn[g], stop, block):
                tasks[(g, start)] = (spec, scr.stream, start, min(block, budget - start), selection)
            drawn[g] = stop

        def on_result(key, screened):
            g, start = key
            accepted, y0, status = screened
            frame = pd.DataFrame(y0, columns=[f"y{i}" for i in range(y0.shape[1])])
            frame.insert(0, "status", status)
            frame.insert(0, "candidate", accepted)
            write_parquet_atomic(frame, _block_path(folder, screenings[g].folder, start))
            size = screenings[g].size
            before = sum(len(v) for v in found[g].values())
            found[g][start] = accepted
            advance(min(size, before + len(accepted)) - min(size, before))

        if tasks:
            run_tasks(
                executor,
                scan_block,
                tasks,
                on_result=on_result,
                on_failure=on_failure,
                timeout=timeout,
            )
    return out


def _damaged(manifest: ChunkManifest, entry: dict, pairs: str) -> str | None:
    """Why a recorded population or chunk cannot be used (None: it can): its files, and
    its field ``pairs`` (population ``blocks``, chunk ``failed_patients``: lists of two
    whole numbers)."""
    rows = entry.get(pairs)
    if not isinstance(rows, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) for v in r) for r in rows
    ):
        return "its manifest record is damaged"
    return manifest.damaged(entry)


class _ChunkArgs(Mapping):
    """Task arguments of the chunks, read from the screened blocks only when a chunk is
    submitted, so that memory holds the chunks in flight, not the whole population."""

    def __init__(self, spec, folder, chunks, pops) -> None:
        self.spec, self.folder, self.chunks, self.pops = spec, folder, chunks, pops

    def __iter__(self):
        return iter(self.chunks)

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, key):
        a, lo, hi = self.chunks[key]
        pop = self.pops[a]
        counts = np.array([c for _, c in pop.blocks])
        ends = np.cumsum(counts)
        first = int(np.searchsorted(ends, lo, side="right"))
        last = int(np.searchsorted(ends, hi - 1, side="right"))
        frames = [
            pd.read_parquet(_block_path(self.folder, pop.folder, pop.blocks[i][0]))
            for i in range(first, last + 1)
        ]
        rows = pd.concat(frames, ignore_index=True)
        offset = int(ends[first] - counts[first])
        rows = rows.iloc[lo - offset : hi - offset]
        candidates = pop.candidates[lo:hi]
        if not np.array_equal(rows["candidate"].to_numpy(), candidates):
            raise ExecutionError(
                f"population files of arm {list(self.spec.arms)[a]!r} in {self.folder} do not "
                "match the manifest; start over without resuming"
            )
        y0 = rows[[c for c in rows.columns if c.startswith("y")]].to_numpy(dtype=np.float64)
        return (self.spec, a, lo, candidates, y0, rows["status"].to_numpy(dtype=np.int64))


def run_trial_to(
    spec: TrialSpec,
    out: Path,
    *,
    executor: Executor | None = None,
    seed: int | None = None,
    resume: bool = False,
    timeout: float | None = None,
    progress: bool | None = False,
    task: Callable[..., ChunkResult] = chunk_task,
    on_chunk: Callable[[str], None] | None = None,
    overwrite: bool = False,
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] = notice,
) -> StreamedTrialResult:
    """Run ``spec`` chunk by chunk on ``executor`` (serial by default) into ``out``.

    ``out`` is claimed and locked first (:mod:`dermatwin.io.output_folder`): an earlier
    dermatwin output there is replaced only with ``overwrite``, any other folder never,
    nor one holding ``inputs`` (the trial file); the finished run replaces it atomically.
    ``resume``: continue the interrupted run staged beside ``out`` (only chunks missing
    from its manifest are computed; a different spec, seed or model is an error).
    ``timeout`` (s): a chunk running longer gets a duplicate. ``progress``: a progress
    bar (None: when on a terminal). ``task`` and ``on_chunk`` (called with each chunk id
    once it is recorded) are hooks for fault-injection tests. ``log`` gets one line per
    damaged staged file found on resume (default: stderr).
    """
    spec = prepare_trial(spec, seed)
    with OutputFolder(out, command="trial run", inputs=inputs, overwrite=overwrite) as folder:
        # chunks already written stay staged (a disk full after hours loses no work)
        with write_errors(folder.given, "; once it can, resume=True continues the run"):
            result = _run_locked(
                spec, folder, executor, resume, timeout, progress, task, on_chunk, log
            )
    return result


def _run_locked(spec, folder, executor, resume, timeout, progress, task, on_chunk, log):
    """:func:`run_trial_to` once ``folder`` is claimed and locked."""
    from dermatwin.execution.serial import SerialExecutor

    stage = staging_folder(folder.path)
    if os.path.lexists(stage) and not is_own_folder(stage):  # before any work
        raise OutputFolderError(
            f"out {shown(folder.given)}: {folder.beside(stage)} exists and dermatwin did not "
            "make it; move it away or choose another folder",
            parameter="out",
        )
    model = trial_model_cached(spec)
    own = executor is None
    executor = executor or SerialExecutor()
    header = {
        "spec_sha256": spec_key(spec),
        "seed": spec.seed,
        "model_hash": model.content_hash,
        "chunk_size": spec.chunk_size,
        "trial": spec.name,
        "arms": spec.arm_sizes(),
    }
    out = folder.path
    if is_dermatwin_output(stage, legacy=False):  # a result left there by a kill in a swap
        folder.discard(stage)
    if resume and (stage / MANIFEST_NAME).exists():
        manifest = ChunkManifest.resume(stage, header)
    else:
        if os.path.lexists(stage):
            if (stage / MANIFEST_NAME).exists():
                log(
                    f"discarding the interrupted run in {folder.beside(stage)}; "
                    "resume=True continues it"
                )
            folder.discard(stage)
        folder.new_stage(stage)
        manifest = ChunkManifest.create(stage, header)
    store = ParquetStore(
        spec,
        stage,
        manifest,
        task=task,
        timeout=timeout,
        progress=progress,
        on_chunk=on_chunk,
        log=log,
    )
    try:
        result = orchestrate(spec, model, store, executor, timeout=timeout)
    finally:
        if own:
            executor.shutdown()
    folder.commit(stage)
    result.folder = out
    return result


def _chunk_path(folder: Path, table: str, spec: TrialSpec, chunk: str) -> Path:
    a, c = chunk.split(":")
    arm = list(spec.arms)[int(a)]
    return folder / table / arm_folders(spec)[arm] / f"chunk-{c}.parquet"


class ParquetStore:
    """The streamed result store (:class:`dermatwin.trials.orchestration.ResultStore`):
    populations screened on the executor in blocks written under ``folder``; each chunk's
    endpoint and trajectory tables written as Parquet as it finishes and recorded in the
    chunk manifest, so a resumed run computes only what is missing or damaged; the
    finished run consolidated with its report (see the module docstring)."""

    def __init__(
        self,
        spec: TrialSpec,
        folder: Path,
        manifest: ChunkManifest,
        *,
        task: Callable[..., ChunkResult] = chunk_task,
        timeout: float | None = None,
        progress: bool | None = False,
        on_chunk: Callable[[str], None] | None = None,
        log: Callable[[str], None] = notice,
    ) -> None:
        self.spec, self.folder, self.manifest = spec, folder, manifest
        self.task, self.timeout, self.progress, self.log = task, timeout, progress, log
        self.on_chunk = on_chunk  # called with each chunk id once recorded (tests' hook)
        #: chunks simulated by this run (a resumed run skips those already done)
        self.computed = 0
        self.done: dict[str, dict] = {}
        self.failed_chunks: list[dict] = []
        self.latest: dict[str, dict] = {}  # each chunk's last record, once collected
        self._advance: Callable[[int], None] = lambda n: None

    def populations(self, spec, model, executor) -> dict[int, _ArmPopulation]:
        total = sum(s.size for s in _screenings(spec))  # a paired trial screens once
        with progress_bar("population", total, enabled=self.progress) as advance:
            try:
                return _population(
                    spec, executor, self.folder, self.manifest, self.timeout, advance, self.log
                )
            except PatientError:
                shutil.rmtree(self.folder, ignore_errors=True)  # the criteria: nothing to resume
                raise

    def pending(self, chunks):
        for key, entry in self.manifest.done().items():
            if key not in chunks:
                continue  # a population record
            reason = _damaged(self.manifest, entry, "failed_patients")
            if reason is None:
                self.done[key] = entry
            else:
                self.log(f"chunk {key}: {reason}; recomputing")
        return {k: v for k, v in chunks.items() if k not in self.done}

    @contextmanager
    def simulating(self, chunks):
        total = sum(hi - lo for _, lo, hi in chunks.values())
        with progress_bar("simulation", total, enabled=self.progress) as advance:
            advance(sum(hi - lo for k, (_, lo, hi) in chunks.items() if k in self.done))
            self._advance = advance
            yield

    def task_args(self, chunks, populations):
        return _ChunkArgs(self.spec, self.folder, chunks, populations)

    def save(self, key: str, part: ChunkResult) -> None:
        files = [_chunk_path(self.folder, t, self.spec, key) for t in ("endpoints", "trajectories")]
        write_parquet_atomic(part.endpoints, files[0])
        write_parquet_atomic(part.trajectories, files[1])
        failed = [[int(f["patient"]), int(f["status"])] for f in part.failures]
        self.manifest.record(
            key, "done", files, patients=len(part.endpoints), failed_patients=failed
        )
        self.computed += 1
        self._advance(len(part.endpoints))
        if self.on_chunk is not None:
            self.on_chunk(key)

    def fail(self, key: str, error: BaseException) -> None:
        a, lo, hi = trial_chunks(self.spec)[key]
        reason = str(error).splitlines()[0] if str(error) else ""
        self.manifest.record(
            key, "failed", patients=[lo, hi], error=f"{type(error).__name__}: {reason}"
        )
        self._advance(hi - lo)

    def collect(self, chunks):
        self.latest = self.manifest.latest()
        arms = list(self.spec.arms)
        frames, failures = [], []
        for key, (a, lo, hi) in chunks.items():
            entry = self.latest[key]
            if entry["status"] == "done":
                frames.append(
                    pd.read_parquet(_chunk_path(self.folder, "endpoints", self.spec, key))
                )
                failures += [[arms[a], p, s] for p, s in entry["failed_patients"]]
            else:
                self.failed_chunks.append({"chunk": key, "arm": arms[a], "patients": [lo, hi - 1]})
                failures += [[arms[a], p, CHUNK_FAILED] for p in range(lo, hi)]
        if not frames:
            raise ExecutionError(f"every chunk failed; see {self.folder / MANIFEST_NAME}")
        return pd.concat(frames, ignore_index=True), failures

    def result(self, spec, table, summary, manifest, failures) -> StreamedTrialResult:
        """The result, with consolidated trajectories, files and report in the folder."""
        from dermatwin.trials.output import write_trial

        chunks = trial_chunks(spec)
        manifest["chunks"] = {
            "chunk_size": spec.chunk_size,
            "done": len(chunks) - len(self.failed_chunks),
            "failed": self.failed_chunks,
        }
        result = StreamedTrialResult(
            spec,
            table,
            pd.DataFrame(columns=["arm", "patient", "time", "variable", "value"]),
            summary,
            manifest,
            failures,
            folder=self.folder,
            computed_chunks=self.computed,
        )
        rows = _consolidate_trajectories(spec, self.folder, chunks, self.latest)
        notes = []
        if rows <= REPORT_MAX_ROWS:
            report_traj = pd.read_parquet(self.folder / "trajectories.parquet")
        else:
            keep = max(1, min(spec.arm_sizes().values()) * REPORT_MAX_ROWS // rows)
            report_traj = pd.read_parquet(
                self.folder / "trajectories.parquet", filters=[("patient", "<", keep)]
            )
            notes.append(f"Trajectory figures show the first {keep} patients of each arm.")
        write_trial(result, self.folder, report_trajectories=report_traj, notes=notes)
        return result


def _consolidate_trajectories(spec, folder, chunks, latest) -> int:
    """``trajectories.parquet`` in the in-memory order (arm, variable, patient, time),
    written one chunk and variable at a time so memory stays bounded."""
    arms = list(spec.arms)
    writer, rows = None, 0
    path = folder / "trajectories.parquet"
    tmp = folder / ".trajectories.parquet.tmp"
    try:
        for a, arm in enumerate(arms):
            keys = [
                k for k, (ka, _, _) in chunks.items() if ka == a and latest[k]["status"] == "done"
            ]
            files = [_chunk_path(folder, "trajectories", spec, k) for k in keys]
            if not files:
                continue
            variables = sorted(
                set(pq.read_table(files[0], columns=["variable"])["variable"].to_pylist())
            )
            del arm
            for variable in variables:
                for f in files:
                    part = pq.read_table(f, filters=[("variable", "=", variable)])
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, part.schema)
                    writer.write_table(part)
                    rows += part.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is not None:
        os.replace(tmp, path)
    return rows
