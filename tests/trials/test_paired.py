"""Paired trials: every arm on the same virtual patients, in memory and streamed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import small_ad_trial

from dermatwin.execution import get_executor
from dermatwin.trials import run as run_module
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.streaming import run_trial_to, staging_folder

BASE = small_ad_trial(4, name="paired", seed=11, chunk_size=5)
# arms of different sizes: the smaller arm's patients are the first 8 of the shared ones
BASE["arms"] = {
    "dupilumab": {"n": 12, "regimen": [{"drug": "dupilumab"}]},
    "placebo": {"n": 8},
    "placebo_copy": {"n": 12},
}
BASE["reference_arm"] = "placebo"


def spec(**update) -> TrialSpec:
    return TrialSpec.model_validate({**BASE, "paired": True, **update})


@pytest.fixture(scope="module")
def reference():
    return run_trial(spec())


def test_paired_arms_hold_the_same_patients(monkeypatch):
    seen: dict[int, list] = {}
    original = run_module.simulate_chunk

    def recording(spec_, model, arm_index, patients, pop):
        seen.setdefault(arm_index, []).append((pop.parameters.copy(), pop.y0.copy()))
        return original(spec_, model, arm_index, patients, pop)

    monkeypatch.setattr(run_module, "simulate_chunk", recording)
    result = run_trial(spec())
    params = {a: np.concatenate([p for p, _ in parts]) for a, parts in seen.items()}
    states = {a: np.concatenate([y for _, y in parts]) for a, parts in seen.items()}
    assert [len(params[a]) for a in range(3)] == [12, 8, 12]
    for a in (1, 2):
        n = len(params[a])
        np.testing.assert_array_equal(params[a], params[0][:n])
        np.testing.assert_array_equal(states[a], states[0][:n])
    traj = result.trajectories
    for name in ("EASI", "SCORAD", "IGA"):  # baseline scores, with their noise draws
        base = traj[(traj["variable"] == name) & (traj["time"] == 0.0)]
        by_arm = {arm: g["value"].to_numpy() for arm, g in base.groupby("arm")}
        np.testing.assert_array_equal(by_arm["placebo"], by_arm["dupilumab"][:8])
        np.testing.assert_array_equal(by_arm["placebo_copy"], by_arm["dupilumab"])
    ep = result.endpoints
    cands = {arm: g["candidate"].to_numpy() for arm, g in ep.groupby("arm")}
    np.testing.assert_array_equal(cands["placebo"], cands["placebo_copy"][:8])
    np.testing.assert_array_equal(cands["dupilumab"], cands["placebo_copy"])


def test_identical_regimens_differ_by_exactly_zero(reference):
    copies = [c for c in reference.summary["comparisons"] if c["arm"] == "placebo_copy"]
    assert len(copies) == 3
    for c in copies:
        assert c["difference"] == 0.0 and c["pairs"] == 8 and c["pairs_excluded"] == 0
        assert c["p_value"] == 1.0
    traj = reference.trajectories
    a = traj[traj["arm"] == "placebo"].reset_index(drop=True)
    b = traj[(traj["arm"] == "placebo_copy") & (traj["patient"] < 8)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="arm"), b.drop(columns="arm"))
    assert reference.summary["paired"] is True
    drug = [c for c in reference.summary["comparisons"] if c["arm"] == "dupilumab"]
    assert all(c["method"].startswith("paired: ") for c in drug)


def test_unpaired_trial_is_unchanged():
    plain = TrialSpec.model_validate(BASE)
    explicit = TrialSpec.model_validate({**BASE, "paired": False})
    a, b = run_trial(plain), run_trial(explicit)
    assert json.dumps(a.summary) == json.dumps(b.summary)
    assert "paired" not in a.summary
    assert all("method" not in c and "pairs" not in c for c in a.summary["comparisons"])
    # the arms of an unpaired trial are different patients ...
    ep = a.endpoints
    cands = {arm: g["candidate"].to_numpy() for arm, g in ep.groupby("arm")}
    assert not np.array_equal(cands["placebo"], cands["placebo_copy"][:8])
    # ... and the first arm's (stream 0) are those every arm of the paired trial gets
    paired = run_trial(spec())
    first = ep[ep["arm"] == "dupilumab"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        first, paired.endpoints[paired.endpoints["arm"] == "dupilumab"].reset_index(drop=True)
    )


def assert_same(result, reference):
    pd.testing.assert_frame_equal(result.endpoints, reference.endpoints)
    assert json.dumps(result.summary, allow_nan=False) == json.dumps(reference.summary)
    traj = pd.read_parquet(result.folder / "trajectories.parquet")
    pd.testing.assert_frame_equal(traj, reference.trajectories)


def test_paired_stream_is_the_same_for_any_chunk_size_and_executor(reference, tmp_path):
    serial = run_trial_to(spec(chunk_size=7), tmp_path / "s")
    assert_same(serial, reference)
    screened = sorted(p.name for p in (tmp_path / "s" / "population").iterdir())
    assert screened == ["shared", "shared.parquet"]  # screened once for every arm
    with get_executor("processes", workers=2) as ex:
        assert_same(run_trial_to(spec(chunk_size=4), tmp_path / "p", executor=ex), reference)


class Killed(Exception):
    pass


def test_paired_run_resumes_and_screens_a_damaged_population_again(reference, tmp_path, capsys):
    out, seen = tmp_path / "out", []

    def kill_after_two(chunk):
        seen.append(chunk)
        if len(seen) == 2:
            raise Killed

    with pytest.raises(Killed):
        run_trial_to(spec(), out, on_chunk=kill_after_two)
    stage = staging_folder(out)
    block = sorted((stage / "population" / "shared").iterdir())[0]
    block.write_bytes(b"garbage" * 10)
    result = run_trial_to(spec(), out, resume=True)
    assert result.computed_chunks == 3 + 2 + 3 - 2
    assert_same(result, reference)
    assert capsys.readouterr().err.splitlines() == [
        f"shared population of the paired arms: population/shared/{block.name} corrupt "
        "(size mismatch); screening it again"
    ]


def test_paired_effect_runs_two_arms_on_the_trials_patients(reference):
    from dermatwin.trials import paired_effect
    from dermatwin.trials.spec import TrialError

    plain = TrialSpec.model_validate(BASE)  # any trial: paired_effect pairs it
    effect = paired_effect(plain, "dupilumab", "placebo", "mean_pct_change:EASI@4w")
    (full,) = (
        c
        for c in reference.summary["comparisons"]
        if c["arm"] == "dupilumab" and c["endpoint"] == "mean_pct_change:EASI@4w"
    )
    assert {k: v for k, v in effect.items() if k != "estimates"} == full
    arms = reference.summary["arms"]
    assert effect["estimates"]["placebo"] == arms["placebo"]["mean_pct_change:EASI@4w"]["estimate"]
    with pytest.raises(TrialError, match="arm: 'nobody' is not an arm; allowed: dupilumab"):
        paired_effect(plain, "nobody")
