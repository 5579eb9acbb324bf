"""Results you can trust (issue 10), through the real command: a sweep never reuses a
stale or broken run, never counts a copied one, never deletes what it did not write,
and never lets two processes write one sweep.

One finished 4-run sweep (module fixture) is copied into each case's own folder; the
case damages or changes the copy as a user (or an accident) would, runs ``collabsim``
or ``collabsim-report`` on it and checks the exit status, the message, and what is and
is not on disk afterwards.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from _trust import (
    CANNOT_WRITE,
    FAST,
    JOBS,
    REFUSED,
    collabsim,
    copy_sweep,
    one_line_error,
    report,
    snapshot,
    start,
    sweep,
)
from filelock import FileLock

from sim.results import PROVENANCE, WEEKLY, find_runs, is_complete, run_status
from sim.sweep_store import FAILED, LOCK, MANIFEST, REPORT_STAMP


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    """A finished 4-run sweep with its report (never modified: cases copy it)."""
    root = tmp_path_factory.mktemp("trust-sweep")
    proc = sweep(root, root / "sweep")
    assert proc.returncode == 0, proc.stderr
    assert len(find_runs(root / "sweep")) == 4
    return root / "sweep"


@pytest.fixture
def copy(done, tmp_path) -> Path:
    return copy_sweep(done, tmp_path / "sweep")


def _run(folder: Path, job: str) -> Path:
    return folder / job / "run"


def _mtimes(folder: Path) -> dict[str, int]:
    return {job: (_run(folder, job) / PROVENANCE).stat().st_mtime_ns for job in JOBS}


def _set_fingerprint(run: Path, **parts: str | None) -> None:
    """Make a run look as if another code/scenario/provider file had produced it."""
    prov = json.loads((run / PROVENANCE).read_text())
    if parts.get("drop"):
        prov.pop("fingerprint")
    else:
        prov["fingerprint"].update({k: v for k, v in parts.items() if k != "drop"})
        prov["fingerprint"]["run"] = "0" * 64
    (run / PROVENANCE).write_text(json.dumps(prov))


# --------------------------------------------------------------------------- reuse
def test_a_complete_sweep_reruns_nothing_and_starts_no_launcher(copy, tmp_path):
    before, multirun = _mtimes(copy), (copy / "multirun.yaml").stat().st_mtime_ns
    t0 = time.perf_counter()
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "all 4 runs in sweep are complete; nothing to run" in proc.stderr
    assert "sweep of 4 runs" not in proc.stderr  # the launcher was never started
    assert _mtimes(copy) == before
    assert (copy / "multirun.yaml").stat().st_mtime_ns == multirun  # Hydra's sweeper never ran
    assert "4 planned, 4 complete, 0 failed" in (copy / "report" / "report.md").read_text()
    assert time.perf_counter() - t0 < 60


def test_an_up_to_date_report_is_kept_and_a_changed_one_rebuilt(copy, tmp_path):
    report_md = copy / "report" / "report.md"
    before = report_md.read_bytes()
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "collabsim: report (up to date): sweep/report/report.md" in proc.stderr
    assert report_md.read_bytes() == before
    report_md.write_bytes(before + b"\nedited by hand\n")  # e.g. rebuilt with another reference
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "(up to date)" not in proc.stderr
    assert "report: sweep/report/report.md (and report.html)" in proc.stdout
    assert b"edited by hand" not in report_md.read_bytes()
    assert "4 planned, 4 complete, 0 failed" in report_md.read_text()


def test_runs_made_by_other_code_are_refused_by_default(copy, tmp_path):
    for job in JOBS[:2]:
        _set_fingerprint(_run(copy, job), code="f" * 64)
    before = snapshot(copy)
    proc = sweep(tmp_path, copy)
    assert proc.returncode == REFUSED
    line = one_line_error(proc.stderr)
    assert "2 runs were made by other code" in line and "stale=rerun" in line
    assert snapshot(copy) == before  # nothing run, removed or rewritten (plan, report)


def test_stale_rerun_replaces_only_the_stale_runs(copy, tmp_path):
    _set_fingerprint(_run(copy, JOBS[0]), code="f" * 64)
    kept = {job: m for job, m in _mtimes(copy).items() if job != JOBS[0]}
    proc = sweep(tmp_path, copy, "hydra.callbacks.sweep.stale=rerun")
    assert proc.returncode == 0, proc.stderr
    assert "1 run was made by other code; running them again" in proc.stderr
    assert {j: m for j, m in _mtimes(copy).items() if j != JOBS[0]} == kept
    plan = json.loads((copy / MANIFEST).read_text())
    assert run_status(_run(copy, JOBS[0]), plan["jobs"][0]["fingerprint"], 8) == ("complete", "")


def test_a_bad_stale_choice_is_refused(copy, tmp_path):
    before = snapshot(copy)
    proc = sweep(tmp_path, copy, "hydra.callbacks.sweep.stale=maybe")
    assert proc.returncode == REFUSED
    assert "hydra.callbacks.sweep.stale='maybe' is not allowed; choose one of refuse, rerun" \
        in one_line_error(proc.stderr)
    assert snapshot(copy) == before


def test_a_changed_fixed_override_in_the_same_folder_is_stale(copy, tmp_path):
    """Same job folders (the swept values), another scenario: never reused."""
    proc = sweep(tmp_path, copy, "time.policy_weeks=5")
    assert proc.returncode == REFUSED
    assert "4 runs were made from another scenario" in one_line_error(proc.stderr)
    assert not list(copy.rglob(FAILED))


def test_runs_without_a_fingerprint_are_stale(copy, tmp_path):
    _set_fingerprint(_run(copy, JOBS[3]), drop=True)
    proc = sweep(tmp_path, copy)
    assert proc.returncode == REFUSED
    assert "1 run was made before collabsim recorded run fingerprints" in \
        one_line_error(proc.stderr)
    assert is_complete(_run(copy, JOBS[3]))  # kept for the user to decide


def test_an_edited_provider_file_makes_its_runs_stale(tmp_path):
    csv = tmp_path / "providers.csv"
    source = Path(__file__).resolve().parents[1] / "configs" / "system" / "example_providers.csv"
    csv.write_text(source.read_text())
    args = ["-m", "system=csv", f"system.path={csv}", "time.burn_in_weeks=4",
            "time.policy_weeks=4", "replicate=0", "hydra.callbacks.sweep.figures=false",
            f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    first = collabsim(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    csv.write_text(csv.read_text().replace(",5200\n", ",5300\n"))  # edited in place
    proc = collabsim(tmp_path, *args)
    assert proc.returncode == REFUSED
    assert "1 run was made from another version of the provider file" in \
        one_line_error(proc.stderr)
    assert len(find_runs(tmp_path / "sweep")) == 1


def test_a_truncated_weekly_table_is_run_again(copy, tmp_path):
    weekly = _run(copy, JOBS[1]) / WEEKLY
    weekly.write_bytes(weekly.read_bytes()[:100])
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "1 run cannot be read back whole (weekly.parquet cannot be read" in proc.stderr
    assert len(pd.read_parquet(weekly)) == 8
    assert "4 planned, 4 complete, 0 failed" in (copy / "report" / "report.md").read_text()


def test_a_weekly_table_with_missing_weeks_is_run_again(copy, tmp_path):
    weekly = _run(copy, JOBS[2]) / WEEKLY
    pd.read_parquet(weekly).head(3).to_parquet(weekly, index=False)
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "weekly.parquet has 3 weeks, the job needs 8" in proc.stderr
    assert len(pd.read_parquet(weekly)) == 8


def test_an_unreadable_summary_is_run_again(copy, tmp_path):
    (_run(copy, JOBS[0]) / "summary.json").write_text("{not json")
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "1 run cannot be read back whole (its JSON files cannot be read" in proc.stderr
    assert json.loads((_run(copy, JOBS[0]) / "summary.json").read_text())


def test_an_interrupted_run_folder_is_run_again(copy, tmp_path):
    (_run(copy, JOBS[0]) / PROVENANCE).unlink()  # killed before the last file
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert "1 run was interrupted before it was written whole; running again" in proc.stderr
    assert is_complete(_run(copy, JOBS[0]))


# --------------------------------------------------------------------------- removing
def test_only_the_sweeps_own_temporary_names_are_removed(copy, tmp_path):
    ours = [copy / JOBS[0] / "run.tmp-4242", copy / JOBS[1] / "run.old-7"]
    theirs = [copy / "draft.tmp-7", copy / "backup.old-1", copy / JOBS[0] / "notes.tmp-3",
              copy / JOBS[0] / "run.bak", copy / "report.tmp-99"]
    for p in ours + theirs:
        p.mkdir()
        (p / "x").write_text("keep me" if p in theirs else "scratch")
    proc = sweep(tmp_path, copy)
    assert proc.returncode == 0, proc.stderr
    assert not any(p.exists() for p in ours)
    assert all((p / "x").read_text() == "keep me" for p in theirs)


def test_a_non_sweep_folder_is_refused_and_left_alone(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("draft.tmp-7", "backup.old-1", "thesis.md"):
        (work / name).write_text(name)
    before = snapshot(work)
    proc = sweep(work, Path("."))  # hydra.sweep.dir=. in a working folder
    assert proc.returncode == REFUSED
    line = one_line_error(proc.stderr)
    assert "hydra.sweep.dir='.' is not empty and is not a collabsim sweep" in line
    assert snapshot(work) == before and sorted(p.name for p in work.iterdir()) == [
        "backup.old-1", "draft.tmp-7", "thesis.md"]


def test_an_empty_existing_folder_is_a_fine_sweep_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = collabsim(tmp_path, "-m", *FAST, "replicate=0,1",
                     "hydra.callbacks.sweep.figures=false", "hydra.sweep.dir=empty")
    assert proc.returncode == 0, proc.stderr
    assert len(find_runs(tmp_path / "empty")) == 2 and (tmp_path / "empty" / MANIFEST).is_file()


def test_a_file_as_the_sweep_folder_is_refused(tmp_path):
    (tmp_path / "taken").write_text("mine")
    proc = collabsim(tmp_path, "-m", *FAST, "replicate=0,1", "hydra.sweep.dir=taken")
    assert proc.returncode == REFUSED
    assert "exists and is not a folder" in one_line_error(proc.stderr)
    assert (tmp_path / "taken").read_text() == "mine"


# --------------------------------------------------------------------------- one writer
def test_a_second_process_on_a_locked_sweep_stops_and_changes_nothing(copy, tmp_path):
    before = snapshot(copy)
    with FileLock(copy / LOCK, timeout=0):  # as another collabsim process would
        proc = sweep(tmp_path, copy)
    assert proc.returncode == REFUSED
    assert f"another collabsim process is working on {copy}" in one_line_error(proc.stderr)
    assert snapshot(copy) == before


def test_the_same_sweep_started_twice_runs_once(tmp_path):
    folder = tmp_path / "sweep"
    args = ["-m", "system=teaching", "time.burn_in_weeks=26", "time.policy_weeks=26",
            "regime=local,mandated", "replicate=0,1", "hydra.launcher.n_jobs=1",
            "hydra.callbacks.sweep.figures=false", f"hydra.sweep.dir={folder}"]
    first, second = start(tmp_path, *args), start(tmp_path, *args)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    errors = "".join(err for _, err in outs)
    assert codes in ([0, 0], [0, REFUSED]), errors
    if codes == [0, REFUSED]:
        assert "another collabsim process is working on" in errors
    assert not list(folder.rglob(FAILED))
    assert len(find_runs(folder)) == 4
    runs = pd.read_csv(folder / "report" / "runs.csv")
    assert sorted(runs["status"]) == ["complete"] * 4


def test_two_single_runs_at_once_get_a_folder_each(tmp_path):
    procs = [start(tmp_path, *FAST[:2], f"time.policy_weeks={w}") for w in (4, 5)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    runs = find_runs(tmp_path / "results")
    assert len(runs) == 2
    for run in runs:  # each Hydra record describes its own run
        overrides = (run.parent / ".hydra" / "overrides.yaml").read_text()
        weeks = json.loads((run / PROVENANCE).read_text())["extra"]["overrides"]
        assert [o for o in weeks if o.startswith("time.policy_weeks")][0] in overrides
        assert len(pd.read_parquet(run / WEEKLY)) == 4 + int(
            [o for o in weeks if o.startswith("time.policy_weeks")][0].split("=")[1])


# --------------------------------------------------------------------------- the report
def test_a_copied_run_folder_is_never_counted(copy, tmp_path):
    import shutil

    shutil.copytree(_run(copy, JOBS[0]), copy / JOBS[0] / "run.bak")
    shutil.copytree(copy / JOBS[1], copy / "regime=local,replicate=9")
    proc = report(tmp_path, str(copy), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    assert "4 complete runs, 0 failed, 0 missing" in proc.stdout
    assert len(pd.read_csv(copy / "report" / "runs.csv")) == 4


def test_the_report_lists_a_stale_run_as_failed_never_counts_it(copy, tmp_path):
    _set_fingerprint(_run(copy, JOBS[2]), scenario="e" * 64)
    proc = report(tmp_path, str(copy), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    assert "3 complete runs, 1 failed" in proc.stdout
    runs = pd.read_csv(copy / "report" / "runs.csv").set_index("job")
    assert runs.loc[JOBS[2], "status"] == "failed"
    text = (copy / "report" / "report.md").read_text()
    assert f"**failed** `{JOBS[2]}`: stale run" in text and "made from another scenario" in text


def test_a_folder_of_several_sweeps_is_refused(done, tmp_path):
    parent = tmp_path / "sweeps"
    for name in ("a", "b"):
        copy_sweep(done, parent / name)
    proc = report(tmp_path, str(parent))
    assert proc.returncode == REFUSED
    assert f"{parent} is not one sweep: it holds 2 sweep folders (a, b)" in proc.stderr
    assert sorted(p.name for p in parent.iterdir()) == ["a", "b"]  # no report written


def test_a_folder_without_a_plan_is_not_reported(done, tmp_path):
    loose = tmp_path / "loose"
    copy_sweep(done, loose)
    (loose / MANIFEST).unlink()
    shutil_report = loose / "report"
    before = snapshot(shutil_report)
    proc = report(tmp_path, str(loose))
    assert proc.returncode == REFUSED
    assert "is not a collabsim sweep folder (it has no sweep.json" in proc.stderr
    assert snapshot(shutil_report) == before


def test_a_plan_naming_a_folder_outside_the_sweep_is_refused(copy, tmp_path):
    plan = json.loads((copy / MANIFEST).read_text())
    plan["jobs"][0]["dir"] = "../elsewhere"
    (copy / MANIFEST).write_text(json.dumps(plan))
    proc = report(tmp_path, str(copy), "--no-figures")
    assert proc.returncode == REFUSED
    assert "job folder '../elsewhere' is not a folder inside the sweep folder" in proc.stderr


def test_a_report_that_cannot_be_built_fails_and_keeps_the_old_one(copy, tmp_path):
    weekly = _run(copy, JOBS[0]) / WEEKLY
    data = bytearray(weekly.read_bytes())
    data[4:64] = b"\0" * 60  # the first page, not the footer (which is most of the file)
    weekly.write_bytes(bytes(data))
    old = snapshot(copy / "report")
    (copy / REPORT_STAMP).unlink()  # as if the report had not been built from these runs
    proc = sweep(tmp_path, copy)
    assert proc.returncode == CANNOT_WRITE, proc.stderr
    assert "the report could not be built" in one_line_error(proc.stderr)
    assert snapshot(copy / "report") == old
    assert not [p for p in copy.iterdir() if p.name.startswith("report.")]


def test_text_cells_stay_text_in_a_spreadsheet(tmp_path):
    folder = tmp_path / "sweep"
    proc = collabsim(tmp_path, "-m", *FAST, "regime.name=-2+3,local", "replicate=0,1",
                     "hydra.callbacks.sweep.figures=false", f"hydra.sweep.dir={folder}")
    assert proc.returncode == 0, proc.stderr
    text = (folder / "report" / "runs.csv").read_text()
    assert "'-2+3" in text and ",-2+3," not in text
    runs = pd.read_parquet(folder / "report" / "runs.parquet")  # the data itself is unchanged
    assert "-2+3" in set(runs["regime.name"])
    # the quoted value names a folder of its own, with a digest, inside the sweep
    jobs = [p.name for p in folder.iterdir() if (p / "run").is_dir()]
    assert len(jobs) == 4 and all("/" not in j for j in jobs)
