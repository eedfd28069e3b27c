"""dermatwin: in-silico trials and digital twins of stem-cell therapy in skin disease.

Research use only; dermatwin is not a medical device.
"""

from dermatwin._version import __version__
from dermatwin.engine.events import (
    Event,
    EventKind,
    bolus,
    infusion,
    intervention,
    on_off,
    set_parameter,
)
from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate
from dermatwin.engine.status import Status
from dermatwin.errors import DermatwinError, ModelError, ScenarioError
from dermatwin.execution import get_executor
from dermatwin.io.sbml import to_sbml, write_sbml
from dermatwin.model.registry import available_models, get_model
from dermatwin.model.spec import Model, ModelBuilder, Output, Parameter, State
from dermatwin.run import ScenarioResult, run_scenario
from dermatwin.scenario import Scenario, load_scenario
from dermatwin.twins import (
    FitSettings,
    Twin,
    TwinDataError,
    VisitRecord,
    fit_twin,
    load_twin,
    load_visits,
    plan,
    predict,
)

__all__ = [
    "DermatwinError",
    "Event",
    "EventKind",
    "FitSettings",
    "Model",
    "ModelBuilder",
    "ModelError",
    "Output",
    "Parameter",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SolverOptions",
    "State",
    "Status",
    "Twin",
    "TwinDataError",
    "VisitRecord",
    "__version__",
    "available_models",
    "bolus",
    "equilibrate",
    "fit_twin",
    "get_executor",
    "get_model",
    "infusion",
    "intervention",
    "load_scenario",
    "load_twin",
    "load_visits",
    "on_off",
    "plan",
    "predict",
    "run_scenario",
    "set_parameter",
    "simulate",
    "to_sbml",
    "write_sbml",
]
