import json
import shutil

import numpy as np
import pytest
from support import with_draws
from typer.testing import CliRunner

from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed
from dermatwin.calibration.validate import (
    cross_block,
    markdown_table,
    reference_trials,
    summary,
    validate,
    write_validation_doc,
)
from dermatwin.cli import app
from dermatwin.params.parameter_set import CalibrationError
from dermatwin.trials.spec import TrialError, load_trial

TRIAL = "phoenix1_ustekinumab_psoriasis.yaml"


def test_every_reference_row_of_the_examples_exists_and_is_numeric():
    specs = reference_trials()
    assert len(specs) >= 8
    rows = [r for s in specs.values() for r in s.reference_rows]
    assert len(rows) == len(set(rows)), "a row is expressed by one trial only"
    for row in rows:
        observed(row)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trials")
    shutil.copy(EXAMPLE_TRIALS / TRIAL, folder / TRIAL)
    text = (folder / TRIAL).read_text().replace("n: 200", "n: 30")
    (folder / TRIAL).write_text(text)
    pset, rows = validate("CAL-2", folder)  # a point set
    return folder, pset, rows


def test_validation_rows_have_intervals_and_fitted_flags(small, tmp_path):
    _, pset, rows = small
    result = summary(pset, rows)
    expected = set(load_trial(EXAMPLE_TRIALS / TRIAL).reference_rows)
    assert {r["row"] for r in result["rows"]} == expected
    for r in result["rows"]:
        lo, hi = r["interval"]
        assert lo <= r["predicted"] <= hi
        assert r["inside"] == (lo <= r["observed"] <= hi)
        assert r["fitted"] == (r["row"] in pset.fitted_rows())
    counted = result["fitted"]["n"] + result["not_fitted"]["n"]
    assert counted == len(result["rows"])
    doc = write_validation_doc(pset, result, tmp_path / "validation.md")
    text = doc.read_text()
    assert "PSO_UST_PHX1_90_PASI75" in text and (tmp_path / "img" / "validation.png").exists()
    assert markdown_table(result).count("\n") == len(result["rows"]) + 1


def test_validate_cli_json_and_unknown_trial():
    res = CliRunner().invoke(app, ["validate", "--json", "--trial", TRIAL])
    assert res.exit_code == 0, res.stderr
    result = json.loads(res.stdout)
    assert {r["row"] for r in result["rows"]} == set(
        load_trial(EXAMPLE_TRIALS / TRIAL).reference_rows
    )
    assert result["fitted"]["n"] == sum(r["fitted"] for r in result["rows"]) > 0
    res = CliRunner().invoke(app, ["validate", "--trial", "nothing.yaml"])
    assert res.exit_code == 2
    assert "not an example trial" in res.stderr and res.stderr.count("\n") == 1


def test_reference_rows_must_name_an_arm_and_an_endpoint(tmp_path):
    text = (
        (EXAMPLE_TRIALS / TRIAL)
        .read_text()
        .replace("{arm: placebo, endpoint: PASI-75@12w", "{arm: nobody, endpoint: PASI-75@12w")
    )
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(TrialError, match="reference_rows.PSO_UST_PHX1_0_PASI75.arm"):
        load_trial(tmp_path / "bad.yaml")


def test_calibrate_rejects_an_unknown_target():
    res = CliRunner().invoke(app, ["calibrate", "--only", "model.nothing"])
    assert res.exit_code == 2
    assert "unknown target" in res.stderr and res.stderr.count("\n") == 1


KIM = "kim2017_hucbmsc_ad.yaml"


@pytest.fixture(scope="module")
def small_msc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("msc")
    text = (EXAMPLE_TRIALS / KIM).read_text().replace("n: 100", "n: 20")
    (folder / KIM).write_text(text)
    return folder, *validate("CAL-2", folder)


def test_msc_rows_report_the_paired_effect_on_the_same_patients(small_msc, small, tmp_path):
    from dermatwin.trials import paired_effect

    folder, pset, rows = small_msc
    result = summary(pset, rows)
    spec = load_trial(folder / KIM).model_copy(update={"parameter_set": pset})
    for r in result["rows"]:
        effect = r["paired_effect"]
        ref = spec.reference_rows[r["row"]]
        direct = paired_effect(spec, ref.arm, "placebo", ref.endpoint)
        assert effect["pairs"] == 20 and effect["reference"] == "placebo"
        assert effect["estimate"] == ref.scale * direct["difference"]
        assert effect["ci"] == sorted(ref.scale * v for v in direct["ci"])
    table = markdown_table(result)
    assert "paired effect vs placebo (95 % CI)" in table.splitlines()[0]
    text = write_validation_doc(pset, result, tmp_path / "validation.md").read_text()
    assert "- `AD_MSC_KIM2017_HD_EASI50` (EASI-50@12w): " in text
    # rows of drug trials have none
    _, pset2, plain = small
    assert all(r["paired_effect"] is None for r in summary(pset2, plain)["rows"])
    assert markdown_table(summary(pset2, plain)).splitlines()[2].endswith("|  |")


def _pso_model(tau: float):
    from dermatwin.calibration.placebo import TARGETS, PlaceboModel

    return PlaceboModel(
        "psoriasis", TARGETS["psoriasis"][0], "logit", mu=-2.4, tau=tau, mu_se=0.0,
        tau_ci=(0.0, 1.0), grid=(0.01, 0.4), fitted_value=0.0769,
    )  # fmt: skip


def test_predictive_intervals_include_the_placebo_and_widen_with_tau(small, tmp_path):
    folder, _, sampling_only = small
    runs = {}
    for tau in (0.05, 0.8):
        models = {"psoriasis": _pso_model(tau)}
        runs[tau] = validate("CAL-2", folder, placebo_nodes=3, placebo_models=models)[1]
    none = validate("CAL-2", folder, placebo_nodes=0)[1]
    for r in none:
        assert r.interval_includes == "sampling" and r.sampling_interval == (r.low, r.high)
    for rows in runs.values():
        assert {r.interval_includes for r in rows} == {"sampling+placebo"}
        # the point prediction and the sampling interval are those of the set's own run
        assert [(r.predicted, r.sampling_interval) for r in rows] == [
            (r.predicted, (r.low, r.high)) for r in none
        ]
    rates = [i for i, r in enumerate(none) if r.width_n is not None]
    width = {tau: [rows[i].high - rows[i].low for i in rates] for tau, rows in runs.items()}
    assert sum(width[0.8]) > 1.3 * sum(width[0.05])
    assert all(runs[0.8][i].width_n >= runs[0.05][i].width_n for i in rates)
    result = summary(small[1], runs[0.8])
    c = result["coverage"]
    assert c["interval_includes"] == ["sampling+placebo"]
    assert c["in_sample"]["n"] + c["out_of_sample"]["n"] == len(runs[0.8])
    assert c["placebo_arms"]["n"] == 1  # PSO_UST_PHX1_0_PASI75
    # placebo arms are compared with the predictive median and the mean
    (pbo,) = (r for r in runs[0.8] if r.placebo)
    assert pbo.low <= pbo.median <= pbo.high and pbo.median != pbo.predicted
    for key, value in (("within", pbo.median), ("within_mean", pbo.predicted)):
        assert c["placebo_arms"][key] == int(abs(value - pbo.observed) <= 6.0)
    assert c["median_width"] == pytest.approx(np.median([runs[0.8][i].width_n for i in rates]))
    assert len(sampling_only) == len(none)
    doc = write_validation_doc(small[1], result, tmp_path / "validation.md").read_text()
    assert "## Trial-level placebo model" in doc and "(sampling+placebo)" in doc
    assert "leave-one-trial-out" in doc and "median width of the 95 % interval" in doc
    assert (tmp_path / "img" / "validation_coverage.png").stat().st_size > 1000


def test_parameter_draws_are_evenly_spaced_with_equal_weights(small):
    from dermatwin.calibration.validate import parameter_draws

    _, pset, _ = small
    assert parameter_draws(pset) == [(pset, 1.0)]
    picked = parameter_draws(with_draws(pset, 64), 8)
    assert len(picked) == 8 and sum(w for _, w in picked) == pytest.approx(1.0)
    first = [s.values[0].value for s, _ in picked]
    assert len(set(first)) == 8 and all(s.n_draws == 0 for s, _ in picked)
    assert len(parameter_draws(with_draws(pset, 3), 8)) == 3


def test_posterior_draws_compose_with_the_placebo_nodes(small):
    folder, pset, plain = small
    drawn = with_draws(pset, 4)
    rows = validate(drawn, folder, placebo_models={"psoriasis": _pso_model(0.5)}, draws=4)[1]
    assert {r.interval_includes for r in rows} == {"sampling+placebo+posterior"}
    rows = validate(drawn, folder, placebo_nodes=0, draws=4)[1]
    assert {r.interval_includes for r in rows} == {"sampling+posterior"}
    # the posterior spread widens the sampling-only intervals of the treated arms
    width = {r.row: r.high - r.low for r in plain}
    treated = [r for r in rows if not r.placebo]
    assert sum(r.high - r.low for r in treated) > sum(width[r.row] for r in treated)


def test_validation_is_the_same_in_two_worker_processes(small):
    folder, pset, _ = small
    drawn = with_draws(pset, 2)
    one = validate(drawn, folder, draws=2)[1]
    two = validate(drawn, folder, draws=2, workers=2)[1]
    assert [r.to_dict() for r in one] == [r.to_dict() for r in two]


def test_leave_one_trial_out_returns_the_trials_values_to_their_prior(small):
    from dermatwin.calibration.validate import cross_validate

    folder, pset, _ = small
    drawn = with_draws(pset, 4, spread=0.02)
    inside = {r.row: r for r in validate(drawn, folder, draws=4)[1]}
    _, again, rows, freed = cross_validate(drawn, folder, draws=4)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in inside.values()]
    assert freed == {TRIAL: ("drug.ustekinumab.emax", "drug.ustekinumab.occupancy")}
    assert {r.row for r in rows} == set(inside)
    assert {r.interval_includes for r in rows} == {"sampling+placebo+posterior, trial left out"}
    fitted = [r for r in rows if r.row in pset.fitted_rows()]
    assert fitted, "the trial's fitted rows are predicted without it"
    for r in fitted:  # the prior clears almost every plaque (fit.STEPS says why it is open)
        assert r.predicted > inside[r.row].predicted + 5
        assert r.low <= r.predicted <= r.high
    with pytest.raises(CalibrationError, match="carries no posterior draws"):
        cross_validate(pset, folder)
    # the count is split by where the values come from: here every row's trial fitted
    # values that went back to their prior
    block = cross_block(drawn, rows, freed)
    assert block["by_prior"]["freed"] == {"n": len(rows), "inside": block["inside"]}
    assert block["by_prior"]["kept"] == {"n": 0, "inside": 0}


def test_validate_cli_cross_needs_a_set_with_draws():
    res = CliRunner().invoke(app, ["validate", "--cross", "--set", "CAL-2", "--trial", TRIAL])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: --set: CAL-2 carries no posterior draws")


def test_validate_cli_rejects_negative_placebo_nodes():
    res = CliRunner().invoke(app, ["validate", "--placebo-nodes", "-1", "--trial", TRIAL])
    assert res.exit_code == 2 and "--placebo-nodes" in res.stderr
    with pytest.raises(CalibrationError, match="placebo_nodes: -1; allowed"):
        validate("default", trials=[TRIAL], placebo_nodes=-1)


def test_runs_report_progress_and_run_a_repeated_spec_once(small, monkeypatch):
    from contextlib import contextmanager

    from dermatwin.calibration.validate import run_all
    from dermatwin.execution import progress

    calls = []

    @contextmanager
    def recorder(description, total, *, unit, enabled):
        calls.append((description, total, unit, enabled))
        yield lambda k: calls.append(k)

    monkeypatch.setattr(progress, "progress_bar", recorder)
    folder, _, _ = small
    spec = load_trial(folder / TRIAL)
    other = spec.with_seed(spec.seed + 1)
    first, again, second = run_all([spec, spec, other], 1, progress=None)
    assert first is again and second is not first  # the repeated spec ran once
    assert calls == [("trial runs", 2, "runs", None), 1, 1]


def test_placebo_quantiles_paired_with_draws_keep_the_placebo_variance(small):
    from dermatwin.calibration.placebo import placebo_value
    from dermatwin.calibration.validate import parameter_draws, predictive_plan

    folder, pset, _ = small
    spec = load_trial(folder / TRIAL)
    model = _pso_model(0.5)
    plan, label = predictive_plan(spec, with_draws(pset, 8), model, 5, 8)
    assert label == "sampling+placebo+posterior" and len(plan) == 8
    values = np.array([placebo_value(s.parameter_set, "psoriasis") for s, _ in plan])
    z = np.log(values / (1 - values)) - model.mu
    assert np.mean(z) == pytest.approx(0.0, abs=1e-9)
    assert np.std(z) == pytest.approx(model.predictive_sd, rel=1e-6)
    # one draw: the set's own point (its mode), not an arbitrary draw
    assert parameter_draws(with_draws(pset, 8), 1) == [(with_draws(pset, 8), 1.0)]


def test_leave_one_trial_out_frees_the_placebo_value_the_model_does_not_replace():
    from dermatwin.calibration.cross import freed_targets
    from dermatwin.params.parameter_set import load_parameter_set

    cal3 = load_parameter_set("CAL-3")
    solo = "solo1_dupilumab_ad.yaml"
    assert "model.placebo_response" not in freed_targets(cal3, solo)
    assert "model.placebo_response" in freed_targets(cal3, solo, placebo_model=False)
