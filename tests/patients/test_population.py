"""Virtual populations: prevalences, inclusion, disease states, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.model.skin import build
from dermatwin.patients.population import PopulationSpec, generate
from dermatwin.patients.profile import PatientError


@pytest.fixture(scope="module")
def model():
    return build()


def test_ad_population_meets_inclusion_and_flg_prevalence(model):
    spec = PopulationSpec(disease="AD", inclusion={"EASI": {"min": 16}, "IGA": {"min": 3}})
    pop = generate(model, spec, 120, seed=5)
    cov = pop.covariates
    assert (cov["baseline_EASI"] >= 16).all() and (cov["baseline_IGA"] >= 3).all()
    assert (pop.status == 0).all()
    # PER-10: 19.1 % of AD patients carry an FLG null mutation (binomial SE ~3.6 pp)
    assert abs(cov["flg_loss"].mean() - 0.191) < 0.11
    assert pop.draws >= 120


def test_psoriasis_population_is_in_plaque_with_silent_ad_core(model):
    spec = PopulationSpec(disease="psoriasis", inclusion={"PASI": {"min": 12}})
    pop = generate(model, spec, 30, seed=7)
    cov = pop.covariates
    assert (cov["baseline_PASI"] >= 12).all()
    # AD core silenced (d8 = 0): no pathogen and no AD T cells
    for name in ("p", "Th1", "Th2", "Th17", "Th22"):
        assert (np.abs(pop.y0[:, model.state_index(name)]) < 1e-12).all(), name
    assert 0.2 < cov["hla_c0602"].mean() < 0.8  # PER-21: 50.8 %


def test_population_does_not_depend_on_batching(model):
    spec = PopulationSpec(disease="AD", inclusion={"EASI": {"min": 16}})
    small = generate(model, spec, 5, seed=11)
    large = generate(model, spec, 40, seed=11)
    np.testing.assert_array_equal(small.parameters, large.parameters[:5])
    np.testing.assert_array_equal(small.y0, large.y0[:5])


def test_impossible_inclusion_fails_with_one_line(model):
    spec = PopulationSpec(disease="AD", inclusion={"EASI": {"min": 71.5}}, max_draws_per_patient=2)
    with pytest.raises(PatientError, match=r"^inclusion: only 0 of 3 AD patients") as err:
        generate(model, spec, 3, seed=1)
    assert "\n" not in str(err.value)


def test_inclusion_grades_iga_with_the_calibrated_edge():
    """A trial's IGA inclusion uses the parameter set's calibrated edge of IGA 1 (as its
    reported IGA does): EASI 3 is IGA 2 with the published edges, IGA 1 with CAL-2's."""
    import numpy as np

    from dermatwin.model.skin import build
    from dermatwin.params.parameter_set import load_parameter_set
    from dermatwin.patients.population import baseline_scores
    from dermatwin.trials.run import with_resolved_parameter_set
    from dermatwin.trials.spec import TrialSpec

    model = build()
    rows = np.tile(model.default_parameters(), (1, 1))
    y0 = model.default_initial_state()[None, :].copy()
    y0[0, model.state_index("p")] = 3.0 / 36.0  # EASI = 36 (p + 1 - s) = 3
    y0[0, model.state_index("s")] = 1.0
    edges = load_parameter_set("default").severity()
    assert baseline_scores(model, rows, y0)["IGA"].iloc[0] == 2
    assert baseline_scores(model, rows, y0, edges)["IGA"].iloc[0] == 1
    spec = TrialSpec.model_validate(
        {
            "name": "t",
            "disease": "AD",
            "duration": 28,
            "population": {"inclusion": {"IGA": {"min": 2}}},
            "arms": {"a": {"n": 2}},
            "endpoints": ["EASI-50@4w"],
        }
    )
    assert spec.population_spec().severity == {}
    data = spec.model_dump(mode="python")
    data["population"]["severity"] = {"iga1_easi": 3.0}
    with pytest.raises(ValueError, match="population.severity"):
        TrialSpec.model_validate(data)
    assert with_resolved_parameter_set(spec).population_spec().severity == edges
