"""Reports and the command line, as a user meets them (sim.cli, sim.report, sim.usage).

One tiny real sweep (the teaching system, 20 + 20 weeks, regimes none and local, two
replicates, two processes) is run once for the module through the ``collabsim``
command; each test copies it when it changes the report. ``collabsim-report`` runs as
a subprocess, as users run it. The HTML report is opened from its file in Debian's
Chromium (Playwright), and a screenshot is kept (copied to ``$COLLABSIM_ARTEFACTS``
when set, as tests/test_app_browser.py does).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import usage

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COLLABSIM = [str(BIN / "collabsim")] if (BIN / "collabsim").is_file() else [
    sys.executable, "-m", "sim.cli"]
REPORT = [str(BIN / "collabsim-report")] if (BIN / "collabsim-report").is_file() else [
    sys.executable, "-c", "import sys; from sim.cli import report_main; sys.exit(report_main())"]
TINY = ["-m", "system=teaching", "time.burn_in_weeks=20", "time.policy_weeks=20",
        "regime=none,local", "replicate=0,1", "hydra.launcher.n_jobs=2"]
CHROMIUM = Path(os.environ.get("COLLABSIM_CHROMIUM", "/usr/bin/chromium"))


def run(command: list[str], *args: str, cwd: Path | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with the digest of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """The tiny sweep, with the report its own end wrote."""
    cwd = tmp_path_factory.mktemp("report-sweep")
    proc = run(COLLABSIM, *TINY, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (cwd / "results" / "sweeps").iterdir()
    assert (folder / "report" / "report.md").is_file()
    return folder


@pytest.fixture
def copy(sweep, tmp_path) -> Path:
    target = tmp_path / "sweep"
    shutil.copytree(sweep, target)
    return target


def report_here(capsys, *args: str) -> tuple[int, str, str]:
    """``collabsim-report ARGS`` in this process (its exit status, stdout, stderr)."""
    from sim.cli import report_main

    try:
        status = report_main(list(args))
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


# --------------------------------------------------------------------------- the reference
def test_a_misspelt_reference_fails_and_keeps_the_report(copy):
    before = snapshot(copy)
    proc = run(REPORT, str(copy), "--reference", "regime=mandatd")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("collabsim-report: error: the reference regime=mandatd names no "
                            "scenario of this sweep")
    assert "regime=none; regime=local" in first  # the scenarios to choose from
    assert snapshot(copy) == before  # the old report byte for byte, nothing added


@pytest.mark.parametrize(("reference", "message"), [
    ("foo=1", "the reference foo=1 names no scenario of this sweep; its scenarios are: "
              "regime=none; regime=local"),
    ("system=ics", "the reference system=ics names no scenario"),  # every run: teaching
    ("regime=local,none", "--reference regime=local,none: expected one KEY=VALUE"),
    ("regime", "--reference regime: expected one KEY=VALUE"),
])
def test_a_reference_naming_no_scenario_is_an_error(copy, capsys, reference, message):
    before = snapshot(copy)
    status, out, err = report_here(capsys, str(copy), "--reference", reference)
    assert status == 2 and out == ""
    assert err.startswith(f"collabsim-report: error: {message}"), err
    assert snapshot(copy) == before


def test_a_valid_reference_rebuilds_the_report(copy, capsys):
    status, out, _ = report_here(capsys, str(copy), "--reference", "regime=local",
                                 "--no-figures")
    assert status == 0
    assert "4 complete runs, 0 failed, 0 missing" in out
    diffs = pd.read_csv(copy / "report" / "differences.csv")
    assert set(diffs["reference"]) == {"regime=local"}
    assert set(diffs["judgement"]) <= {"clear and meaningful", "clear but negligible",
                                       "unclear"}
    assert not list(copy.glob("report.*"))  # no temporary or old report left behind
    assert (copy / "report" / "report.html").is_file()


def test_a_report_folder_holding_a_users_file_is_never_replaced(copy, capsys):
    """A rebuilt report replaces the old one whole; a note a user left in report/ would
    go with it, so the rebuild is refused by name and everything stays as it was."""
    from sim.report import REPORT_FILES

    assert {p.name for p in (copy / "report").iterdir()} <= REPORT_FILES  # all declared
    (copy / "report" / "my notes.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(copy)
    status, out, err = report_here(capsys, str(copy), "--no-figures")
    assert status == 1 and "my notes.txt" in err and "move them away first" in err, err
    assert snapshot(copy) == before
    assert not list(copy.glob("report.*"))  # no temporary folder left behind


def test_a_sweep_whose_reference_names_no_scenario_fails_before_running(tmp_path):
    proc = run(COLLABSIM, *TINY, "hydra.callbacks.sweep.reference={regime:mandatd}",
               cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "collabsim: error: the reference regime=mandatd names no scenario" in proc.stderr
    assert "regime=none; regime=local" in proc.stderr
    assert not (tmp_path / "results").exists()  # nothing ran, nothing written


def test_the_sweeps_report_and_collabsim_report_are_the_same(sweep, copy, capsys):
    assert report_here(capsys, str(copy))[0] == 0

    def text(folder: Path) -> str:
        md = (folder / "report" / "report.md").read_text()
        return re.sub(r"Built .*? from the run folders in `[^`]*`; rebuild with "
                      r"`collabsim-report [^`]*`", "", md)

    assert text(copy) == text(sweep)
    assert sorted(snapshot(copy / "report")) == sorted(snapshot(sweep / "report"))


# --------------------------------------------------------------------------- the text
def test_the_report_speaks_to_a_policy_reader(sweep):
    text = (sweep / "report" / "report.md").read_text()
    lines = text.splitlines()
    assert lines[0] == "# Sweep of regime on the teaching system"
    opening = "\n".join(lines[:6])
    for override in ("`system=teaching`", "`time.burn_in_weeks=20`",
                     "`time.policy_weeks=20`", "`regime=none,local`"):
        assert override in opening
    assert "## Main findings" in text
    section = text[text.index("### care_coordination"):text.index("### delayed_handoffs")]
    assert "| scenario | mean (%) | 95% CI | runs |" in section
    assert re.search(r"\| regime=none \(reference\) \| \d+(\.\d)?% \|", section)
    assert "difference (pp)" in section
    assert "−100%" not in text and "clearly" not in text
    assert "### How differences are judged" in text


# --------------------------------------------------------------------------- HTML
def test_the_html_report_is_self_contained(sweep):
    page = (sweep / "report" / "report.html").read_text()
    figures = sorted(p.name for p in (sweep / "report" / "figures").glob("*.png"))
    assert len(figures) >= 3
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched
    assert "<table>" in page and "Main findings" in page


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_the_html_report_renders_in_chromium(sweep, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    page_file = sweep / "report" / "report.html"
    requests: list[str] = []
    shot = tmp_path / "report-html.png"
    with playwright.sync_playwright() as p:
        args = ["--disable-gpu", "--no-first-run"]
        if os.geteuid() == 0:
            args.insert(0, "--no-sandbox")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            assert "teaching" in page.locator("h1").inner_text()
            widths = page.evaluate("Array.from(document.images, i => i.naturalWidth)")
            assert widths and all(w > 100 for w in widths), widths  # every figure decoded
            assert page.locator("table").count() >= 5
            # click a header: the table sorts by that column
            table = page.locator("h3:has-text('care_coordination') + p + table")
            table.locator("th").nth(1).click()
            first = table.locator("tbody tr").nth(0).locator("td").nth(1).inner_text()
            table.locator("th").nth(1).click()
            assert table.locator("tbody tr").nth(0).locator("td").nth(1).inner_text() != first
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert shot.stat().st_size > 10_000
    target = os.environ.get("COLLABSIM_ARTEFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(target) / shot.name)


# --------------------------------------------------------------------------- help
def test_help_fits_a_screen_and_says_where_every_key_is():
    proc = run(COLLABSIM, "--help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) <= 40 and max(map(len, lines)) <= 90
    for group in ("system", "regime", "workforce", "leadership", "monitoring"):
        assert any(line.split()[:1] == [group] for line in lines), group
    assert "  regime      local*, hybrid, mandated, none" in lines
    experiments = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))
    section = lines[[i for i, x in enumerate(lines) if x.startswith("Experiments")][0]:]
    for name in experiments:
        (line,) = [x for x in section if x.startswith(f"  {name} ")]
        assert "replicates" in line
    assert "collabsim --keys" in proc.stdout
    # no key dump, no internal keys
    assert "initial_trust" not in proc.stdout and "_target_" not in proc.stdout
    assert "hydra." not in proc.stdout and "progress_bar" not in proc.stdout
    assert proc.stderr == ""


def test_help_writes_nothing(tmp_path):
    proc = run(COLLABSIM, "-h", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("collabsim: simulate")
    assert list(tmp_path.iterdir()) == []


def test_keys_lists_every_key_with_unit_range_role_and_meaning():
    text = usage.keys_text()
    rows = text.splitlines()
    params = sim.parameters()
    assert rows[0].split()[:5] == ["KEY", "DEFAULT", "UNIT", "ALLOWED", "ROLE"]
    assert len(rows[1:len(params) + 1]) == len(params)
    (trust,) = [r for r in rows if r.startswith("context.initial_trust ")]
    assert re.search(r"0\.45 +share 0-1 +\[0, 1\] +uncertainty +generalised trust", trust)
    (system,) = [r for r in rows if r.startswith("system.name ")]
    assert "teaching | ics | england | england_synthetic | csv" in system and "structural" in system
    (layout,) = [r for r in rows if r.startswith("system.layout_seed ")]
    assert ">= 0 or none" in layout


def test_keys_filters_by_word_and_says_when_nothing_matches():
    proc = run(COLLABSIM, "--keys", "trust")
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.split("\n\n")[0].splitlines()[1:]  # the rows, before the notes
    keys = [r.split()[0] for r in table]
    assert len(keys) >= 10 and all("trust" in k for k in keys)
    levers = usage.keys_text("lever").split("\n\n")[0].splitlines()[1:]
    assert levers and all(" lever " in r for r in levers)
    assert "no key contains 'nosuch'" in usage.keys_text("nosuch")


def test_uv_run_is_quiet():
    """No ``compile-bytecode`` in [tool.uv]: with it, every ``uv run`` recompiles the whole
    environment and says so (astral-sh/uv#12202)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "compile-bytecode" not in config["tool"]["uv"]
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("no uv on PATH")
    proc = subprocess.run([uv, "run", "--frozen", "python", "-c", "pass"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr
