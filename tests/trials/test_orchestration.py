"""One trial orchestration over a pluggable result store (dermatwin.trials.orchestration)."""

from __future__ import annotations

import pandas as pd
import pytest
from support import small_ad_trial

from dermatwin.execution.serial import SerialExecutor
from dermatwin.trials.orchestration import orchestrate, trial_chunks, trial_manifest
from dermatwin.trials.run import MemoryStore, prepare_trial, run_trial, trial_model
from dermatwin.trials.spec import TrialError, TrialSpec
from dermatwin.trials.worker import spec_key

SPEC = TrialSpec.model_validate(small_ad_trial(4, chunk_size=5))


class RecordingStore(MemoryStore):
    """A store of its own: records what the orchestration hands it."""

    def __init__(self, spec, model):
        super().__init__(spec, model)
        self.saved: list[str] = []

    def save(self, key, part):
        self.saved.append(key)
        super().save(key, part)


@pytest.fixture(scope="module")
def prepared():
    spec = prepare_trial(SPEC, seed=9)
    return spec, trial_model(spec)


def test_a_store_gets_every_chunk_once_and_the_result_is_run_trials(prepared):
    spec, model = prepared
    store = RecordingStore(spec, model)
    result = orchestrate(spec, model, store, SerialExecutor())
    chunks = list(trial_chunks(spec))
    assert chunks == ["0:00000", "0:00001", "0:00002", "1:00000", "1:00001", "1:00002"]
    assert sorted(store.saved) == chunks  # in any order: the table is in chunk order
    same = run_trial(SPEC, seed=9)
    assert result.summary == same.summary
    pd.testing.assert_frame_equal(result.endpoints, same.endpoints)
    pd.testing.assert_frame_equal(result.trajectories, same.trajectories)


def test_the_spec_is_prepared_once_for_every_store(prepared):
    spec, model = prepared
    assert spec.seed == 9 and spec.parameter_set.name == "CAL-5"  # values, not the name
    assert trial_manifest(spec, model, 0)["spec_sha256"] == spec_key(spec)
    with pytest.raises(TrialError, match="seed"):
        prepare_trial(SPEC, seed=-1)


def test_a_chunk_failing_in_memory_stops_the_run(prepared):
    """The memory store has nothing to resume: the error reaches the caller."""
    spec, model = prepared

    class Failing(MemoryStore):
        def task(self, arm_index, lo, pop):
            raise FloatingPointError(f"chunk {arm_index}:{lo} fails")

    with pytest.raises(FloatingPointError, match=r"chunk \d:\d+ fails"):
        orchestrate(spec, model, Failing(spec, model), SerialExecutor(retries=0))
