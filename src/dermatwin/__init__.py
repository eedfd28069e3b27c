"""dermatwin: in-silico trials and digital twins of stem-cell therapy in skin disease.

Research use only; dermatwin is not a medical device.

The public names below are imported on first use (PEP 562, :mod:`dermatwin._lazy`):
``import dermatwin`` is fast and loads no numerical library; ``dermatwin.simulate`` or
``from dermatwin import simulate`` imports the engine then.
"""

from typing import TYPE_CHECKING

from dermatwin._lazy import attach
from dermatwin._version import __version__

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
    "arm_dosing",
    "available_models",
    "bolus",
    "drug_catalogue",
    "equilibrate",
    "fit_twin",
    "from_sbml",
    "get_executor",
    "get_model",
    "infusion",
    "intervention",
    "load_scenario",
    "load_twin",
    "load_visits",
    "model_parameters",
    "msc_products",
    "on_off",
    "plan",
    "predict",
    "read_sbml",
    "regimen_dosing",
    "run_scenario",
    "set_parameter",
    "simulate",
    "to_sbml",
    "write_sbml",
]

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from dermatwin._base.errors import DermatwinError, ModelError, ScenarioError
    from dermatwin.catalogue import drug_catalogue, model_parameters, msc_products
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
    from dermatwin.execution.registry import get_executor
    from dermatwin.io.sbml import from_sbml, read_sbml, to_sbml, write_sbml
    from dermatwin.model.registry import available_models, get_model
    from dermatwin.model.spec import Model, ModelBuilder, Output, Parameter, State
    from dermatwin.run import ScenarioResult, run_scenario
    from dermatwin.scenario import Scenario, load_scenario
    from dermatwin.trials.sbml_dosing import arm_dosing, regimen_dosing
    from dermatwin.twins.fit import FitSettings, Twin, fit_twin, load_twin
    from dermatwin.twins.plan import plan
    from dermatwin.twins.predict import predict
    from dermatwin.twins.visits import TwinDataError, VisitRecord, load_visits

__getattr__, __dir__ = attach(
    __name__,
    {
        "dermatwin.catalogue": ["drug_catalogue", "model_parameters", "msc_products"],
        "dermatwin.engine.events": [
            "Event",
            "EventKind",
            "bolus",
            "infusion",
            "intervention",
            "on_off",
            "set_parameter",
        ],
        "dermatwin.engine.simulate": ["SolverOptions", "equilibrate", "simulate"],
        "dermatwin.engine.status": ["Status"],
        "dermatwin._base.errors": ["DermatwinError", "ModelError", "ScenarioError"],
        "dermatwin.execution.registry": ["get_executor"],
        "dermatwin.io.sbml": ["from_sbml", "read_sbml", "to_sbml", "write_sbml"],
        "dermatwin.model.registry": ["available_models", "get_model"],
        "dermatwin.model.spec": ["Model", "ModelBuilder", "Output", "Parameter", "State"],
        "dermatwin.run": ["ScenarioResult", "run_scenario"],
        "dermatwin.scenario": ["Scenario", "load_scenario"],
        "dermatwin.trials.sbml_dosing": ["arm_dosing", "regimen_dosing"],
        "dermatwin.twins.fit": ["FitSettings", "Twin", "fit_twin", "load_twin"],
        "dermatwin.twins.plan": ["plan"],
        "dermatwin.twins.predict": ["predict"],
        "dermatwin.twins.visits": ["TwinDataError", "VisitRecord", "load_visits"],
    },
)
