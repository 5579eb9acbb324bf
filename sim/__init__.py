"""collabsim: an agent-based simulation of collaboration between healthcare providers.

Public surface::

    import sim
    config = sim.load_config(["system=teaching", "regime=mandated"])
    result = sim.run(config, seed=3)      # result.weekly (DataFrame), result.summary (dict)
    model = sim.CollaborationModel(config) # a mesa.Model; model.step() advances a week
    sim.outcome("care_coordination")       # an outcome's meaning, unit, direction, bounds
"""

from sim.config import ConfigError, SimConfig, load_config
from sim.model import CollaborationModel
from sim.outcomes import COLUMNS, MAIN_OUTCOMES, OUTCOMES, Outcome, UnknownOutcome, outcome
from sim.runner import RunResult, run, run_many

__all__ = ["COLUMNS", "MAIN_OUTCOMES", "OUTCOMES", "CollaborationModel", "ConfigError",
           "Outcome", "RunResult", "SimConfig", "UnknownOutcome", "load_config", "outcome",
           "run", "run_many"]
__version__ = "0.1.0"
