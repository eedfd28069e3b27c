"""The calibration problem as data and its PEtab export (issue 18, build 1)."""

from __future__ import annotations

import csv
import math
import os
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import yaml

from dermatwin.calibration.fit import PAIRED_N, STEPS
from dermatwin.calibration.problem import (
    CALIBRATION_N,
    CONDITION_COLUMNS,
    MEASUREMENT_COLUMNS,
    OBSERVABLE_COLUMNS,
    PARAMETER_COLUMNS,
    OpenValue,
    calibration_problem,
    condition_id,
    from_petab_id,
    petab_id,
    petab_tables,
    step_problem,
)
from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed
from dermatwin.params.parameter_set import CalibrationError
from dermatwin.trials.spec import load_trial

#: PEtab v1 columns: required, then optional (petab.C of libpetab-python 0.x)
PETAB_V1 = {
    "measurements.tsv": (
        {"observableId", "simulationConditionId", "measurement", "time"},
        {
            "preequilibrationConditionId",
            "observableParameters",
            "noiseParameters",
            "datasetId",
            "replicateId",
        },
    ),
    "conditions.tsv": ({"conditionId"}, {"conditionName"}),
    "observables.tsv": (
        {"observableId", "observableFormula", "noiseFormula"},
        {"observableName", "observableTransformation", "noiseDistribution"},
    ),
    "parameters.tsv": (
        {"parameterId", "parameterScale", "lowerBound", "upperBound", "nominalValue", "estimate"},
        {
            "parameterName",
            "initializationPriorType",
            "initializationPriorParameters",
            "objectivePriorType",
            "objectivePriorParameters",
        },
    ),
}
PETAB_ID = r"^[a-zA-Z_]\w*$"


@pytest.fixture(scope="module")
def tables():
    return petab_tables(calibration_problem())


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def test_columns_are_petab_v1(tables):
    for name, (required, optional) in PETAB_V1.items():
        header = set(tables[name].splitlines()[0].split("\t"))
        assert required <= header, name
        assert header <= required | optional, name
    assert set(MEASUREMENT_COLUMNS) | set(CONDITION_COLUMNS) | set(OBSERVABLE_COLUMNS) | set(
        PARAMETER_COLUMNS
    ) <= set().union(*(r | o for r, o in PETAB_V1.values()))
    problem = yaml.safe_load(tables["problem.yaml"])
    assert problem["format_version"] == 1
    files = problem["problems"][0]
    assert problem["parameter_file"] in tables
    for key in ("condition_files", "measurement_files", "observable_files"):
        assert all(f in tables for f in files[key])
    ids = [r["parameterId"] for r in _rows(tables["parameters.tsv"])]
    ids += [r["observableId"] for r in _rows(tables["observables.tsv"])]
    ids += [r["conditionId"] for r in _rows(tables["conditions.tsv"])]
    assert all(re.match(PETAB_ID, i) for i in ids)


def test_every_fitted_row_appears(tables):
    measured = _rows(tables["measurements.tsv"])
    names = " ".join(r["observableName"] for r in _rows(tables["observables.tsv"]))
    ids = {r["observableId"] for r in measured}
    for step in STEPS:
        for row in step.rows:
            assert f"obs_{row}" in ids or row in names, row
        for treated, placebo in step.pairs:
            (m,) = (r for r in measured if r["observableId"] == f"diff_{treated}")
            assert float(m["measurement"]) == pytest.approx(observed(treated) - observed(placebo))
    assert len(measured) == sum(len(s.pairs) or len(s.rows) for s in STEPS)
    steps = {r["datasetId"] for r in measured}
    assert len(steps) == len(STEPS)


def test_ids_round_trip(tables):
    params = _rows(tables["parameters.tsv"])
    targets = [t for s in STEPS for t in s.targets]
    assert [from_petab_id(p["parameterId"]) for p in params] == targets
    assert [p["parameterName"] for p in params] == targets
    for c in _rows(tables["conditions.tsv"]):
        trial, arm = c["conditionName"].split(":")
        assert arm in load_trial(EXAMPLE_TRIALS / trial).arms
        assert condition_id(trial, arm) == c["conditionId"]
    assert from_petab_id(petab_id("drug.secukinumab.emax")) == "drug.secukinumab.emax"


def test_priors_are_uniform_on_the_parameter_scale(tables):
    for p in _rows(tables["parameters.tsv"]):
        lo, hi = map(float, p["objectivePriorParameters"].split(";"))
        if p["parameterScale"] == "log10":
            assert (lo, hi) == pytest.approx(
                (math.log10(float(p["lowerBound"])), math.log10(float(p["upperBound"])))
            )
        else:
            assert p["parameterScale"] == "lin"
            assert (lo, hi) == (float(p["lowerBound"]), float(p["upperBound"]))
        assert p["objectivePriorType"] == "parameterScaleUniform"


def test_likelihoods_use_the_published_n():
    problems = calibration_problem()
    for p, step in zip(problems, STEPS, strict=True):
        refs = load_trial(EXAMPLE_TRIALS / step.trial).reference_rows
        for t in p.terms:
            assert t.n == refs[t.row].n
            if refs[t.row].se is not None:  # a pooled row: its published SE, not n
                assert t.likelihood == "normal" and t.sd == refs[t.row].se
            elif t.placebo is None:
                assert t.likelihood == "binomial"
                # the binomial peaks at the published rate
                grid = np.linspace(1, 99, 981)
                assert grid[np.argmax(t.loglik(grid))] == pytest.approx(
                    100 * t.responders / t.n, abs=0.1
                )
            else:
                p1, p0 = observed(t.row) / 100, observed(t.placebo) / 100
                se = 100 * math.sqrt(p1 * (1 - p1) / t.n + p0 * (1 - p0) / t.placebo_n)
                assert t.likelihood == "normal" and t.sd == pytest.approx(se)
        # every arm of a step holds the same virtual patients, more than the published arm
        # and at least ~4 virtual patients per published patient of the step's largest arm
        # (the Monte Carlo variance about a quarter of the published arm's)
        largest = max(t.n or 0 for t in p.terms)
        if step.paired:
            assert p.n_per_arm == PAIRED_N
        elif step.patients:
            assert p.n_per_arm == step.patients
        else:
            assert p.n_per_arm == max(CALIBRATION_N, 1000 * round(4 * largest / 1000))
            assert p.n_per_arm >= 3.5 * largest
        assert all(p.n_per_arm > (t.n or 0) for t in p.terms)
        # the likelihood knows how many virtual patients the simulated value comes from
        assert all(t.virtual_n == p.n_per_arm for t in p.terms)


def test_bad_open_value_is_one_line():
    with pytest.raises(CalibrationError, match=r"prior 'beta'; allowed: uniform, normal"):
        OpenValue("model.x", "1", 0.0, 1.0, prior="beta")
    with pytest.raises(CalibrationError, match=r"low > 0 on a log10 scale"):
        OpenValue("model.x", "1", 0.0, 1.0, scale="log10")


def test_cli_writes_petab_folder(tmp_path):
    out = tmp_path / "petab"
    env = os.environ.copy()
    cmd = [sys.executable, "-m", "dermatwin.cli", "calibrate", "--petab", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert {"measurements.tsv", "parameters.tsv", "problem.yaml"} <= {p.name for p in out.iterdir()}
    again = subprocess.run(cmd, capture_output=True, text=True, env=env)
    message = again.stderr + again.stdout
    assert again.returncode != 0 and "--petab" in message and "--out" not in message
    assert subprocess.run([*cmd, "--overwrite"], capture_output=True, env=env).returncode == 0


def test_a_pooled_row_uses_its_published_se(tmp_path):
    """A meta-analysis row (no arm size; se from its 95 % CI) gets a normal likelihood
    with that SD; a row with neither n nor se is a one-line error."""
    spec = load_trial(EXAMPLE_TRIALS / "schmitt2007_ciclosporin_ad.yaml")
    step = next(s for s in STEPS if s.trial == "schmitt2007_ciclosporin_ad.yaml")
    (term,) = (t for t in step_problem(step).terms if t.row == "AD_CSA_META_6_8W")
    assert term.n is None and term.likelihood == "normal"
    assert term.sd == pytest.approx((62 - 48) / 3.92, abs=0.01)  # CI 48-62 %
    # the log-likelihood falls by 1/2 at one published SE (plus the simulation's own)
    sd = math.hypot(term.sd, term.simulation_sd)
    drop = term.loglik(np.array([55.0])) - term.loglik(np.array([55.0 + sd]))
    assert float(drop[0]) == pytest.approx(0.5, rel=1e-6)
    data = spec.model_dump(mode="python")
    del data["reference_rows"]["AD_CSA_META_6_8W"]["se"]
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump(data))
    with pytest.raises(CalibrationError, match=r"AD_CSA_META_6_8W\.n is missing; allowed"):
        step_problem(replace(step, trial=str(bare)))
