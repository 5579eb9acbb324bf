"""The benchmark harness runs, and the per-agent reference agrees with the model.

No timing assertions here: performance targets belong in the benchmark report
(``uv run python -m benchmarks``), never in tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim.config import from_dict

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ sits next to sim/, outside the package
    sys.path.insert(0, str(ROOT))

from benchmarks import per_agent  # noqa: E402
from benchmarks.run import main as run_benchmarks  # noqa: E402

TEACHING = {"system": {"name": "teaching"}, "time": {"burn_in_weeks": 52, "policy_weeks": 52}}


def test_quick_harness_writes_a_report(tmp_path):
    report = run_benchmarks(["--quick", "--systems", "teaching", "--out", str(tmp_path)])
    md = sorted(tmp_path.glob("*.md"))
    js = sorted(tmp_path.glob("*.json"))
    assert len(md) == 1 and len(js) == 1
    text = md[0].read_text()
    for heading in ("## Targets", "## Systems", "## Growth of run time",
                    "## Where the step time goes", "## Sweep throughput",
                    "## Per-agent reference"):
        assert heading in text
    saved = json.loads(js[0].read_text())
    assert saved["systems"][0]["system"] == "teaching"
    assert saved["systems"][0]["provider_weeks_per_second"] > 0
    assert len(saved["scaling"]["points"]) >= 4
    shares = saved["shares"][0]
    assert abs(sum(g["share"] for g in shares["groups"]) - 1.0) < 1e-6
    assert report["per_agent"]["exact"]["agree"]
    assert set(report["targets"]) == {"ics_seconds", "england_seconds", "growth_exponent",
                                      "england_memory_gb", "parallel_efficiency",
                                      "data_collection_share", "per_agent_speedup"}


def test_per_agent_reference_matches_vectorised_mechanisms():
    config = from_dict(TEACHING)
    exact = per_agent.compare_exact(config, weeks=6)
    assert exact["agree"], exact["max_relative_difference"]
    stat = per_agent.compare_statistical(config, weeks=8, replicates=6)
    assert stat["checks"]["transferred"]["ok"], stat["checks"]["transferred"]
    assert stat["checks"]["mean_trust"]["ok"], stat["checks"]["mean_trust"]
    assert stat["checks"]["per_group_correlation"]["value"] > 0.99
