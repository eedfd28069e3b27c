"""The trial-level placebo random effect: estimate, predictive nodes, shipped fits."""

import numpy as np
import pytest
from scipy.special import expit

from dermatwin.calibration.placebo import (
    TARGETS,
    PlaceboModel,
    curves_of,
    fit_tau,
    placebo_arm,
    placebo_cross,
    placebo_rows,
    read_placebo_models,
    with_placebo,
)
from dermatwin.calibration.validate import reference_trials
from dermatwin.errors import DermatwinError
from dermatwin.params.parameter_set import load_parameter_set


def synthetic(tau: float, mu: float = -1.0, trials: int = 150, n: int = 300, seed: int = 1):
    """Placebo arms whose rate is expit(a_j + theta_j), theta_j = mu + N(0, tau^2)."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0.0, 0.7, trials)  # endpoints/populations the model knows about
    theta = mu + tau * rng.standard_normal(trials)
    y = rng.binomial(n, expit(offsets + theta))

    def curve(j, t):
        return expit(offsets[j] + np.asarray(t))

    return y, np.full(trials, n), curve


@pytest.mark.parametrize("tau", [0.3, 0.8])
def test_a_known_tau_is_recovered(tau):
    y, n, curve = synthetic(tau)
    fit = fit_tau(y, n, curve)
    assert fit.tau == pytest.approx(tau, abs=0.12)
    assert fit.mu == pytest.approx(-1.0, abs=0.15)
    assert fit.tau_ci[0] <= tau <= fit.tau_ci[1]
    assert 0 < fit.mu_se < 0.2


def test_no_spread_gives_a_small_tau():
    y, n, curve = synthetic(0.0)
    fit = fit_tau(y, n, curve)
    assert fit.tau < 0.12 and fit.tau_ci[0] == 0.0


def model(tau: float, scale: str = "logit") -> PlaceboModel:
    return PlaceboModel(
        "psoriasis", TARGETS["psoriasis"][0], scale, mu=-2.3, tau=tau, mu_se=0.0,
        tau_ci=(0.0, 1.0), grid=(0.01, 0.4), fitted_value=0.09,
    )  # fmt: skip


def test_nodes_widen_with_tau_and_centre_on_mu():
    narrow, wide = model(0.1).nodes(5), model(0.8).nodes(5)
    assert sum(w for _, w in wide) == pytest.approx(1.0)
    spread = [max(v for v, _ in m) - min(v for v, _ in m) for m in (narrow, wide)]
    assert spread[1] > 3 * spread[0]
    assert narrow[2][0] == pytest.approx(expit(-2.3))  # the middle node: mu itself
    assert all(0.01 <= v <= 0.4 for v, _ in model(5.0).nodes(5))  # clipped to the grid
    with pytest.raises(DermatwinError, match="placebo nodes"):
        model(0.1).nodes(0)


def test_one_placebo_row_per_trial_with_a_placebo_arm():
    specs = reference_trials()
    for disease, expected in (("AD", 6), ("psoriasis", 5)):
        rows = placebo_rows(specs, disease)
        assert len(rows) == expected == len({r.trial for r in rows})
        for r in rows:
            assert placebo_arm(specs[r.trial], r.arm)
            assert r.endpoint.split("-")[0] in ("EASI", "PASI")
            assert 0 < r.responders < r.n
    pset = with_placebo(load_parameter_set("default"), "AD", 0.3)
    assert pset.model_overrides()["placebo_response"] == 0.3


def test_shipped_placebo_models_match_their_rows_and_refit():
    models = read_placebo_models()
    assert set(models) == set(TARGETS)
    specs = reference_trials()
    for disease, m in models.items():
        assert [r["row"] for r in m.rows] == [r.row for r in placebo_rows(specs, disease)]
        assert 0 < m.tau < 1.5 and m.tau_ci[0] <= m.tau <= m.tau_ci[1]
        curves, y, n = curves_of(m)
        # the stored curves reproduce the stored fit
        refit = fit_tau(y, n, curves, m.mu, virtual_n=curves.n_sim)
        assert refit.tau == pytest.approx(m.tau, abs=0.02)
        assert refit.mu == pytest.approx(m.mu, abs=0.02)
        cross = placebo_cross(m)
        assert [c["row"] for c in cross] == [r["row"] for r in m.rows]
        for c in cross:
            lo, hi = c["interval"]
            assert lo <= c["predicted"] <= hi and c["inside"] == (lo <= c["observed"] <= hi)


def test_calibrate_placebo_writes_models_that_read_back(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from dermatwin.calibration import placebo
    from dermatwin.cli import app

    shipped = read_placebo_models()
    monkeypatch.setattr(placebo, "fit_placebo", lambda specs, pset, d, log, **kw: shipped[d])
    out = tmp_path / "placebo.yaml"
    res = CliRunner().invoke(app, ["calibrate-placebo", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert read_placebo_models(out) == shipped
    assert "AD: model.placebo_response on the log scale" in res.stdout


def test_curves_in_workers_equal_curves_in_one_process(pool, monkeypatch):
    """``calibrate-placebo --workers``: the same curves, hence the same fit (few patients,
    3 curve points)."""
    from dermatwin.calibration import placebo

    grid = placebo.grid_values
    monkeypatch.setattr(placebo, "grid_values", lambda disease, points=3: grid(disease, points))
    specs = reference_trials()
    two = dict(sorted((r.trial, specs[r.trial]) for r in placebo_rows(specs, "AD"))[:2])
    pset = load_parameter_set("default")
    one = placebo.fit_placebo(two, pset, "AD", log=lambda _: None, n=8)
    lines: list[str] = []
    again = placebo.fit_placebo(two, pset, "AD", log=lines.append, n=8, workers=pool)
    assert again == one and len(lines) == 2 and len(one.rows[0]["curve"]) == 3
