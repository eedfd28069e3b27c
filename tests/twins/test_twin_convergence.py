"""The shipped twin examples converge with the default settings (issue 15), and a fit
that does not converge says so.

Each default fit takes about 35-50 CPU seconds (benchmarks/twin_results.json); both run
in ``make test``.
"""

from __future__ import annotations

import warnings

import pytest

from dermatwin.twins.fit import FitSettings, TwinConvergenceWarning, fit_twin
from dermatwin.twins.visits import load_visits


@pytest.mark.parametrize("example", ["ad_patient.csv", "psoriasis_patient.yaml"])
def test_shipped_example_converges_with_default_settings(examples_dir, example):
    record = load_visits(examples_dir / "twins" / example)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TwinConvergenceWarning)
        twin = fit_twin(record)
    d = twin.diagnostics
    for name in twin.names:
        assert d["rhat"][name] < 1.05, (name, d["rhat"])
        assert d["ess_bulk"][name] > 400, (name, d["ess_bulk"])
    assert d["converged"]


def test_a_fit_that_does_not_converge_warns(examples_dir):
    record = load_visits(examples_dir / "twins" / "ad_patient.csv")
    tiny = FitSettings(walkers=10, burn=0, steps=10, extend=False)
    with pytest.warns(TwinConvergenceWarning, match="did not converge: max R-hat .* min bulk ESS"):
        twin = fit_twin(record, tiny)
    assert not twin.diagnostics["converged"]
