"""A regimen's or a trial arm's dosing on the skin model, ready for SBML export.

:func:`regimen_dosing` (regimen items, as in trial YAML files or ``twin predict
--regimen``) and :func:`arm_dosing` (one arm of a trial, with its withdrawal) give a
:class:`DosedModel`: the skin model with a calibrated parameter set's values as its
defaults, the values the regimen's drugs and MSC product set (their slots' PK and
potency) and the dose events (days from 0). :meth:`DosedModel.sbml` writes it with
:func:`dermatwin.io.sbml.to_sbml`: every dose an SBML event, so any SBML simulator runs the
regimen as dermatwin's engine does (``simulate(d.model, times, d.parameters,
events=d.events)``).

The patient is the model's reference patient at ``weight_kg`` (doses per kg scale with
it), from the model's initial state: not a sampled virtual patient of a trial's
population, not brought to a steady state first, and without rescue therapy.

>>> from dermatwin.therapy.items import DrugItem
>>> dosed = regimen_dosing([("regimen[0]", DrugItem(drug="dupilumab"))], horizon_days=28.0)
>>> [(e.time, e.target, round(e.value, 3)) for e in dosed.events][:2]
[(0.0, 'drug_il4r', 80.0), (14.0, 'drug_il4r', 40.0)]
>>> sorted(dosed.parameters)[:2]
['il4r_ec50', 'il4r_emax']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dermatwin.engine.events import Event
from dermatwin.model.skin import build
from dermatwin.model.spec import Model
from dermatwin.run import ParameterSetLike, resolve_parameter_set
from dermatwin.therapy.drug_entry import REFERENCE_WEIGHT_KG
from dermatwin.therapy.items import DrugItem, MSCItem
from dermatwin.therapy.regimen import Regimen
from dermatwin.trials.run import arm_regimen, items_regimen, trial_model
from dermatwin.trials.spec import TrialError, TrialSpec


@dataclass(frozen=True)
class DosedModel:
    """A model, the parameter values a regimen sets and the regimen's dose events."""

    model: Model
    parameters: dict[str, float]
    events: tuple[Event, ...]

    def sbml(self) -> str:
        """The SBML Level 3 document: the doses as events (:func:`~dermatwin.io.sbml.to_sbml`)."""
        from dermatwin.io.sbml import to_sbml

        return to_sbml(self.model, parameters=self.parameters, events=self.events)

    def __repr__(self) -> str:
        return f"DosedModel({self.model.name}, {len(self.events)} events)"


def calibrated_skin(parameter_set: ParameterSetLike = "default") -> Model:
    """The skin model with ``parameter_set``'s values as its defaults (as twins and trials
    apply a set)."""
    overrides = resolve_parameter_set(parameter_set).model_overrides()
    return build().with_defaults(**overrides) if overrides else build()


def _dosed(model: Model, regimen: Regimen) -> DosedModel:
    plan = regimen.plan()
    return DosedModel(model, dict(plan.parameters), tuple(plan.events))


def regimen_dosing(
    labelled: Sequence[tuple[str, DrugItem | MSCItem]],
    *,
    horizon_days: float,
    weight_kg: float = REFERENCE_WEIGHT_KG,
    parameter_set: ParameterSetLike = "default",
) -> DosedModel:
    """Regimen items (each with the place it came from, for error messages) on the skin
    model with ``parameter_set``'s values; every treatment stops at ``horizon_days``."""
    pset = resolve_parameter_set(parameter_set)
    regimen = items_regimen(
        list(labelled),
        cap=horizon_days,
        horizon_days=horizon_days,
        weight_kg=weight_kg,
        parameter_set=pset,
    )
    return _dosed(calibrated_skin(pset), regimen)


def arm_dosing(spec: TrialSpec, arm: str, *, weight_kg: float = REFERENCE_WEIGHT_KG) -> DosedModel:
    """The dosing of one arm of ``spec`` (its background, regimen and withdrawal) on the
    model the trial runs on."""
    if arm not in spec.arms:
        raise TrialError(
            f"arm {arm!r} is not an arm of {spec.name}; allowed: {', '.join(spec.arms)}"
        )
    return _dosed(trial_model(spec), arm_regimen(spec, arm, weight_kg))
