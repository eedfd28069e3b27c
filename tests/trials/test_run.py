"""Running virtual trials: determinism across chunking, failures, outputs, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from support import small_ad_trial
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.engine.status import Status
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialSpec

SPEC = small_ad_trial(8)


@pytest.fixture(scope="module")
def result():
    return run_trial(TrialSpec.model_validate(SPEC))


def test_drug_beats_background_placebo(result):
    arms = result.summary["arms"]
    assert arms["dupilumab"]["EASI-50@8w"]["n"] == 12
    assert (
        arms["dupilumab"]["mean_pct_change:EASI@8w"]["estimate"]
        < arms["placebo"]["mean_pct_change:EASI@8w"]["estimate"] - 10
    )
    json.dumps(result.summary, allow_nan=False)


def test_results_do_not_depend_on_chunk_size(result):
    other = run_trial(TrialSpec.model_validate({**SPEC, "chunk_size": 5}))
    assert other.summary == result.summary
    np.testing.assert_array_equal(
        other.trajectories["value"].to_numpy(), result.trajectories["value"].to_numpy()
    )


def test_seed_changes_the_draws(result):
    other = run_trial(TrialSpec.model_validate(SPEC), seed=5)
    assert other.summary != result.summary


def test_cli_json_is_bit_identical_and_output_complete(tmp_path):
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "arms": {"placebo": {"n": 4}, "b": {"n": 4}}}))
    runner = CliRunner()
    outs = []
    for k in range(2):
        res = runner.invoke(app, ["trial", "run", str(path), "--json", "--out", f"{tmp_path}/o{k}"])
        assert res.exit_code == 0, res.output
        outs.append(res.stdout)
    assert outs[0] == outs[1]
    parsed = json.loads(outs[0])
    assert set(parsed["arms"]) == {"placebo", "b"}
    files = {p.name for p in (tmp_path / "o0").iterdir()}
    assert {"report.html", "summary.json", "manifest.json", "trajectories.parquet"} <= files


def test_cli_bad_trial_leaves_no_output(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "arms": {"a": {"n": 2, "regimen": [{"drug": "x"}]}}}))
    res = CliRunner().invoke(app, ["trial", "run", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "unknown drug 'x'" in res.stderr and res.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_relapse_times_by_hand():
    from dermatwin.outcomes import relapse_times

    times = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    primary = np.array(
        [
            [20.0, 10.0, 12.0, 16.0, 18.0],  # improved by 10; limit 15 crossed at day 30
            [20.0, 10.0, 11.0, 12.0, 13.0],  # never back above 15: censored at day 40
            [20.0, 22.0, 25.0, 25.0, 25.0],  # never improved: nothing to measure
        ]
    )
    t, event = relapse_times(primary, times, start=10.0, fraction=0.5)
    assert t[:2].tolist() == [20.0, 30.0] and event[:2].tolist() == [1.0, 0.0]
    assert np.isnan(t[2]) and np.isnan(event[2])


# ---- patients whose endpoints cannot be computed --------------------------------------

FAIL_SPEC = small_ad_trial(
    8,
    chunk_size=4,
    withdrawal={"at": "4 weeks"},
    endpoints=[
        "EASI-50@8w",
        "mean_pct_change:EASI@8w",
        "IGA01@8w",
        "time_to_relapse",
        "flares_per_year",
    ],
)
#: in every chunk of 4, row 0 fails (MAX_STEPS) and row 1 gets a NaN EASI at week 8
FAILED, NAN_SCORE = {0, 4, 8}, {1, 5, 9}


def _failing_simulate(real):
    def wrapper(*args, **kwargs):
        cohort = real(*args, **kwargs)
        cohort.status[0] = Status.MAX_STEPS
        cohort.values("EASI")[1, -1] = np.nan
        return cohort

    return wrapper


@pytest.fixture(scope="module")
def clean():
    return run_trial(TrialSpec.model_validate(FAIL_SPEC))


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """The same trial with failures injected, in memory and streamed (with one whole
    chunk failing too: placebo patients 4-7)."""
    import dermatwin.trials.run as run_module
    from dermatwin.trials.streaming import chunk_task, run_trial_to

    def task(spec, arm_index, lo, *args):
        if arm_index == 1 and lo == 4:
            raise FloatingPointError("chunk always fails")
        return chunk_task(spec, arm_index, lo, *args)

    spec = TrialSpec.model_validate(FAIL_SPEC)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_module, "simulate_cohort", _failing_simulate(run_module.simulate_cohort))
        memory = run_trial(spec)
        out = tmp_path_factory.mktemp("failing") / "out"
        streamed = run_trial_to(spec, out, task=task)
    return memory, streamed, out


def _expected(clean, arm: str, name: str, kind: str, left_out: set[int]) -> dict:
    """Estimate, n and excluded from the clean run's values of the patients kept."""
    from dermatwin.trials.statistics import kaplan_meier

    table = clean.endpoints
    rows = table[(table["arm"] == arm) & ~table["patient"].isin(left_out)]
    if kind == "time_to_event":
        t, e = rows[name].to_numpy(), rows[name + "_event"].to_numpy()
        keep = np.isfinite(t) & np.isfinite(e)
        estimate = kaplan_meier(t[keep], e[keep])[1]["estimate"]
    else:
        x = rows[name].to_numpy()
        keep = np.isfinite(x)
        estimate = (100.0 if kind == "rate" else 1.0) * float(x[keep].mean())
    n = int(keep.sum())
    return {"estimate": None if np.isnan(estimate) else estimate, "n": n, "excluded": 12 - n}


def test_failed_and_nan_patients_leave_every_denominator(clean, failing):
    memory, streamed, out = failing
    assert sorted(memory.failures["patient"]) == sorted(list(FAILED) * 2)
    assert (memory.failures["status"] == int(Status.MAX_STEPS)).all()
    assert streamed.summary["arms"]["dupilumab"] == memory.summary["arms"]["dupilumab"]
    written = json.loads((out / "summary.json").read_text())
    assert written == json.loads(json.dumps(streamed.summary))
    html = (out / "report.html").read_text()
    kinds = memory.kinds()
    left_out = {"dupilumab": FAILED | NAN_SCORE, "placebo": FAILED | NAN_SCORE | {4, 5, 6, 7}}
    for result, arm in [(memory, "dupilumab"), (memory, "placebo"), (streamed, "placebo")]:
        gone = left_out[arm] if result is streamed else FAILED | NAN_SCORE
        for name, kind in kinds.items():
            got = result.summary["arms"][arm][name]
            want = _expected(clean, arm, name, kind, gone)
            assert got["n"] == want["n"] and got["excluded"] == want["excluded"], (arm, name)
            assert got["estimate"] == pytest.approx(want["estimate"]), (arm, name)
    # the rate among the patients analysed, n analysed and excluded in the report table
    r = streamed.summary["arms"]["placebo"]["EASI-50@8w"]
    assert r["n"] == 4 and r["excluded"] == 8
    # the wide endpoint table: the placebo cell of EASI-50@8w says n 4 and 8 excluded
    row = html.split("<td>EASI-50@8w</td>")[1].split("</tr>")[0]
    assert "; n 4, excl. 8" in row, row
