"""Sweeps (sim.sweep, sim.sweep_store, sim.report, configs/experiment/): compose, run,
resume, isolate, report; and sim.run_many pairs replicates exactly as a sweep does.

The end-to-end tests run the ``collabsim`` command as a subprocess in a temporary
folder, as a user would, on a tiny sweep: the teaching system, 26 weeks of burn-in and
26 under the regime, two regimes x four replicates. One uninterrupted sweep with the
default launcher (two local processes) is the reference that the others (one worker,
submitit's local executor, Ray, a killed and resumed sweep) must reproduce exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

import sim
from sim import report, sweep, sweep_store
from sim.results import find_runs, is_complete, json_safe

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))
SCRIPT = Path(sys.executable).with_name("collabsim")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "sim.cli"]
REPORT_SCRIPT = Path(sys.executable).with_name("collabsim-report")
TINY = ["-m", "system=teaching", "time.burn_in_weeks=26", "time.policy_weeks=26",
        "regime=local,mandated", "replicate=0,1,2,3"]
TINY_JOBS = [f"regime={r},replicate={i}" for r in ("local", "mandated") for i in range(4)]


def collabsim(cwd: Path, *args: str, env: dict | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the command in ``cwd`` and capture its output."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("HYDRA_FULL_ERROR", sweep.TEST_FAIL_ENV)}
    full_env.update(env or {})
    return subprocess.run([*COMMAND, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def sweep_folder(cwd: Path) -> Path:
    (folder,) = (cwd / "results" / "sweeps").iterdir()
    return folder


#: For sweeps whose figures no test looks at (the reference sweep draws them).
NO_FIGURES = "hydra.callbacks.sweep.figures=false"


def weekly_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Each complete run's weekly table, by job folder name."""
    return {run.parent.name: pd.read_parquet(run / "weekly.parquet")
            for run in find_runs(folder)}


def assert_same_runs(a: Path, b: Path) -> None:
    """Two sweep folders hold the same runs with identical weekly tables."""
    wa, wb = weekly_tables(a), weekly_tables(b)
    assert sorted(wa) == sorted(wb)
    for job in wa:
        pd.testing.assert_frame_equal(wa[job], wb[job], check_exact=True, obj=job)


def aggregate(folder: Path) -> dict[str, pd.DataFrame]:
    """The report's tables without what legitimately differs between sessions."""
    out = {}
    for name in ("runs.csv", "scenarios.csv", "differences.csv", "weekly_means.csv"):
        table = pd.read_csv(folder / "report" / name)
        out[name] = table.drop(columns=[c for c in ("wall_seconds",) if c in table])
    return out


@pytest.fixture(scope="session")
def reference(tmp_path_factory, worker_id) -> Path:
    """The tiny sweep, uninterrupted, with the default launcher and two processes.

    Run once per test session, shared by pytest-xdist's workers through a lock file.
    """
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent
    cwd = root / "sweep-reference"
    with open(root / "sweep-reference.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cwd / "ok").is_file():
            shutil.rmtree(cwd, ignore_errors=True)
            cwd.mkdir()
            proc = collabsim(cwd, *TINY, "hydra.launcher.n_jobs=2")
            assert proc.returncode == 0, proc.stderr
            (cwd / "ok").touch()
    return sweep_folder(cwd)


# --------------------------------------------------------------------------- experiments
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_validates(name):
    config = sim.load_config(experiment=name)  # sweep settings ignored
    assert isinstance(config, sim.SimConfig)


@contextlib.contextmanager
def composed(name: str):
    """The experiment composed as ``collabsim experiment=<name>`` would (with ``hydra``)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.config import config_dir, register_configs

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            yield compose(config_name="config", overrides=[f"experiment={name}"],
                          return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()


def _experiment(name: str, key: str):
    return OmegaConf.select(OmegaConf.load(ROOT / "configs" / "experiment" / f"{name}.yaml"), key)


#: Scenario sweeps (design sweeps, whose points are not scenarios: tests/test_design.py).
SWEEPS = [n for n in EXPERIMENTS if _experiment(n, "hydra.sweeper.params")
          and not _experiment(n, "hydra.callbacks.sweep.design")]


def test_the_issue_experiments_are_sweeps():
    for name in ("mandate_vs_local", "contracts", "leadership_under_shortage", "culture",
                 "partners_and_paperwork", "monitoring"):
        assert name in SWEEPS


@pytest.mark.parametrize("name", SWEEPS)
def test_every_sweep_job_composes_validates_and_has_a_reference(name):
    with composed(name) as cfg:
        assert cfg.hydra.mode.name == "MULTIRUN"
        jobs = sweep.plan_jobs(cfg)
        sweep.validate_jobs(cfg, jobs)  # each job composed and checked by the schema
        subdirs = sweep_store.job_names(jobs)
    assert len(set(subdirs)) == len(jobs) > 1
    assert all("experiment" not in s for s in subdirs)
    # paired replicates: every scenario runs the same replicate indices, same root seed
    replicates: dict[str, set] = {}
    for job in jobs:
        key = report.label(sweep_store.scenario_of(job))
        replicates.setdefault(key, set()).add(sweep_store.replicate_of(job).get("replicate"))
    assert len({frozenset(v) for v in replicates.values()}) == 1
    assert len(next(iter(replicates.values()))) >= 10
    # the declared reference is one of the sweep's scenarios (for some level of the rest)
    ref = OmegaConf.to_container(cfg.hydra.callbacks.sweep.reference)
    assert ref, f"{name} declares no reference scenario"
    scenarios = [sweep_store.scenario_of(job) for job in jobs]
    assert any(all(report._norm(s.get(k)) == report._norm(v) for k, v in ref.items())
               for s in scenarios), (ref, scenarios[:3])


def test_mandate_vs_local_is_the_readme_main_job():
    with composed("mandate_vs_local") as cfg:
        jobs = sweep.plan_jobs(cfg)
    assert len(jobs) == 80
    assert {sweep_store.scenario_of(j)["regime"] for j in jobs} == {"none", "local", "mandated",
                                                              "hybrid"}
    assert OmegaConf.to_container(cfg.hydra.callbacks.sweep.reference) == {"regime": "local"}
    assert cfg.system.name == "ics"


def test_sweep_folder_is_named_after_the_command():
    assert sweep.sweep_overrides(["experiment=culture"]) == [
        "hydra.sweep.dir='results/sweeps/culture'"]
    out = sweep.sweep_overrides(["-m", "regime=local,mandated", "system=teaching"])
    assert out == ["hydra.sweep.dir='results/sweeps/sweep_regime=local,mandated_system=teaching'"]
    # fixed overrides are left out of the job folders' names
    assert sweep_store.job_names([["system=teaching", "regime=local"],
                                  ["system=teaching", "regime=mandated"]]) == [
        "regime=local", "regime=mandated"]
    # same command, other order: same folder
    assert sweep.sweep_overrides(["-m", "system=teaching", "regime=local,mandated"]) == out
    # the user's choice wins
    assert sweep.sweep_overrides(["experiment=culture", "hydra.sweep.dir=x"]) == []
    # added next to the user's overrides, so that flags after them still parse
    assert sweep.with_sweep_overrides(["-m", "regime=a,b", "--cfg", "job"]) == [
        "-m", "regime=a,b", "hydra.sweep.dir='results/sweeps/sweep_regime=a,b'", "--cfg", "job"]
    assert sweep.with_sweep_overrides(["--info"])[-1] == "--info"


def test_the_slurm_launcher_config(tmp_path):
    proc = collabsim(tmp_path, "experiment=mandate_vs_local", "hydra/launcher=slurm",
                     "hydra.launcher.partition=short", "--cfg", "hydra", "--package",
                     "hydra.launcher")
    assert proc.returncode == 0, proc.stderr
    conf = OmegaConf.create(proc.stdout)
    assert conf["_target_"].endswith("submitit_launcher.SlurmLauncher")
    assert conf.partition == "short" and conf.cpus_per_task == 1 and conf.timeout_min == 30
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------------- end to end
def test_tiny_sweep_end_to_end_with_the_default_launcher(reference):
    assert sorted(p.name for p in reference.iterdir() if p.is_dir()) == sorted(
        [*TINY_JOBS, "report"])
    for job in TINY_JOBS:
        run = reference / job / "run"
        assert is_complete(run), job
        prov = json.loads((run / "provenance.json").read_text())
        assert prov["seed"] == 0 and prov["replicate"] == int(job[-1])
        assert prov["extra"]["launcher"] == "local"
        assert prov["versions"]["numpy"] and "git" in prov and prov["wall_seconds"] > 0
        assert (run / "config.yaml").is_file() and (run / "summary.json").is_file()
    assert not list(reference.rglob("*.tmp-*"))
    plan = json.loads((reference / "sweep.json").read_text())
    assert [j["dir"] for j in plan["jobs"]] == TINY_JOBS
    # the report
    out = reference / "report"
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 8 and set(runs["status"]) == {"complete"}
    assert {"scenario", "regime", "seed", "replicate", "care_coordination"} <= set(runs)
    scen = pd.read_csv(out / "scenarios.csv")
    assert set(scen["scenario"]) == {"regime=local", "regime=mandated"}
    row = scen[(scen.scenario == "regime=local") & (scen.outcome == "care_coordination")].iloc[0]
    assert row.n == 4 and row.ci_low < row["mean"] < row.ci_high
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["scenario"]) == {"regime=mandated"}  # reference: the first scenario
    assert set(diffs["reference"]) == {"regime=local"} and set(diffs["n_pairs"]) == {4}
    # paired difference = mean of per-replicate differences
    a = runs[runs.regime == "mandated"].set_index("replicate")["care_coordination"]
    b = runs[runs.regime == "local"].set_index("replicate")["care_coordination"]
    d = diffs[diffs.outcome == "care_coordination"].iloc[0]
    assert d.difference == pytest.approx((a - b).mean())
    for name in ("overview", "differences", *report.MAIN_OUTCOMES):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000, name
    text = (out / "report.md").read_text()
    assert "## What was compared" in text and "regime=mandated − regime=local" in text
    assert "8 planned, 8 complete, 0 failed" in text


def test_same_results_with_one_worker_and_with_submitit(reference, tmp_path):
    one = tmp_path / "one"
    proc = collabsim(tmp_path, *TINY, "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={one}",
                     NO_FIGURES)
    assert proc.returncode == 0, proc.stderr
    assert_same_runs(reference, one)
    sub = tmp_path / "submitit"
    proc = collabsim(tmp_path, *TINY, "hydra/launcher=submitit_local",
                     f"hydra.sweep.dir={sub}", NO_FIGURES)
    assert proc.returncode == 0, proc.stderr
    assert_same_runs(reference, sub)
    assert json.loads((sub / TINY_JOBS[0] / "run" / "provenance.json").read_text())[
        "extra"]["launcher"] == "submitit_local"
    agg, ref = aggregate(sub), aggregate(reference)
    for name in agg:
        pd.testing.assert_frame_equal(agg[name], ref[name], obj=name)


def test_killed_sweep_resumes_to_the_same_aggregate(reference, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("HYDRA_FULL_ERROR", sweep.TEST_FAIL_ENV)}
    proc = subprocess.Popen([*COMMAND, *TINY, "hydra.launcher.n_jobs=1", NO_FIGURES],
                            cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    folder = tmp_path / "results" / "sweeps" / reference.name
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if folder.is_dir() and find_runs(folder):
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
        proc.wait(timeout=30)
    done = find_runs(folder)
    assert done, "no run finished before the kill"
    # whatever the kill left half-written, plus a lost run and a stale temporary folder
    shutil.rmtree(done[0])
    (folder / TINY_JOBS[-1] / "run.tmp-999999").mkdir(parents=True, exist_ok=True)
    before = {p.parent.name: (p / "provenance.json").stat().st_mtime_ns
              for p in find_runs(folder)}

    resumed = collabsim(tmp_path, *TINY, "hydra.launcher.n_jobs=1", NO_FIGURES)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(before)} already complete" in resumed.stderr
    for job, mtime in before.items():  # complete runs were skipped, not re-run
        assert (folder / job / "run" / "provenance.json").stat().st_mtime_ns == mtime
    assert not list(folder.rglob("*.tmp-*"))
    assert_same_runs(reference, folder)
    agg, ref = aggregate(folder), aggregate(reference)
    for name in agg:
        pd.testing.assert_frame_equal(agg[name], ref[name], obj=name)


def test_a_failing_run_is_isolated_recorded_and_reported(tmp_path):
    args = [*TINY[:-1], "replicate=0,1", "hydra.launcher.n_jobs=2", NO_FIGURES]
    proc = collabsim(tmp_path, *args, env={sweep.TEST_FAIL_ENV: "replicate=1"})
    assert proc.returncode == 3, proc.stderr
    assert "2 of 4 runs failed" in proc.stderr
    folder = sweep_folder(tmp_path)
    for regime in ("local", "mandated"):
        assert is_complete(folder / f"regime={regime},replicate=0" / "run")
        failed = folder / f"regime={regime},replicate=1"
        assert not (failed / "run").exists()
        record = json.loads((failed / sweep_store.FAILED).read_text())
        assert record["error"] == "RuntimeError" and "Traceback" in record["traceback"]
        assert f"regime={regime}" in record["overrides"]
    runs = pd.read_csv(folder / "report" / "runs.csv")
    assert sorted(runs["status"]) == ["complete", "complete", "failed", "failed"]
    text = (folder / "report" / "report.md").read_text()
    assert "2 failed" in text and "**failed** `regime=local,replicate=1`" in text
    # rerun: only the failed runs run again, and the sweep is whole
    again = collabsim(tmp_path, *args)
    assert again.returncode == 0, again.stderr
    assert "2 already complete" in again.stderr
    assert not list(folder.rglob(sweep_store.FAILED))
    assert len(find_runs(folder)) == 4
    assert "4 planned, 4 complete, 0 failed" in (folder / "report" / "report.md").read_text()


def test_a_bad_value_in_any_job_fails_before_anything_runs(tmp_path):
    proc = collabsim(tmp_path, "-m", "system=teaching", "regime=local,mandated",
                     "context.initial_trust=0.5,2")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.strip()]
    assert line.startswith("collabsim: error: context.initial_trust=2.0 is out of range")
    assert not (tmp_path / "results").exists()


def test_an_unknown_option_in_a_sweep_leaves_nothing(tmp_path):
    proc = collabsim(tmp_path, "-m", "system=teaching", "regime=local,mandatd")
    assert proc.returncode == 1
    assert "regime/mandatd" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


def test_report_is_rebuilt_from_the_folder_alone(reference, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(reference, copy)
    shutil.rmtree(copy / "report")
    cmd = [str(REPORT_SCRIPT)] if REPORT_SCRIPT.is_file() else [
        sys.executable, "-c", "import sys; from sim.cli import report_main; "
                              "sys.exit(report_main())"]
    proc = subprocess.run([*cmd, str(copy), "--no-figures"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "8 complete runs" in proc.stdout
    agg, ref = aggregate(copy), aggregate(reference)
    for name in agg:
        pd.testing.assert_frame_equal(agg[name], ref[name], obj=name)
    assert not list(copy.glob("report.*"))
    # another reference scenario on demand
    rebuilt = report.build_report(copy, reference={"regime": "mandated"}, figures=False)
    assert set(rebuilt.differences["scenario"]) == {"regime=local"}
    assert (copy / "report" / "report.md").is_file()
    bad = subprocess.run([*cmd, str(tmp_path / "nothing")], capture_output=True, text=True)
    assert bad.returncode == 2


def test_run_many_pairs_replicates_exactly_as_the_sweep(reference):
    """Replicate r of sim.run_many is the sweep's job replicate=r (same streams, same
    summary), whatever other replicates are asked for and in whatever order."""
    base = ["system=teaching", "time.burn_in_weeks=26", "time.policy_weeks=26"]
    scenarios = {f"regime={r}": sim.load_config([*base, f"regime={r}"])
                 for r in ("local", "mandated")}
    many = sim.run_many(scenarios, replicates=[3, 1])
    assert list(zip(many.summaries["scenario"], many.summaries["replicate"], strict=True)) == [
        ("regime=local", 3), ("regime=local", 1), ("regime=mandated", 3),
        ("regime=mandated", 1)]
    for row in many.summaries.to_dict("records"):
        run = reference / f"{row['scenario']},replicate={row['replicate']}" / "run"
        written = json.loads((run / "summary.json").read_text())
        assert json_safe({k: row[k] for k in written}) == written, row["scenario"]
        weekly = many.weekly[(many.weekly["scenario"] == row["scenario"])
                             & (many.weekly["replicate"] == row["replicate"])]
        pd.testing.assert_frame_equal(
            weekly.drop(columns=["scenario", "seed", "replicate"]).reset_index(drop=True),
            pd.read_parquet(run / "weekly.parquet"), check_exact=True)


# --------------------------------------------------------------------------- statistics
def _runs(rows):
    df = pd.DataFrame(rows)
    df["status"] = "complete"
    df["_overrides"] = [[f"workforce={r['workforce']}", f"leadership={r['leadership']}",
                         f"replicate={r['replicate']}"] for r in rows]
    df["job"] = [",".join(o) for o in df["_overrides"]]
    return df


def test_reference_is_matched_within_each_level_of_the_other_factors():
    rows = []
    for w in ("baseline", "shortage"):
        for lead in ("realist", "denier"):
            for rep in range(5):
                value = rep * 10 + (1.0 if lead == "denier" else 0.0) + (
                    2.0 if w == "shortage" and lead == "denier" else 0.0)
                rows.append({"workforce": w, "leadership": lead, "replicate": rep, "seed": 0,
                             "care_coordination": value})
    runs, factors, fixed, order = report.add_scenarios(_runs(rows), None)
    assert factors == ["workforce", "leadership"] and fixed == {}
    refs = report.reference_map(runs, factors, order, {"leadership": "realist"})
    assert refs == {"workforce=baseline, leadership=denier": "workforce=baseline, "
                    "leadership=realist",
                    "workforce=shortage, leadership=denier": "workforce=shortage, "
                    "leadership=realist"}
    diffs = report.difference_table(runs, refs, ["care_coordination"]).set_index("scenario")
    # replicate-to-replicate spread cancels in the pairs: exact differences, zero width
    assert diffs.loc["workforce=baseline, leadership=denier", "difference"] == pytest.approx(1)
    assert diffs.loc["workforce=shortage, leadership=denier", "difference"] == pytest.approx(3)
    assert diffs["ci_high"].sub(diffs["ci_low"]).max() == pytest.approx(0, abs=1e-9)
    assert (diffs["unpaired_ci_high"] - diffs["unpaired_ci_low"]).min() > 10


def test_t_interval():
    n, mean, sd, low, high = report.t_interval([1.0, 2.0, 3.0, 4.0])
    assert (n, mean) == (4, 2.5)
    half = 3.182446305284263 * sd / 2  # t(0.975, 3)
    assert (low, high) == (pytest.approx(2.5 - half), pytest.approx(2.5 + half))
    assert all(map(lambda x: x != x, report.t_interval([1.0])[2:]))  # NaN with one value


# --------------------------------------------------------------------------- Ray
@pytest.mark.slow
def test_tiny_sweep_on_a_local_ray_instance(reference, tmp_path):
    """In a separate environment (the `ray` extra pins cloudpickle<3, apart from joblib)."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is needed to build the Ray environment")
    venv = ROOT / ".venv-ray"
    env = {k: v for k, v in os.environ.items()
           if k not in ("HYDRA_FULL_ERROR", sweep.TEST_FAIL_ENV, "VIRTUAL_ENV")}
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)
    sync = subprocess.run([uv, "sync", "--locked", "--extra", "ray", "--no-group",
                           "local-launcher"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1200)
    assert sync.returncode == 0, sync.stderr
    env.pop("UV_PROJECT_ENVIRONMENT")
    env["RAY_AUTH_MODE"] = "disabled"
    # Ray notices that pytest runs under `uv run` and would rebuild the uv environment on
    # its workers from the working folder; the workers use .venv-ray as it is.
    env["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
    out = tmp_path / "ray"
    proc = subprocess.run([str(venv / "bin" / "collabsim"), *TINY, "hydra/launcher=ray",
                           "++hydra.launcher.ray.init.num_cpus=2",
                           "++hydra.launcher.ray.init.include_dashboard=false",
                           f"hydra.sweep.dir={out}", NO_FIGURES], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert_same_runs(reference, out)
    assert json.loads((out / TINY_JOBS[0] / "run" / "provenance.json").read_text())[
        "extra"]["launcher"] == "ray"
