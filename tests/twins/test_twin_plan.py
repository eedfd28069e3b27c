"""The planner: constraints prune the grid; the patient's MSC responsiveness steers the plan.

Twins here are built from known parameters (a tight cloud of draws around them), so the
better regimen is known by construction: for a patient whose T cells barely respond to the
MSC secretome (msc_ec50 high), MSC monotherapy cannot reach the goal and a drug-based
regimen must rank first; for a highly responsive patient the same MSC course must do
better than for the poor responder.
"""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.patients.profile import Patient
from dermatwin.therapy.items import DrugItem
from dermatwin.twins.fit import FitSettings, Twin
from dermatwin.twins.likelihood import twin_model
from dermatwin.twins.plan import (
    Candidate,
    Constraints,
    _msc_item,
    candidates,
    load_constraints,
    parse_goal,
    plan,
    plan_drugs,
)
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import TwinDataError, Visit, VisitRecord

PATIENT = Patient(id="p", disease="AD", age=35.0, weight_kg=70.0)


@pytest.fixture(scope="module")
def model():
    return twin_model()[0]


def _twin(model, msc_ec50: float) -> Twin:
    prior = Prior(twin_parameters(model, PATIENT))
    theta = prior.mu.copy()
    theta[prior.names.index("msc_ec50")] = np.log(msc_ec50)
    rng = np.random.default_rng(0)
    draws = theta + 0.05 * rng.standard_normal((12, prior.ndim))
    record = VisitRecord(PATIENT, (Visit(day=0.0, values={"EASI": 25.0}),), ())
    return Twin(record, prior.parameters, draws[None], np.zeros((1, 12)), FitSettings())


def _grid():
    sc, n, _ = _msc_item("UC allogeneic fresh", "SC 1e8 x4 q2w")
    return [
        Candidate("MSC SC x4", "MSC", [sc], n, n),
        Candidate("dupilumab", "drug", [DrugItem(drug="dupilumab")], 0, 1, ("dupilumab",)),
        Candidate("dupilumab + MSC", "combination", [DrugItem(drug="dupilumab"), sc], n, n + 1),
        Candidate("nothing", "none", [], 0, 0),
    ]


def test_poor_msc_responder_is_steered_to_a_drug(model):
    poor = plan(_twin(model, 100.0), "EASI-50@12w", n_draws=12, model=model, grid=_grid())
    table = poor.table.set_index("regimen")
    assert poor.table["regimen"].iloc[0] in ("dupilumab", "dupilumab + MSC")
    assert table.loc["MSC SC x4", "p_goal"] == 0.0
    assert table.loc["MSC SC x4", "rank"] > table.loc["dupilumab", "rank"]
    assert "why" in poor.table and poor.table["why"].str.contains("P\\(EASI-50@12w\\)").all()
    assert len(poor.trajectories) == 4


def test_msc_response_follows_the_patients_responsiveness(model):
    grid = [_grid()[0], _grid()[3]]
    kw = {"n_draws": 12, "model": model, "grid": grid}
    poor = plan(_twin(model, 100.0), "EASI-50@12w", **kw).table.set_index("regimen")
    good = plan(_twin(model, 0.003), "EASI-50@12w", **kw).table.set_index("regimen")
    # the same MSC course lowers EASI more in the responsive patient ...
    assert good.loc["MSC SC x4", "median_score_at_goal"] < (
        poor.loc["MSC SC x4", "median_score_at_goal"] - 0.5
    )
    # ... and ranks above no treatment for them (durability or probability)
    assert good.loc["MSC SC x4", "rank"] < good.loc["nothing", "rank"]


def test_constraints_prune_the_grid():
    everything = candidates("AD", Constraints())
    names = [c.name for c in everything]
    assert any("adipose autologous" in n for n in names) and "prednisone" in names
    limited = candidates(
        "AD",
        Constraints(
            max_infusions=1, no_systemic_steroids=True, no_liposuction=True, max_clinic_visits=2
        ),
    )
    assert limited and all(c.msc_doses <= 1 and c.clinic_visits <= 2 for c in limited)
    assert not any("adipose autologous" in c.name or "prednisone" in c.drugs for c in limited)
    only_cord = candidates("AD", Constraints(allowed_sources=["umbilical_cord"]))
    assert all(
        c.product in (None, "UC allogeneic thawed", "UC allogeneic fresh") for c in only_cord
    )


def test_candidate_drugs_come_from_the_catalogue():
    # the lists the planner used before they were catalogue data (plan_for), in order
    assert plan_drugs("AD") == (
        "dupilumab", "lebrikizumab", "tralokinumab", "upadacitinib", "ciclosporin", "prednisone",
    )  # fmt: skip
    assert plan_drugs("psoriasis") == (
        "secukinumab", "risankizumab", "adalimumab", "methotrexate", "uvb",
    )  # fmt: skip
    drugs = [c.drugs[0] for c in candidates("psoriasis", Constraints()) if c.kind == "drug"]
    assert tuple(drugs) == plan_drugs("psoriasis")


def test_goal_parsing():
    g = parse_goal("EASI-75@16w", "AD")
    assert (g.score, g.level, g.week) == ("EASI", 75, 16.0)
    with pytest.raises(TwinDataError, match="not the psoriasis score"):
        parse_goal("EASI-75@16w", "psoriasis")
    with pytest.raises(TwinDataError, match="not understood"):
        parse_goal("cure@16w", "AD")


#: constraints file body -> part of the one-line error
BAD_CONSTRAINTS = {
    "exclude_drugs: [aspirin]": "c.yaml: exclude_drugs: unknown drug 'aspirin'; allowed: ",
    "allowed_sources: [moon]": "c.yaml: allowed_sources: unknown MSC source 'moon'; allowed: ",
    "allowed_sources: []": "c.yaml: allowed_sources: give at least one source",
    "max_infusions: true": "c.yaml: max_infusions:",
}


@pytest.mark.parametrize("body", sorted(BAD_CONSTRAINTS))
def test_bad_constraints_are_one_line(tmp_path, body):
    path = tmp_path / "c.yaml"
    path.write_text(body + "\n")
    with pytest.raises(TwinDataError) as err:
        load_constraints(path)
    message = str(err.value)
    assert message.startswith(BAD_CONSTRAINTS[body]) and "\n" not in message, message
    if "allowed: " in BAD_CONSTRAINTS[body]:
        assert "dupilumab" in message or "umbilical_cord" in message, message


def test_plan_inputs_checked_before_simulating(model, monkeypatch):
    twin = _twin(model, 1.0)
    monkeypatch.setattr(Twin, "draws", lambda *a: pytest.fail("simulated a bad plan"))
    short_horizon = Constraints(horizon=56.0)
    with pytest.raises(TwinDataError, match=r"horizon: 8 weeks is before the goal \(EASI-75@16w"):
        plan(twin, "EASI-75@16w", short_horizon, model=model)
    for top in (0, -1):
        with pytest.raises(TwinDataError, match=f"top: {top}; allowed: 1 or more"):
            plan(twin, "EASI-75@16w", model=model, top=top)
    with pytest.raises(TwinDataError) as err:
        plan(twin, "EASI-75@" + "9" * 10_000, model=model)
    assert str(err.value).startswith("goal: ") and len(str(err.value)) < 200
    # without a horizon in the constraints the default one still stretches to the goal
    monkeypatch.undo()
    result = plan(twin, "EASI-50@30w", n_draws=4, model=model, grid=_grid()[3:])
    assert result.goal.week == 30.0 and len(result.table) == 1
