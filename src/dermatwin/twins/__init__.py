"""Personal digital twins: visit data, Bayesian fit, predictions, regimen planning, report.

Research use only: dermatwin is not a medical device.

Modules (one concept each): :mod:`.visits` (the visit file), :mod:`.prior` (which
parameters, population prior), :mod:`.likelihood` (forward model, measurement error),
:mod:`.sampler` (the MCMC schedule), :mod:`.fit` (emcee posterior, diagnostics,
save/load), :mod:`.fitted` (observed vs fitted bands), :mod:`.predict` (posterior
predictive of a regimen), :mod:`.plan` (regimen search), :mod:`.report` (HTML page),
:mod:`.synthetic` (patients with known parameters). See ``docs/twins.md``. Public names
are imported on first use (:mod:`dermatwin._lazy`); ``plan`` and ``predict`` are the
functions, as ``from dermatwin.twins import plan`` always gave.
"""

from typing import TYPE_CHECKING

from dermatwin._lazy import attach

__all__ = [
    "Constraints",
    "FitSettings",
    "FutureRegimen",
    "PlanResult",
    "Prediction",
    "Twin",
    "TwinConvergenceWarning",
    "TwinDataError",
    "Visit",
    "VisitRecord",
    "fit_twin",
    "load_constraints",
    "load_regimen",
    "load_twin",
    "load_visits",
    "plan",
    "predict",
    "write_twin_report",
]

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from dermatwin.twins.fit import (
        FitSettings,
        Twin,
        TwinConvergenceWarning,
        fit_twin,
        load_twin,
    )
    from dermatwin.twins.plan import Constraints, PlanResult, load_constraints, plan
    from dermatwin.twins.predict import FutureRegimen, Prediction, load_regimen, predict
    from dermatwin.twins.report import write_twin_report
    from dermatwin.twins.visits import TwinDataError, Visit, VisitRecord, load_visits

__getattr__, __dir__ = attach(
    __name__,
    {
        "dermatwin.twins.fit": [
            "FitSettings",
            "Twin",
            "TwinConvergenceWarning",
            "fit_twin",
            "load_twin",
        ],
        "dermatwin.twins.plan": ["Constraints", "PlanResult", "load_constraints", "plan"],
        "dermatwin.twins.predict": ["FutureRegimen", "Prediction", "load_regimen", "predict"],
        "dermatwin.twins.report": ["write_twin_report"],
        "dermatwin.twins.visits": ["TwinDataError", "Visit", "VisitRecord", "load_visits"],
    },
)
