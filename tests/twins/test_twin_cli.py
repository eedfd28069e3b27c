"""CLI: twin fit -> twin predict -> plan on the example patient (tiny chains)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from dermatwin.cli import app, main
from dermatwin.patients.profile import Patient
from dermatwin.twins.fit import FitSettings, Twin
from dermatwin.twins.likelihood import twin_model
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import Visit, VisitRecord

DISCLAIMER = "Research use only: dermatwin is not a medical device."


def strict_json(text: str):
    """json.loads refusing NaN / Infinity (the tiny chains give NaN autocorrelation
    times, which must be printed and saved as null)."""

    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_fit_predict_plan(tmp_path, examples_dir, capsys):
    runner = CliRunner()
    twins = examples_dir / "twins"
    twin = tmp_path / "twin"
    fit = runner.invoke(
        app,
        ["twin", "fit", str(twins / "ad_patient.csv"), "--out", str(twin)]
        + ["--walkers", "10", "--burn", "0", "--steps", "10", "--no-extend", "--json"],
    )
    assert fit.exit_code == 0, fit.output
    diagnostics = strict_json(fit.stdout)
    # tiny chains do not converge: one warning line on stderr, JSON alone on stdout
    assert fit.stderr.startswith("warning: twin fit of ad_patient.csv did not converge")
    assert fit.stderr.count("\n") == 1
    assert strict_json((twin / "diagnostics.json").read_text()) == diagnostics
    assert diagnostics["visits"] == 4 and "max_rhat" in diagnostics
    for name in ("posterior.parquet", "diagnostics.json", "twin.json", "report.html"):
        assert (twin / name).is_file()
    assert DISCLAIMER in (twin / "report.html").read_text()

    pred = runner.invoke(
        app,
        ["twin", "predict", str(twin), "--regimen", str(twins / "continue_dupilumab.yaml")]
        + ["--draws", "10", "--json"],
    )
    assert pred.exit_code == 0, pred.output
    summary = strict_json(pred.output)
    assert {r["endpoint"] for r in summary["responders"]} == {"EASI-50", "EASI-75"}
    assert summary["relapse"]["last_dose_day"] is not None
    out = twin / "predict_continue_dupilumab"
    assert (out / "bands.csv").is_file() and DISCLAIMER in (out / "report.html").read_text()

    constraints = tmp_path / "c.yaml"
    constraints.write_text(
        "max_infusions: 1\nallowed_sources: [umbilical_cord]\n"
        "exclude_drugs: [lebrikizumab, tralokinumab, upadacitinib, ciclosporin, prednisone]\n"
    )
    ranked = runner.invoke(
        app,
        ["plan", str(twin), "--goal", "EASI-50@8w", "--constraints", str(constraints)]
        + ["--draws", "6", "--json"],
    )
    assert ranked.exit_code == 0, ranked.output
    rows = strict_json(ranked.output)
    # tied regimens share a rank: ranks never fall and never run ahead of the position
    ranks = [r["rank"] for r in rows]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    assert all(r <= i + 1 for i, r in enumerate(ranks))
    assert all(0.0 <= r["p_best"] <= 1.0 and r["p_goal_se"] >= 0.0 for r in rows)
    assert all(r["msc_doses"] <= 1 for r in rows)
    page = (twin / "plan" / "report.html").read_text()
    assert "Ranked plan for EASI-50@8w" in page and DISCLAIMER in page

    # bad inputs on a real twin: one line naming the field, no traceback (as the
    # `dermatwin` script runs: main() turns typer's usage errors into one line too)
    def one_line_error(args, *words):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        out, err = capsys.readouterr()
        assert exit_.value.code == 2, (out, err)
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert all(w in err for w in words), err

    one_line_error(["plan", str(twin), "--goal", "EASI-75@200w"], "goal", "104 weeks")
    long = tmp_path / "long.yaml"
    long.write_text("horizon: 3 years\nregimen: [{drug: dupilumab}]\n")
    one_line_error(["twin", "predict", str(twin), "--regimen", str(long)], "horizon")
    one_line_error(
        ["twin", "predict", str(twin), "--regimen", str(twins / "continue_dupilumab.yaml")]
        + ["--draws", "0"],
        "draws",
    )
    meta = json.loads((twin / "twin.json").read_text())
    del meta["parameters"]
    (twin / "twin.json").write_text(json.dumps(meta))
    one_line_error(["plan", str(twin)], "not a twin folder", "KeyError")


def test_bad_regimen_and_goal_fail_cleanly(tmp_path, examples_dir):
    runner = CliRunner()
    missing = runner.invoke(app, ["plan", str(tmp_path / "none")])
    assert missing.exit_code == 2 and missing.output.startswith("error: ")
    assert "not a twin folder" in missing.output and len(missing.output.strip().splitlines()) == 1


def test_bad_regimen_and_constraints_on_a_saved_twin(tmp_path, capsys):
    """`twin predict` / `plan` inputs are one line naming the field, before any output."""
    patient = Patient(id="p", disease="AD", age=35.0, weight_kg=70.0)
    prior = Prior(twin_parameters(twin_model()[0], patient))
    record = VisitRecord(patient, (Visit(day=0.0, values={"EASI": 25.0}),), ())
    twin = tmp_path / "twin"
    Twin(record, prior.parameters, prior.mu[None, None], np.zeros((1, 1)), FitSettings()).save(twin)
    before = sorted(p.name for p in twin.iterdir())

    def one_line(args, *words):
        with pytest.raises(SystemExit) as exit_:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert exit_.value.code == 2 and err.startswith("error: "), (out, err)
        assert err.count("\n") == 1 and all(w in err for w in words), err

    regimen = tmp_path / "r.yaml"
    regimen.write_text("regimen: [{drug: dupilumab, amount: 1.0e9, unit: mg}]\n")
    one_line(["twin", "predict", twin, "--regimen", regimen], "regimen[0]: amount", "dupilumab")
    constraints = tmp_path / "c.yaml"
    constraints.write_text("exclude_drugs: [aspirin]\n")
    one_line(["plan", twin, "--constraints", constraints], "exclude_drugs", "allowed: ")
    constraints.write_text("horizon: 8 weeks\n")
    one_line(["plan", twin, "--goal", "EASI-75@30w", "--constraints", constraints], "horizon")
    one_line(["plan", twin, "--constraints", tmp_path], "--constraints", "folder")
    assert sorted(p.name for p in twin.iterdir()) == before
