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
    _explain,
    _msc_item,
    _order,
    candidates,
    load_constraints,
    paired_se,
    parse_goal,
    plan,
    plan_drugs,
    prob_best,
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


def _row(name: str, hits: np.ndarray, visits: int) -> dict:
    p = float(hits.mean())
    return {
        "regimen": name,
        "p_goal": p,
        "p_goal_se": float(np.sqrt(p * (1 - p) / len(hits))),
        "durability_weeks": 10.0,
        "clinic_visits": visits,
        "msc_doses": 0,
    }


def test_a_gap_within_monte_carlo_error_is_a_tie_not_an_order():
    # issue 15: "upadacitinib + MSC" 0.27 over upadacitinib 0.22, a gap of 3 of 64 draws
    alone = np.zeros(64)
    alone[:14] = 1.0
    combo = alone.copy()
    combo[14:17] = 1.0
    other = np.zeros(64)
    other[:2] = 1.0
    hits = {"upadacitinib + MSC": combo, "upadacitinib": alone, "emollient": other}
    rows = [
        _row("upadacitinib + MSC", combo, 7),
        _row("upadacitinib", alone, 1),
        _row("emollient", other, 0),
    ]
    _order(rows, hits)
    _explain(rows, parse_goal("EASI-75@16w", "AD"))
    by_name = {r["regimen"]: r for r in rows}
    # same goal probability within error: fewer clinic visits decides, and says so
    assert [r["regimen"] for r in rows] == ["upadacitinib", "upadacitinib + MSC", "emollient"]
    assert by_name["upadacitinib"]["tie_group"] == by_name["upadacitinib + MSC"]["tie_group"]
    assert "within Monte-Carlo error" in by_name["upadacitinib"]["why"]
    assert by_name["emollient"]["rank"] == 3
    # equal on every criterion: one shared rank
    same = [_row("a", alone, 1), _row("b", alone, 1)]
    _order(same, {"a": alone, "b": alone})
    _explain(same, parse_goal("EASI-75@16w", "AD"))
    assert [r["rank"] for r in same] == [1, 1] and "tied with the next" in same[0]["why"]


def test_probability_of_being_best_and_paired_error():
    a = np.zeros(64)
    a[:20] = 1.0
    b = a.copy()
    b[20:23] = 1.0
    c = np.zeros(64)
    best = prob_best(np.column_stack([a, b, c]))
    assert best.sum() == pytest.approx(1.0)
    assert best[2] == 0.0 and best[1] > best[0]
    # b is never below a on any draw: a only shares the lead when resampling drops all 3
    assert best[0] < 0.2
    # paired SE: 3 discordant draws of 64
    assert paired_se(a, b) == pytest.approx(np.sqrt(3 / 64 - (3 / 64) ** 2) / 8)
    failed = b.copy()
    failed[0] = np.nan
    assert np.isfinite(paired_se(a, failed))


def test_plan_table_reports_monte_carlo_error(model):
    table = plan(_twin(model, 100.0), "EASI-50@12w", n_draws=12, model=model, grid=_grid()).table
    assert {"p_goal_se", "p_best"} <= set(table.columns)
    assert table["p_best"].sum() == pytest.approx(1.0)
    assert (table["rank"].diff().dropna() >= 0).all()
    assert table["why"].str.contains("±").all()
