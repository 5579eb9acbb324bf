"""Between-site variation on ``system=england``: a validation pattern run on its own.

Integrated care programmes varied widely between sites under the same national policy
[M23], [HF17]; the mandate in particular can hurt partnerships that already work [M23]
(pattern 2, crowding out). Before the area context (``sim.area_context``) areas differed
only in geography, size and a culture mean, and under mandated versus locally led
partnerships 41 of England's 42 ICBs moved the same way. This pattern asks whether the
context makes places respond differently, with two criteria stated here, in the code,
before it was first run (never tuned after):

- :data:`HISTORY`: ICBs with a history of integration programmes lose more care
  coordination under the mandate (or gain less) than ICBs without: per replicate, the
  mean over ICBs with a history score above 0 of (mandated - local) final-year
  care_coordination minus the same mean over ICBs with score 0; its 95% interval over
  paired replicates must lie below minus care_coordination's smallest meaningful
  difference. Without area context the two groups are labels only, so the difference
  has no reason to leave zero.
- :data:`BOTH_WAYS`: at least :data:`MIN_AREAS_EACH_WAY` ICBs move clearly (the 95%
  paired interval of their mandated - local care_coordination excludes 0, as the sweep
  report counts them) in each direction. The model without context failed it (41 of
  42 the same way; issue 15).

The pattern runs both models, with the area context at its defaults and without it
(the three strengths at 0), on the same replicates, so the report shows whether the
criteria tell them apart. It also reports the regional calibration: each NHS England
region's simulated NHS and social care vacancy in the status quo's last year beside
the published regional figure (``sim/data/england/regions.csv``).

``collabsim-validate-sites`` (or ``python -m sim.between_sites``) runs it and writes
``between_sites.md``, ``between_sites.json``, ``between_sites.csv`` and
``regional_calibration.csv`` into the validation folder, and puts the section into
``validation.md`` between markers without regenerating anything else. Analysis only:
runs go through :func:`sim.run`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.area_effects import final_year
from sim.config import ConfigError
from sim.england import load_icbs
from sim.england_context import load_history, load_regions
from sim.kinds import SOCIAL_CARE
from sim.results import git_state
from sim.runner import RunResult, run
from sim.stats import mean_interval, paired_interval
from sim.validation.patterns import Criterion, of_outcome
from sim.validation.report import markers
from sim.validation.runner import _map
from sim.validation.scenarios import build

#: The outcome whose per-area effect the criteria read.
OUTCOME = "care_coordination"
#: The base of every scenario: England's ICBs (the caller's overrides come after it, so
#: ``system.scale=...`` applies to it).
SYSTEM = ("system=england",)
#: Snapshots every this many weeks in the locally led runs (the regional calibration
#: reads those of the burn-in's last year: weeks -1, -14, -27, -40).
SNAPSHOT_EVERY = 13
SCENARIOS: dict[str, dict[str, Any]] = {
    "mandated": {"regime": "mandated"},
    "local": {"regime": "local", "output.agent_snapshot_every": SNAPSHOT_EVERY},
}
#: The two models compared: the area context at its defaults, and without it.
MODELS: dict[str, dict[str, Any]] = {
    "with_context": {},
    "without_context": {"context.regional_labour_market": 0.0,
                        "context.collaboration_history": 0.0,
                        "context.area_leadership_spread": 0.0},
}
#: Fewest ICBs that must move clearly in each direction (BOTH_WAYS).
MIN_AREAS_EACH_WAY = 3

HISTORY = Criterion(
    "history_loses_more",
    "ICBs with a history of integration programmes (pioneer or early ICS) minus ICBs "
    "without: mean over the ICBs of (mandated - local) final-year care_coordination < 0",
    -1, **of_outcome(OUTCOME))


@dataclass(frozen=True)
class CountCriterion:
    """A criterion on how many areas move clearly each way (decided on the counts).

    Attributes:
        name, statement: as :class:`~sim.validation.patterns.Criterion`'s.
        minimum: fewest areas that must move clearly in each direction.
        basis: why that many.
    """

    name: str
    statement: str
    minimum: int
    basis: str

    @property
    def rule(self) -> str:
        """The decision rule in words."""
        return f"at least {self.minimum} areas clearly up and {self.minimum} clearly down"

    def passes(self, up: int, down: int) -> bool:
        """True if at least :attr:`minimum` areas move clearly each way."""
        return up >= self.minimum and down >= self.minimum


BOTH_WAYS = CountCriterion(
    "both_directions",
    "under the mandate, at least 3 ICBs move clearly (95% paired interval of mandated - "
    "local final-year care_coordination excludes 0) in each direction",
    MIN_AREAS_EACH_WAY,
    "three of 42 ICBs (7%) each way: more than one or two odd places, fewer than the "
    "'some improving, some getting worse' of the evaluations would need to be a "
    "pattern rather than noise (assumption)")


# --------------------------------------------------------------------------- measures
def history_effect(mandated: np.ndarray, local: np.ndarray, score: np.ndarray) -> float:
    """One replicate's :data:`HISTORY` effect: mean (mandated - local) over areas with a
    history (score > 0) minus the mean over areas without (NaN areas skipped; share)."""
    d = np.asarray(mandated, dtype=float) - np.asarray(local, dtype=float)
    with_history, without = d[(score > 0) & np.isfinite(d)], d[(score == 0) & np.isfinite(d)]
    if not len(with_history) or not len(without):
        return math.nan
    return float(with_history.mean() - without.mean())


def area_table(mandated: np.ndarray, local: np.ndarray, areas: pd.DataFrame,
               score: np.ndarray) -> pd.DataFrame:
    """Per area: the paired effect over replicates with its 95% interval.

    Args:
        mandated, local: (replicates, areas) final-year values of :data:`OUTCOME`.
        areas: ``area, area_code, area_name`` in the columns' order.
        score: (areas,) history score.

    Returns:
        ``area, area_code, area_name, history, n_pairs, effect, ci_low, ci_high, move``
        (``up``, ``down`` or ``unclear``), sorted by effect.
    """
    rows = []
    for k, area in enumerate(areas.itertuples(index=False)):
        i = paired_interval(mandated[:, k], local[:, k])
        move = ("up" if i.n >= 2 and i.low > 0 else "down" if i.n >= 2 and i.high < 0
                else "unclear")
        rows.append({"area": area.area, "area_code": area.area_code,
                     "area_name": area.area_name, "history": float(score[k]), "n_pairs": i.n,
                     "effect": i.mean, "ci_low": i.low, "ci_high": i.high, "move": move})
    return pd.DataFrame(rows).sort_values("effect", kind="stable").reset_index(drop=True)


def regional_vacancy(providers: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Vacancy by NHS England region and sector over the burn-in's last year.

    Args:
        providers: a run's per-provider snapshots (``week, kind, area, staff, funded``).
        areas: the run's areas (``area``, ``area_code``).

    Returns:
        ``region, sector, staff, funded`` summed over the snapshots of weeks -52..-1.
    """
    icbs = load_icbs()
    region_of = dict(zip(icbs.codes, icbs.regions, strict=True))
    code = areas.set_index("area")["area_code"]
    last = providers[(providers["week"] >= -52) & (providers["week"] < 0)]
    frame = pd.DataFrame({
        "region": last["area"].map(code).map(region_of).to_numpy(),
        "sector": np.where(SOCIAL_CARE[last["kind"].to_numpy()], "social_care", "nhs"),
        "staff": last["staff"].to_numpy(), "funded": last["funded"].to_numpy()})
    return frame.groupby(["region", "sector"], as_index=False)[["staff", "funded"]].sum()


def replicate_values(configs: Mapping[str, Any], replicate: int) -> dict[str, Any]:
    """Run the two scenarios as ``replicate``; return what the criteria and the regional
    calibration need (small: per-area finals and regional sums), not the runs."""
    results: dict[str, RunResult] = {name: run(config, replicate=int(replicate))
                                      for name, config in configs.items()}
    local = results["local"]
    finals = {name: final_year(r.by_area)[OUTCOME].reindex(r.areas["area"]).to_numpy()
              for name, r in results.items()}
    regional = (regional_vacancy(local.providers, local.areas)
                if local.providers is not None else pd.DataFrame())
    return {"areas": local.areas[["area", "area_code", "area_name"]], "finals": finals,
            "regional": regional}


def regional_calibration(sums: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Simulated vacancy by region and sector (mean over replicates) beside published.

    Each value is also shown relative to England's (the simulated England, and the
    published England row), since the area context imposes the regions' relative
    position and the national calibration sets the level.
    """
    regional = load_regions()
    rows, per_rep = [], []
    for r, frame in enumerate(sums):
        if frame.empty:
            continue
        f = frame.copy()
        nation = f.groupby("sector")[["staff", "funded"]].sum()
        f["vacancy"] = 1 - f["staff"] / f["funded"]
        f["england"] = f["sector"].map(1 - nation["staff"] / nation["funded"])
        f["replicate"] = r
        per_rep.append(f)
    if not per_rep:
        return pd.DataFrame()
    allr = pd.concat(per_rep, ignore_index=True)
    for (region, sector), g in allr.groupby(["region", "sector"], sort=False):
        i = mean_interval(g["vacancy"].to_numpy())
        rate = f"{sector}_vacancy"
        k = regional.regions.index(region)
        published = float(regional.rates[rate][k])
        rows.append({"region": region, "sector": sector, "replicates": i.n,
                     "simulated": i.mean, "ci_low": i.low, "ci_high": i.high,
                     "simulated_vs_england": float((g["vacancy"] / g["england"]).mean()),
                     "published": published,
                     "published_vs_england": published / regional.national[rate],
                     "status": regional.status[rate][k]})
    out = pd.DataFrame(rows)
    out["_order"] = out["region"].map({g: i for i, g in enumerate(regional.regions)})
    return out.sort_values(["sector", "_order"]).drop(columns="_order").reset_index(drop=True)


def summarise(values: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One model's criteria from its replicates' :func:`replicate_values`."""
    areas = values[0]["areas"]
    icbs = load_icbs()
    row = {c: i for i, c in enumerate(icbs.codes)}
    score = load_history().score[[row[c] for c in areas["area_code"]]]
    mandated = np.array([v["finals"]["mandated"] for v in values])
    local = np.array([v["finals"]["local"] for v in values])
    effects = [history_effect(m, loc, score) for m, loc in zip(mandated, local, strict=True)]
    i = mean_interval(effects)
    table = area_table(mandated, local, areas, score)
    up, down = int((table["move"] == "up").sum()), int((table["move"] == "down").sum())
    return {"history": {"name": HISTORY.name, "criterion": HISTORY.statement,
                        "rule": HISTORY.rule, "smallest_effect": HISTORY.smallest_effect,
                        "unit": HISTORY.unit, "basis": HISTORY.basis, "effect": i.mean,
                        "ci_low": i.low, "ci_high": i.high, "replicates": i.n,
                        "passed": HISTORY.passes(i)},
            "both_directions": {"name": BOTH_WAYS.name, "criterion": BOTH_WAYS.statement,
                                "rule": BOTH_WAYS.rule, "basis": BOTH_WAYS.basis,
                                "up": up, "down": down, "areas": len(table),
                                "passed": BOTH_WAYS.passes(up, down)},
            "table": table}


# --------------------------------------------------------------------------- running
def measure(overrides: Sequence[str], replicates: Sequence[int], workers: int = 1,
            models: Sequence[str] = tuple(MODELS), progress: bool = False
            ) -> dict[str, dict[str, Any]]:
    """Run the pattern for each model; returns model -> :func:`summarise` plus the
    regional calibration (``"regional"``) of that model's locally led runs."""
    configs = {m: {name: build([*SYSTEM, *overrides], MODELS[m], changes)
                   for name, changes in SCENARIOS.items()} for m in models}
    jobs = [(configs[m], int(r)) for m in models for r in replicates]
    values = list(_map(replicate_values, jobs, workers, progress, "between-site runs"))
    out = {}
    for k, m in enumerate(models):
        mine = values[k * len(replicates):(k + 1) * len(replicates)]
        out[m] = {**summarise(mine),
                  "regional": regional_calibration([v["regional"] for v in mine])}
    return out


def _fmt(x: float, digits: int = 4) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:+.{digits}g}"


def markdown(found: Mapping[str, Mapping[str, Any]], command: str, commit: str,
             replicates: int, base: Any) -> str:
    """The section: criteria, both models' verdicts, the areas, regional calibration."""
    lines = ["## Between-site variation on `system=england` [M23], [HF17]", "",
             f"Run on its own by `{command}` at commit `{commit}` ({replicates} paired "
             f"replicates per model; burn-in {base.time.burn_in_weeks} weeks, policy period "
             f"{base.time.policy_weeks} weeks, root seed {base.seed}); the rest of this "
             "report was not regenerated with it. Scenarios: mandated vs locally led on "
             "England's 42 ICBs, with the area context at its defaults and without it "
             "(its three strengths at 0), on the same replicates. The criteria were "
             "committed in `sim/between_sites.py` before the first run.", "",
             "| model | criterion | decision rule | result | passed |", "|---|---|---|---|---|"]
    for m, r in found.items():
        h, b = r["history"], r["both_directions"]
        lines.append(f"| {m} | {h['name']}: {h['criterion']} | 95% interval's {h['rule']} | "
                     f"{_fmt(h['effect'])} "
                     f"[{_fmt(h['ci_low'])}, {_fmt(h['ci_high'])}] | "
                     f"{'yes' if h['passed'] else '**no**'} |")
        lines.append(f"| {m} | {b['name']}: {b['criterion']} | {b['rule']} | {b['up']} up, "
                     f"{b['down']} down of {b['areas']} | {'yes' if b['passed'] else '**no**'} |")
    first = next(iter(found.values()))
    lines += ["", f"Smallest meaningful effect of {HISTORY.name}: "
              f"{HISTORY.smallest_effect:g} {HISTORY.unit}, {HISTORY.basis}. "
              f"{BOTH_WAYS.name}: {BOTH_WAYS.basis}.", ""]
    for m, r in found.items():
        t = r["table"]
        lines += [f"### Areas, {m.replace('_', ' ')}", "",
                  "Mandated minus locally led final-year care_coordination per ICB (95% "
                  "paired interval), sorted; history = the ICB's history score.", "",
                  "| ICB | history | effect | 95% interval | moves |", "|---|---|---|---|---|"]
        for row in t.itertuples(index=False):
            lines.append(f"| {row.area_name} | {row.history:g} | {_fmt(row.effect, 3)} | "
                         f"[{_fmt(row.ci_low, 3)}, {_fmt(row.ci_high, 3)}] | {row.move} |")
        lines.append("")
    cal = first.get("regional")
    if cal is not None and len(cal):
        lines += ["### Regional calibration (with the area context)", "",
                  "Simulated vacancy in the status quo's last year (mean over replicates of "
                  "the locally led runs' burn-in) per NHS England region, beside the published "
                  "regional figure (`sim/data/england/regions.csv`); each also relative to "
                  "England's (simulated England; published England row). The context imposes "
                  "the relative position; the national calibration sets the level. Turnover "
                  "per region is not measured: runs do not record leavers per provider.", "",
                  "| sector | region | simulated | 95% interval | simulated / England | "
                  "published | published / England | status |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in cal.itertuples(index=False):
            lines.append(f"| {row.sector} | {row.region} | {row.simulated:.3f} | "
                         f"[{row.ci_low:.3f}, {row.ci_high:.3f}] | "
                         f"{row.simulated_vs_england:.2f} | {row.published:.3f} | "
                         f"{row.published_vs_england:.2f} | {row.status} |")
        lines.append("")
    return "\n".join(lines)


START, END = markers("between_sites")


def merged(text: str, section: str) -> str:
    """``text`` (a validation report) with ``section`` between the markers: an older
    section replaced, or the section appended; nothing else changes."""
    block = f"{START}\n{section.rstrip()}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def merge_into(report: Path, section: str) -> None:
    """Put ``section`` into ``report`` between the markers (replacing an older one, or
    appended); nothing else in the file changes. A missing report is left missing."""
    if report.is_file():
        replace_files({report: merged(report.read_text(encoding="utf-8"), section)})


def replace_files(texts: Mapping[Path, str]) -> None:
    """Write every file whole, or none: each goes first into ``<name>.tmp-<pid>`` beside
    it, and only when all are written are they renamed into place, in the given order
    (so put the file that marks completion last). On any error the temporary files are
    removed and every target is left as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in texts.items():
            tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
            staged.append((tmp, path))
            tmp.write_text(text, encoding="utf-8")
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def write(found: Mapping[str, Mapping[str, Any]], out: Path, section: str) -> None:
    """Write the pattern's files into ``out`` and merge its section into validation.md,
    all of them or none (:func:`replace_files`); ``between_sites.json`` goes last."""
    out.mkdir(parents=True, exist_ok=True)
    texts = {out / "between_sites.csv": pd.concat(
        [r["table"].assign(model=m) for m, r in found.items()],
        ignore_index=True).to_csv(index=False)}
    cal = [r["regional"].assign(model=m) for m, r in found.items() if len(r["regional"])]
    if cal:
        texts[out / "regional_calibration.csv"] = pd.concat(cal, ignore_index=True).to_csv(
            index=False)
    texts[out / "between_sites.md"] = section + "\n"
    report = out / "validation.md"
    if report.is_file():
        texts[report] = merged(report.read_text(encoding="utf-8"), section)
    verdicts = {m: {"history": r["history"], "both_directions": r["both_directions"]}
                for m, r in found.items()}
    texts[out / "between_sites.json"] = json.dumps(verdicts, indent=2) + "\n"
    replace_files(texts)


def _commit() -> str:
    """The checkout's commit, ``-dirty`` if it has uncommitted changes (taken before the
    runs, so that a commit made while they run cannot be credited with them)."""
    state = git_state()
    if state is None:
        return "unknown"
    return state["commit"][:7] + ("-dirty" if state["dirty"] else "")


def main(argv: Sequence[str] | None = None) -> int:
    """``collabsim-validate-sites``: exit 0 if both criteria pass with the area context,
    3 if not, 2 for a bad argument or override (nothing run), 130 interrupted."""
    p = argparse.ArgumentParser(
        prog="collabsim-validate-sites",
        description="The between-site validation pattern on system=england (mandated vs "
        "locally led, with and without the area context), and the regional calibration; "
        "writes between_sites.{md,json,csv} and regional_calibration.csv and merges the "
        "section into validation.md.")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="overrides of the base scenario (e.g. time.policy_weeks=156)")
    p.add_argument("--replicates", type=int, default=5, help="paired replicates per model "
                   "(>= 2; default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="parallel processes")
    p.add_argument("--out", type=Path, default=Path("docs/validation"),
                   help="validation folder (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    try:
        if args.replicates < 2 or args.workers < 1:
            raise ConfigError(f"--replicates {args.replicates} / --workers {args.workers} "
                              "not allowed; replicates >= 2 (an interval needs two), "
                              "workers >= 1")
        base = build([*SYSTEM, *args.overrides])
        commit = _commit()
        found = measure(args.overrides, range(args.replicates), args.workers,
                        progress=not args.no_progress)
    except ConfigError as err:
        print(f"collabsim-validate-sites: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("collabsim-validate-sites: interrupted; nothing was written", file=sys.stderr)
        return 130
    words = ["uv run collabsim-validate-sites", *(
        [f"--replicates {args.replicates}"] if args.replicates != 5 else []),
        *([f"--out {args.out}"] if args.out != Path("docs/validation") else []),
        *args.overrides]
    section = markdown(found, " ".join(words), commit, args.replicates, base)
    write(found, args.out, section)
    ok = all(found["with_context"][k]["passed"] for k in ("history", "both_directions"))
    print(f"between sites: with the area context {HISTORY.name} "
          f"{'passed' if found['with_context']['history']['passed'] else 'NOT passed'}, "
          f"{BOTH_WAYS.name} "
          f"{'passed' if found['with_context']['both_directions']['passed'] else 'NOT passed'}"
          f"; report: {args.out / 'between_sites.md'}")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
