"""Every notebook in notebooks/ runs from top to bottom in the project's own interpreter.

Notebooks are committed clean (no outputs), so these tests execute them: a
notebook that breaks when the public surface changes fails here, not in a class.
The kernel is pinned to ``sys.executable`` through a kernelspec written to a
temporary folder (not whatever ``python3`` kernel the machine has), and
matplotlib draws with the non-interactive Agg backend. A notebook leaves nothing
behind in the repository (its runs and sweeps go to temporary folders), and the
README lists every notebook.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Where a notebook could leave files by mistake: its own folder (the kernel's working
#: folder) and the command line's default output folders.
WATCHED = [ROOT / "notebooks", ROOT / "results", ROOT / "results" / "runs",
           ROOT / "results" / "sweeps", ROOT / "outputs", ROOT / "multirun"]
KERNEL = "collabsim-test"

#: Appended to the in-memory copy of each notebook: which interpreter and backend ran it.
PROBE = "import sys, matplotlib\nprint(sys.executable)\nprint(matplotlib.get_backend())"


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec that starts an ipykernel in this very interpreter (the project's venv)."""
    root = tmp_path_factory.mktemp("jupyter") / "kernels"
    spec = root / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "collabsim (test)",
        "language": "python",
    }))
    return KernelSpecManager(kernel_dirs=[str(root)])


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def entries() -> set[Path]:
    """The files and folders directly inside the watched folders (those that exist)."""
    return {p for folder in WATCHED if folder.is_dir() for p in folder.iterdir()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_readme_lists_notebook(path: Path) -> None:
    """The README's list of notebooks names every notebook (one line each)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"(notebooks/{path.name})" in readme, (
        f"README.md does not link notebooks/{path.name}; add it to the list under "
        "'### Notebooks' with one line saying what it shows")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_saved_clean(path: Path) -> None:
    """Committed without outputs, so diffs stay readable and the tests do the running."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} have outputs or execution counts; "
                       "clear them before committing (Jupyter: Edit > Clear Outputs of All "
                       "Cells, then save)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_specs: KernelSpecManager,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook executes without error in this interpreter, with matplotlib on Agg."""
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugger warning
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=km, timeout=300, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(path.parent)}})
    before = entries()
    client.execute()
    left = sorted(str(p.relative_to(ROOT)) for p in entries() - before)
    assert not left, (f"{path.name} left files in the repository: {left}; write runs and "
                      "sweeps into a temporary folder (tempfile, hydra.sweep.dir=...)")
    probe = "".join(out.get("text", "") for out in nb.cells[-1].outputs
                    if out.get("output_type") == "stream")
    executable, backend = probe.split()[:2]
    assert Path(executable).resolve() == Path(sys.executable).resolve(), (
        f"{path.name} ran in {executable}, not the project's interpreter {sys.executable}")
    assert backend.lower() == "agg"
