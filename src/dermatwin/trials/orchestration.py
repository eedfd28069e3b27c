"""One trial orchestration over a pluggable result store.

Every trial, in memory (:func:`dermatwin.trials.run.run_trial`) or streamed to Parquet
(:func:`dermatwin.trials.streaming.run_trial_to`), runs :func:`orchestrate`:

1. the store gives every arm its patients (:meth:`ResultStore.populations`: screened
   in memory, or on the executor with the screened blocks on disk);
2. the chunks the store does not hold yet (:meth:`ResultStore.pending`; a resumed run
   holds some) run on the executor as the store's task, and each result or failure goes
   to the store as it arrives;
3. the store hands back the endpoint table and the failed patients
   (:meth:`ResultStore.collect`); the summary (:func:`trial_summary`) and the manifest
   (:func:`trial_manifest`) are computed here, once, for every store;
4. the store makes the result (:meth:`ResultStore.result`: with all trajectories in
   memory, or files and a report on disk).

The spec is prepared before (:func:`dermatwin.trials.run.prepare_trial`: seed, parameter
set, regimen check), so a bad trial fails before a store is opened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from dermatwin._version import __version__
from dermatwin.execution.tasks import run_tasks
from dermatwin.io.environment import environment
from dermatwin.trials.statistics import summarise
from dermatwin.trials.table1 import baseline_summary
from dermatwin.trials.worker import spec_key

if TYPE_CHECKING:
    from dermatwin.execution.base import Executor
    from dermatwin.model.spec import Model
    from dermatwin.trials.run import ChunkResult, TrialResult
    from dermatwin.trials.spec import TrialSpec

#: status of the patients of a chunk that failed on every attempt (not a kernel status)
CHUNK_FAILED = -1
FAILURE_COLUMNS = ["arm", "patient", "status"]

#: chunk id -> (arm index, first patient, end patient)
Chunks = dict[str, tuple[int, int, int]]


def trial_chunks(spec: TrialSpec) -> Chunks:
    """The trial's chunks of ``chunk_size`` patients, arm by arm, ids ``ARM:NNNNN``."""
    out = {}
    for a, n in enumerate(spec.arm_sizes().values()):
        for c, lo in enumerate(range(0, n, spec.chunk_size)):
            out[f"{a}:{c:05d}"] = (a, lo, min(n, lo + spec.chunk_size))
    return out


def trial_summary(spec: TrialSpec, table: pd.DataFrame, failures: list[list]) -> dict:
    """The statistics of the endpoint table (:func:`dermatwin.trials.statistics.summarise`);
    patients of failed chunks (no endpoint row) are excluded all the same."""
    kinds = {e.text: e.summary_kind for e in spec.parsed_endpoints()}
    absent = Counter(arm for arm, _, status in failures if status == CHUNK_FAILED)
    summary = summarise(
        table,
        kinds,
        seed=spec.seed,
        reference=spec.reference(),
        absent=absent,
        paired=spec.paired,
        order=list(spec.arms),
    )
    summary.update(design_summary(spec, table, kinds, absent))
    targets = spec.population_spec().targets()
    if targets is not None:  # Table 1 (only then: other trials' summaries stay as they were)
        summary["baseline"] = baseline_summary(
            table, list(spec.arms), {k: v.model_dump() for k, v in targets.items()}
        )
    return summary


def design_summary(spec: TrialSpec, table: pd.DataFrame, kinds: dict, absent: Counter) -> dict:
    """The summary parts of the maintenance/withdrawal design features, only those the
    trial asks for (so other trials' summaries stay as they were): ``enrolled`` per arm
    (period 2 by response), ``survival`` at ``survival_at`` per arm and time-to-event
    endpoint (%, Kaplan-Meier, log-log band), ``pooled`` arms and ``subgroups``."""
    from dermatwin.trials.run import ENROLLED
    from dermatwin.trials.statistics import survival_at

    out: dict = {}
    arms = list(spec.arms)

    def per_arm(frame: pd.DataFrame, order: list[str]) -> dict:
        return summarise(frame, kinds, seed=spec.seed, order=order)["arms"]

    if spec.enrol is not None:
        out["enrolled"] = {arm: int(table.loc[table["arm"] == arm, ENROLLED].sum()) for arm in arms}
    events = [name for name, kind in kinds.items() if kind == "time_to_event"]
    if spec.survival_at and events:
        out["survival"] = {
            arm: {
                name: survival_at(
                    table.loc[table["arm"] == arm, name],
                    table.loc[table["arm"] == arm, name + "_event"],
                    spec.survival_at,
                )
                for name in events
            }
            for arm in arms
        }
    if spec.pooled:
        frames = []
        for name, members in spec.pooled.items():
            part = table[table["arm"].isin(members)].copy()
            part["arm"] = name
            frames.append(part)
        out["pooled"] = per_arm(pd.concat(frames, ignore_index=True), list(spec.pooled))
    if spec.subgroups:
        out["subgroups"] = {}
        for covariate in spec.subgroups:
            if covariate not in table:
                continue
            levels = {}
            for level in sorted(table[covariate].dropna().unique(), key=str):
                part = table[table[covariate] == level]
                levels[str(level)] = per_arm(part, [a for a in arms if a in set(part["arm"])])
            out["subgroups"][covariate] = levels
    return out


def trial_manifest(spec: TrialSpec, model: Model, failed_patients: int) -> dict:
    """What identifies a run: trial, seed, versions, model and spec hashes, arm sizes,
    and the software environment (metadata: not part of any identity check)."""
    return {
        "trial": spec.name,
        "seed": spec.seed,
        "dermatwin_version": __version__,
        "model": model.name,
        "model_hash": model.content_hash,
        "spec_sha256": spec_key(spec),
        "arms": spec.arm_sizes(),
        "failed_patients": failed_patients,
        "environment": environment(),
    }


class ResultStore(Protocol):
    """Where one trial's populations and chunk results live (see the module docstring)."""

    #: the chunk task run on the executor: ``task(*args)`` -> ChunkResult
    task: Callable[..., ChunkResult]

    def populations(self, spec: TrialSpec, model: Model, executor: Executor) -> Mapping:
        """Each arm's patients (arm index -> what :meth:`task_args` needs)."""

    def pending(self, chunks: Chunks) -> Chunks:
        """The chunks still to compute."""

    def simulating(self, chunks: Chunks) -> AbstractContextManager:
        """Held while the chunks run (e.g. a progress bar that :meth:`save` advances)."""

    def task_args(self, chunks: Chunks, populations: Mapping) -> Mapping[Hashable, tuple]:
        """Each pending chunk's task arguments (may be read lazily, chunk by chunk)."""

    def save(self, key: str, part: ChunkResult) -> None:
        """Keep one finished chunk."""

    def fail(self, key: str, error: BaseException) -> None:
        """A chunk that failed on every attempt (record it, or raise)."""

    def collect(self, chunks: Chunks) -> tuple[pd.DataFrame, list[list]]:
        """The endpoint table (chunk order) and the failed patients ``[arm, patient,
        status]`` (:data:`CHUNK_FAILED` for every patient of a failed chunk)."""

    def result(
        self,
        spec: TrialSpec,
        table: pd.DataFrame,
        summary: dict,
        manifest: dict,
        failures: pd.DataFrame,
    ) -> TrialResult:
        """The finished trial (and whatever the store writes)."""


def orchestrate(
    spec: TrialSpec,
    model: Model,
    store: ResultStore,
    executor: Executor,
    *,
    timeout: float | None = None,
) -> TrialResult:
    """Run the prepared ``spec`` on ``executor`` into ``store`` (see the module docstring);
    ``timeout`` (s): a chunk running longer gets a duplicate."""
    chunks = trial_chunks(spec)
    populations = store.populations(spec, model, executor)
    todo = store.pending(chunks)
    with store.simulating(chunks):
        run_tasks(
            executor,
            store.task,
            store.task_args(todo, populations),
            on_result=store.save,
            on_failure=store.fail,
            timeout=timeout,
        )
    table, failed = store.collect(chunks)
    summary = trial_summary(spec, table, failed)
    manifest = trial_manifest(spec, model, len(failed))
    failures = pd.DataFrame(failed, columns=FAILURE_COLUMNS)
    return store.result(spec, table, summary, manifest, failures)
