"""The design analyses on results on disk: which assumptions matter, and when a mandate helps.

A design experiment (``collabsim experiment=sensitivity`` or ``experiment=discovery``)
leaves a folder of stages, each a sweep of its own (:mod:`sim.design`)::

    results/sweeps/sensitivity/
        screening/   design.csv, design.json, sweep.json, point=0000,replicate=0/run/ ...
        sobol/       the same, over the parameters screening kept
        analysis/    sensitivity.md, morris.csv, sobol.csv, convergence.csv, noise.csv,
                     figures/ (written by sim.sensitivity.write_report)
    results/sweeps/discovery/
        lhs/         design.csv, ..., point=0000,regime=local,replicate=0/run/ ...
        analysis/    discovery.md, effects.csv, boxes.csv, trajectory.csv, figures/

This module reads those folders back into tables (never re-running a run) and calls the
analyses (:mod:`sim.sensitivity`, :mod:`sim.discovery`), so that a modeller can call
them from Python on a sweep that ran elsewhere (a cluster) and the command line can
rebuild the analysis: ``uv run python -m sim.analyses results/sweeps/sensitivity``.

Replicate noise is kept apart from parameter effects: every point is run with the same
replicates (common random numbers), and the analyses use each point's mean over its
replicates; how much of the spread is replicate noise is reported beside the indices.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.design import DESIGN_JSON, design_spec, read_design
from sim.outcome_spec import MAIN_OUTCOMES, outcome
from sim.report import collect

#: The folder the analysis is written to, inside the experiment's folder.
ANALYSIS_DIR = "analysis"

__all__ = ["ANALYSIS_DIR", "AnalysisError", "analyse", "design_runs", "discovery",
           "failed_runs", "screen_folder", "sensitivity"]


class AnalysisError(ValueError):
    """A design folder cannot be analysed (no design, runs missing or failed)."""


def design_runs(stage_dir: str | Path) -> tuple[dict, dict, np.ndarray, pd.DataFrame]:
    """A design stage's settings, SALib problem, design matrix and tidy runs table.

    The runs table has one row per complete run: ``point``, ``replicate``, ``regime``
    and every outcome column (final-year means, as in the run's ``summary.json``).

    Raises:
        AnalysisError: the folder is not a design stage, or a planned run is missing,
            failed or stale (the message says how many and what to do).
    """
    stage_dir = Path(stage_dir)
    try:
        settings, prob, x = read_design(stage_dir)
        runs, _, failed, missing, manifest = collect(stage_dir)
    except (FileNotFoundError, ValueError) as err:
        raise AnalysisError(str(err)) from None
    if failed or missing:
        raise AnalysisError(f"{stage_dir}: {len(failed)} runs failed and {len(missing)} are "
                            "missing; run the experiment's command again to complete them")
    point_of = {j["dir"]: int(j["dir"].split(",")[0].split("=")[1]) for j in manifest["jobs"]}
    regime_of = {j["dir"]: next((o.split("=", 1)[1] for o in j["overrides"]
                                 if o.startswith("regime=")), None)
                 for j in manifest["jobs"]}
    runs = runs.assign(point=runs["job"].map(point_of), regime=runs["job"].map(regime_of))
    if runs["regime"].isna().all():
        runs["regime"] = _recorded_regime(stage_dir, manifest)
    cols = ["point", "replicate", "regime", *[c for c in MAIN_OUTCOMES if c in runs]]
    cols += [c for c in runs.columns if c not in cols and c in _outcome_columns()]
    return settings, prob, x, runs[cols].sort_values(["point", "regime", "replicate"],
                                                     ignore_index=True)


def _outcome_columns() -> list[str]:
    from sim.outcome_spec import COLUMNS

    return list(COLUMNS)


def _recorded_regime(stage_dir: Path, manifest: dict) -> str | None:
    """The regime every run of a stage shares (read from the first run's config)."""
    from sim.results import read_config, run_folder

    first = manifest["jobs"][0]["dir"]
    return (read_config(run_folder(stage_dir / first)).get("regime") or {}).get("name")


def failed_runs(stage_dir: str | Path) -> int:
    """How many planned runs of a stage failed or are missing (0 when all are complete)."""
    _, _, failed, missing, _ = collect(Path(stage_dir))
    return len(failed) + len(missing)


def _outcomes(settings: dict) -> list[str]:
    return list(settings.get("outcomes") or MAIN_OUTCOMES)


# --------------------------------------------------------------------------- sensitivity
def screen_folder(stage_dir: str | Path) -> list[str]:
    """The parameters screening keeps for Sobol' indices (:func:`sim.sensitivity.screen`)."""
    from sim import sensitivity as sa

    settings, prob, x, runs = design_runs(stage_dir)
    morris = sa.morris_indices(prob, x, runs, _outcomes(settings),
                               num_levels=settings["levels"])
    kept = sa.screen(morris, keep_share=settings["keep_share"],
                     max_keep=settings["max_keep"] or None)
    if len(kept) < 2:  # Sobol' needs two: take the next by rank
        ranked = morris.groupby("parameter")["rank"].min().sort_values().index
        kept = list(dict.fromkeys([*kept, *ranked]))[:2]
    return kept


def sensitivity(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Morris and Sobol' indices of a sensitivity experiment's folder, from disk.

    Returns:
        ``{"morris", "sobol", "convergence", "noise"}``: tidy tables (one row per outcome
        and parameter; ``noise``: one row per outcome), as :mod:`sim.sensitivity` makes them.
    """
    from sim import sensitivity as sa

    folder = Path(folder)
    s_set, s_prob, s_x, s_runs = design_runs(folder / "screening")
    outcomes = _outcomes(s_set)
    morris = sa.morris_indices(s_prob, s_x, s_runs, outcomes, num_levels=s_set["levels"])
    tables = {"morris": morris}
    if s_runs["replicate"].nunique() > 1:
        tables["noise"] = sa.noise_share(s_runs, outcomes)
    if (folder / "sobol" / DESIGN_JSON).is_file():
        _, prob, _, runs = design_runs(folder / "sobol")
        tables["sobol"] = sa.sobol_indices(prob, runs, outcomes)
        tables["convergence"] = sa.sobol_convergence(prob, runs, outcomes)
        if runs["replicate"].nunique() > 1:  # the noise in what the indices are made of
            tables["noise"] = sa.noise_share(runs, outcomes)
    return tables


def discovery(folder: str | Path) -> dict[str, Any]:
    """Paired effects and PRIM boxes of a discovery experiment's folder, from disk.

    Returns:
        ``{"effects": per-point table, "boxes": list of boxes, "settings": dict}``.
    """
    from sim import discovery as sd

    settings, prob, x, runs = design_runs(Path(folder) / "lhs")
    name = settings["outcome"]
    effects = sd.paired_effects(runs, treatment=settings["treatment"],
                                reference=settings["reference"], outcome=name)
    frame = pd.DataFrame(x, columns=prob["names"])
    threshold = _threshold(settings)
    better = outcome(name).better or "higher"
    boxes = []
    for direction in sd.DIRECTIONS:  # where the treatment helps, where it does worse
        boxes += sd.find_boxes(frame, effects["effect"].to_numpy(), threshold=threshold,
                               direction=direction, better=better)
    return {"effects": pd.concat([frame, effects.reset_index(drop=True)], axis=1),
            "boxes": boxes, "settings": {**settings, "threshold": threshold,
                                         "better": better}}


def _threshold(settings: dict) -> float:
    """The difference that counts, in outcome units: the setting, else the registry's."""
    if settings.get("threshold") is not None:
        return float(settings["threshold"])
    from sim.discovery import default_threshold

    return float(default_threshold(settings["outcome"]))


# --------------------------------------------------------------------------- writing
def analyse(folder: str | Path) -> Path:
    """Write a design experiment's analysis into ``<folder>/analysis/``; return that folder.

    Raises:
        AnalysisError: the folder is not a design experiment, or its runs are incomplete.
    """
    folder = Path(folder)
    stages = [p.parent.name for p in sorted(folder.glob(f"*/{DESIGN_JSON}"))]
    if not stages:
        raise AnalysisError(f"{folder} holds no design stage (no */{DESIGN_JSON}); give the "
                            "folder of experiment=sensitivity or experiment=discovery, "
                            "e.g. results/sweeps/sensitivity")
    settings = json.loads((folder / stages[0] / DESIGN_JSON).read_text())["settings"]
    spec = design_spec({k: v for k, v in settings.items() if k != "method"})
    out = folder / ANALYSIS_DIR
    if spec.analysis == "sensitivity":
        from sim import sensitivity as sa

        tables = sensitivity(folder)
        if "sobol" not in tables:
            raise AnalysisError(f"{folder}: the Sobol' stage has not run; run the "
                                "experiment's command again")
        screened = screen_folder(folder / "screening")
        return sa.write_report(out, morris=tables["morris"], sobol=tables["sobol"],
                               convergence=tables["convergence"], noise=tables.get("noise"),
                               screened=screened, settings=_settings(folder, stages))
    from sim import discovery as sd

    found = discovery(folder)
    settings = {**_settings(folder, stages),
                **{k: found["settings"][k] for k in ("threshold", "better")}}
    return sd.write_report(out, effects=found["effects"], boxes=found["boxes"],
                           settings=settings)


def _settings(folder: Path, stages: Sequence[str]) -> dict:
    """What was run, for the report: one line per stage, then the settings that apply."""
    out: dict[str, Any] = {}
    for stage in stages:
        meta = json.loads((folder / stage / DESIGN_JSON).read_text())
        manifest = json.loads((folder / stage / "sweep.json").read_text())
        spec = meta["settings"]
        runs = len(manifest["jobs"])
        how = {"morris": f"Morris, {spec['trajectories']} trajectories on {spec['levels']} "
                         "levels",
               "sobol": f"Saltelli/Sobol' sample, base {spec['base_samples']}",
               "lhs": "Latin hypercube"}[spec["method"]]
        out[stage] = (f"{how}; {len(spec['parameters'])} parameters, {meta['points']} points, "
                      f"{runs} runs ({runs // meta['points']} per point), seed {meta['seed']}")
        out.setdefault("command", manifest.get("command"))
        keys = (("keep_share", "max_keep") if spec["analysis"] == "sensitivity" else
                ("treatment", "reference", "outcome"))
        for key in keys:
            out.setdefault(key, spec.get(key))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.analyses FOLDER``: rebuild a design experiment's analysis from disk."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.analyses",
        description="Rebuild the analysis of experiment=sensitivity or experiment=discovery "
                    "from its runs on disk (never re-runs the model).")
    parser.add_argument("folder", help="e.g. results/sweeps/sensitivity")
    args = parser.parse_args(argv)
    try:
        out = analyse(args.folder)
    except AnalysisError as err:
        print(f"analyses: error: {err}", file=sys.stderr)
        return 2
    print(f"analysis: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
