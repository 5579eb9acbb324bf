"""The process that launches a sweep composes each distinct scenario once, not each
launched chunk again (Hydra's own batch check is skipped for the batch sim.sweep planned
and validated: sim.hydra_glue.launch_as)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sim.results import find_runs

#: Runs collabsim's main in this process with Hydra's composition counted; prints the count.
COUNTING = """
import sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
calls = []
original = ConfigLoaderImpl.load_sweep_config
def counted(self, master_config, sweep_overrides):
    calls.append(list(sweep_overrides))
    return original(self, master_config, sweep_overrides)
ConfigLoaderImpl.load_sweep_config = counted
sys.argv = ["collabsim", *sys.argv[1:]]
from sim.cli import main
try:
    main()
finally:
    print("COMPOSED", len(calls), file=sys.stderr)
"""


def test_the_launching_process_composes_each_scenario_once(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    # 2 regimes x 2 replicates, one worker (joblib runs the jobs in this process):
    # 4 chunks of one run each
    args = ["-m", "system=teaching", "time.burn_in_weeks=4", "time.policy_weeks=4",
            "regime=local,mandated", "replicate=0,1", "hydra.launcher.n_jobs=1",
            f"hydra.sweep.dir={sweep_dir}", "hydra.callbacks.sweep.report=false"]
    proc = subprocess.run([sys.executable, "-c", COUNTING, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("COMPOSED")]
    # one per regime to validate (sim.sweep.validate_jobs), one per chunk to run it;
    # Hydra's batch check would add one per chunk more
    assert int(line.split()[1]) == 2 + 4, proc.stderr
    assert len(find_runs(sweep_dir)) == 4  # and every run was made
