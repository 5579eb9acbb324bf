"""Run one scenario and write it to one folder; the command line and sweeps both use this.

``run_scenario(config, output_dir, facts)`` checks the inputs, simulates the scenario
with :func:`sim.runner.run` and writes ``<output_dir>/run/`` atomically with
:func:`sim.results.write_run`. It knows nothing of Hydra or the terminal: whatever the
caller knows about how the run was launched (Hydra's overrides, job number, launcher)
comes in as ``facts`` and is recorded in provenance as it is.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.config import SimConfig
from sim.identity import fingerprint
from sim.inputs import check_provider_file
from sim.results import run_folder, write_run
from sim.runner import RunResult, run

__all__ = ["check_inputs", "claim_folder", "display_path", "run_scenario"]


def check_inputs(config: SimConfig) -> None:
    """Read a provider CSV now, so that a bad file fails before any folder is created.

    Raises:
        ConfigError: the path is not a regular, uncompressed file of a sane size
            (:func:`sim.inputs.check_provider_file`), or the file is missing or has
            bad rows (``sim.system.SystemDataError``).
    """
    check_provider_file(config.system)
    if config.system.name == "csv" and config.system.path:
        from sim.system import load_csv

        load_csv(config.system.path)


def run_scenario(config: SimConfig, output_dir: str | os.PathLike,
                 facts: Mapping[str, Any] | None = None, *,
                 progress: bool | None = None) -> RunResult:
    """Run a validated scenario and write it to ``<output_dir>/run/`` (all or nothing).

    Args:
        config: the scenario; its ``seed`` and ``replicate`` choose the random stream.
        output_dir: folder that receives the ``run/`` subfolder (created if needed).
        facts: JSON-serialisable facts about the launch (e.g. Hydra's overrides),
            recorded under ``"extra"`` in ``provenance.json``.
        progress: force the weekly progress bar on or off (None keeps the config's).
            Display only: the written ``config.yaml`` keeps the scenario's own value.

    Returns:
        What :func:`sim.runner.run` returned; the folder is
        :func:`sim.results.run_folder` ``(output_dir)``.

    Raises:
        ConfigError: a bad provider CSV, found before anything is written.
        FileExistsError: ``<output_dir>/run`` already exists (a run is never overwritten).
    """
    check_inputs(config)
    folder = run_folder(output_dir)
    if folder.exists():
        raise FileExistsError(f"{display_path(folder)} already exists; a run is never overwritten "
                              "(start again a second later, or set hydra.run.dir=...)")
    to_run = config
    if progress is not None and progress != config.output.progress_bar:
        to_run = dataclasses.replace(
            config, output=dataclasses.replace(config.output, progress_bar=progress))
    made_from = fingerprint(config)  # before the run: the provider file as it was read
    started = datetime.now(UTC)
    result = run(to_run)
    finished = datetime.now(UTC)
    result = dataclasses.replace(result, config=config)
    write_run(folder, result, extra=dict(facts) if facts else None, started=started,
              finished=finished, fingerprint=made_from)
    return result


def claim_folder(path: str | os.PathLike, attempts: int = 1000) -> Path:
    """Create a new folder at ``path``, or at ``path-2``, ``path-3``... if it exists.

    ``mkdir`` is atomic, so two processes started in the same second (whose default
    single-run folders have the same name) each get a folder of their own.

    Raises:
        OSError: the parent cannot be written, or ``attempts`` names are taken.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, attempts + 1):
        candidate = path if n == 1 else path.with_name(f"{path.name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{display_path(path)} and {attempts - 1} numbered variants exist")


def display_path(path: str | os.PathLike) -> str:
    """A path relative to the current folder when it is below it, else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
