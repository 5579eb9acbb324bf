"""collabsim: an agent-based simulation of collaboration between healthcare providers.

Public surface::

    import sim
    config = sim.load_config(["system=teaching", "regime=mandated"])
    result = sim.run(config, replicate=3) # = `collabsim replicate=3`; .weekly, .summary
    model = sim.CollaborationModel(config) # a mesa.Model; model.step() advances a week
"""

from sim.config import ConfigError, SimConfig, load_config
from sim.model import CollaborationModel
from sim.outcomes import COLUMNS
from sim.runner import ManyResult, RunResult, run, run_many

__all__ = ["COLUMNS", "CollaborationModel", "ConfigError", "ManyResult", "RunResult", "SimConfig",
           "load_config", "run", "run_many"]
__version__ = "0.1.0"
