"""The re-run benchmark (benchmarks/resume.py) runs and checks what it times.

No timing assertion: the target (under 10 s for the main job) belongs in the benchmark's
report, never in a test; here, quick mode on the teaching system with one re-run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ sits next to sim/, outside the package
    sys.path.insert(0, str(ROOT))

from benchmarks.resume import main as resume  # noqa: E402


def test_quick_resume_benchmark_reuses_every_run_and_writes_a_report(tmp_path):
    result = resume(["--quick", "--repeats", "1", "--sweep-dir", str(tmp_path / "sweep"),
                     "--out", str(tmp_path / "out")])
    assert result["problems"] == [] and result["runs"] == 16  # 4 regimes x 4 replicates
    assert result["passed"] is None  # quick mode gives no verdict
    assert len(result["rerun_seconds"]) == 1 and result["rerun_seconds"][0] > 0
    (md,) = (tmp_path / "out").glob("*_resume_quick.md")
    assert "re-run of a complete sweep, median (s)" in md.read_text()
    saved = json.loads(next((tmp_path / "out").glob("*_resume_quick.json")).read_text())
    assert saved["experiment"] == "mandate_vs_local" and saved["target_seconds"] == 10.0
