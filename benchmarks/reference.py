"""The reference code that issue 16's figures are measured beside: a commit's tree on disk.

``tree()`` extracts ``git archive <commit>`` into ``benchmarks/.reference/<full sha>/``
(ignored by git) and reuses it in later runs. The harness then runs the reference's own
``benchmarks.tasks`` and ``collabsim`` with ``PYTHONPATH`` set to that tree, under this
checkout's ``.venv`` (same Python and libraries, so the comparison is of the code alone).

Extraction is atomic: the archive is unpacked into a temporary sibling
(``<sha>.tmp-<pid>``), a marker file holding the full sha is written last, and only then
is the folder renamed to its final name. A folder without that marker (half-extracted, or
made by someone else) is never used and never deleted: the error names it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

#: Issue 16's "today's code": the commit every figure is measured beside.
REFERENCE_COMMIT = "ec88c6e"

ROOT = Path(__file__).resolve().parents[1]
#: Where extracted trees live, one folder per full commit sha (see ``.gitignore``).
CACHE = Path(__file__).resolve().parent / ".reference"
#: Written last into an extracted tree; holds the full sha. Its presence marks completion.
MARKER = ".collabsim-reference"


class ReferenceError(RuntimeError):
    """The reference tree cannot be had (no git, unknown commit, a foreign folder)."""


#: What every error ends with: how to run without the reference.
HINT = "(run with --no-reference to skip the reference, or --reference COMMIT for another)"


def resolve(commit: str = REFERENCE_COMMIT, repo: Path = ROOT) -> str:
    """The full sha of ``commit`` in the git repository at ``repo``.

    Raises:
        ReferenceError: git is missing, ``repo`` is not a git checkout, or it does not
            hold ``commit``; the message names the commit and ``--no-reference``.
    """
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                              cwd=repo, capture_output=True, text=True)
    except OSError as err:  # git not installed
        raise ReferenceError(f"cannot find reference commit {commit!r}: git is not available "
                             f"({err}) {HINT}") from None
    sha = proc.stdout.strip()
    if proc.returncode != 0 or not sha:
        detail = proc.stderr.strip() or "unknown revision"
        raise ReferenceError(f"reference commit {commit!r} is not in the git repository at "
                             f"{repo} ({detail}); fetch it first {HINT}")
    return sha


def is_complete(folder: Path, sha: str) -> bool:
    """Whether ``folder`` is a whole extraction of ``sha`` (its marker holds that sha)."""
    marker = folder / MARKER
    try:
        return marker.is_file() and marker.read_text().strip() == sha
    except OSError:
        return False


def tree(commit: str = REFERENCE_COMMIT, repo: Path = ROOT, cache: Path = CACHE) -> Path:
    """The folder holding ``commit``'s files, extracted now or reused from ``cache``.

    Returns:
        ``cache / <full sha>``, complete (its marker written last).

    Raises:
        ReferenceError: git or the commit is unavailable, the archive cannot be read, or
            ``cache / <sha>`` exists without a valid marker (never used, never deleted).
    """
    sha = resolve(commit, repo)
    final = cache / sha
    if is_complete(final, sha):
        return final
    if final.exists():
        raise ReferenceError(f"{final} exists but is not a complete extraction of {commit!r} "
                             f"(no {MARKER} marker holding {sha}); it was not made by this "
                             f"harness or was interrupted: remove it by hand {HINT}")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f"{sha}.tmp-{os.getpid()}"
    if tmp.exists():  # left by a crashed process that had our pid: ours by its name
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _extract(sha, repo, tmp, commit)
        (tmp / MARKER).write_text(sha + "\n")  # last: marks the tree complete
        try:
            tmp.rename(final)
        except OSError:
            if not is_complete(final, sha):  # not another harness finishing first
                raise
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _extract(sha: str, repo: Path, into: Path, commit: str) -> None:
    """``git archive <sha> | tar -x -C <into>``, with tarfile's safe ``data`` filter."""
    proc = subprocess.Popen(["git", "archive", "--format=tar", sha], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            archive.extractall(into, filter="data")
    except tarfile.TarError as err:
        proc.kill()
        proc.wait()
        raise ReferenceError(f"cannot extract reference commit {commit!r}: {err} "
                             f"{HINT}") from None
    finally:
        proc.stdout.close()
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.wait() != 0:
        raise ReferenceError(f"git archive {commit!r} failed (exit {proc.returncode}): "
                             f"{stderr.strip()} {HINT}")


def environment(tree: Path) -> dict[str, str]:
    """This process's environment with ``tree`` first on ``PYTHONPATH``.

    A process started with it (in ``tree``, or through a console script, whose own folder
    comes first on the path) imports ``tree``'s ``sim`` and ``benchmarks`` rather than
    the checkout installed in the virtual environment.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    return env
