"""collabsim: an agent-based simulation of collaboration between healthcare providers.

Public surface::

    import sim
    config = sim.load_config({"system": "teaching", "regime": "mandated",
                              "context.initial_trust": 0.3})   # or ["system=teaching", ...]
    result = sim.run(config, seed=3)      # result.weekly (DataFrame), result.summary (dict)
    model = sim.CollaborationModel(config) # a mesa.Model; model.step() advances a week
    sim.parameters(role="uncertainty")     # declared parameters: unit, range, role, evidence
    sim.outcome("care_coordination")       # an outcome's meaning, unit, direction, bounds

``sim.from_dict`` / ``sim.to_dict`` turn a SimConfig into plain nested dicts and back
(no Hydra; ``from_dict`` validates and fills defaults).
"""

from sim.config import (
    ConfigError,
    SimConfig,
    from_dict,
    parameters,
    parameters_frame,
    to_dict,
)
from sim.loading import load_config
from sim.model import CollaborationModel
from sim.outcomes import COLUMNS, MAIN_OUTCOMES, OUTCOMES, Outcome, UnknownOutcome, outcome
from sim.paramspec import Parameter
from sim.runner import RunResult, run, run_many

__all__ = ["COLUMNS", "MAIN_OUTCOMES", "OUTCOMES", "CollaborationModel", "ConfigError",
           "Outcome", "Parameter", "RunResult", "SimConfig", "UnknownOutcome", "from_dict",
           "load_config", "outcome", "parameters", "parameters_frame", "run", "run_many",
           "to_dict"]
__version__ = "0.1.0"
