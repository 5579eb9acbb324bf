"""Designs of experiments over the declared uncertainties: which scenarios a design sweep runs.

A *design sweep* (``experiment=sensitivity``, ``experiment=discovery``) runs the model at
points sampled from the plausible ranges of uncertain parameters, each point crossed with
the sweep's own jobs (its replicates, and for discovery the two regimes compared), so
that every point is run with the same paired replicates (common random numbers).
This module says what those points are; nothing here runs a model or reads results:

* :class:`DesignSpec`: the settings of a design (``hydra.callbacks.sweep.design`` in an
  experiment), validated with messages that name the key, the value and what is allowed.
* :func:`sample`: the points, drawn with SALib (Morris trajectories for screening,
  Saltelli/Sobol' samples for variance-based indices, a Latin hypercube for discovery),
  seeded by the scenario's root ``seed``, so the same command draws the same points.
* :func:`point_overrides`: a point as override strings (``context.initial_trust=0.3125``):
  a point's run is exactly the run of ``collabsim <the sweep's job> <these overrides>``.

Every parameter is sampled uniformly over its declared ``plausible`` range (the schema is
the one place that declares it: :func:`sim.parameters`). Values are rounded to six
significant figures before they are run and recorded (so the design on disk is exactly
what ran); integer parameters are rounded to whole numbers (Morris grids of four levels
fall on whole numbers for both integer uncertainties of the schema).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError, parameters

#: The analyses a design sweep feeds, and the stages each runs in order.
ANALYSES: dict[str, tuple[str, ...]] = {
    "sensitivity": ("screening", "sobol"),
    "discovery": ("lhs",),
}
#: Where an experiment sets a design (every message names keys under it).
DESIGN_KEY = "hydra.callbacks.sweep.design"
#: The files a design sweep writes beside its plan.
DESIGN_CSV = "design.csv"
DESIGN_JSON = "design.json"
#: ``parameters:`` this word means every declared uncertainty.
ALL_UNCERTAINTIES = "uncertainties"


@dataclass(frozen=True)
class DesignSpec:
    """A design sweep's settings (``hydra.callbacks.sweep.design``).

    Attributes:
        analysis: ``"sensitivity"`` (Morris screening, then Sobol' indices over the
            parameters screening keeps) or ``"discovery"`` (a Latin hypercube; PRIM).
        stage: which stage this sweep runs (``"screening"`` or ``"sobol"`` for
            sensitivity, ``"lhs"`` for discovery); the first stage by default.
        parameters: dotted keys of the uncertainties to sample; empty = all of them.
        trajectories: Morris trajectories (screening runs ``trajectories * (k + 1)`` points).
        levels: Morris grid levels (even; 4 is the usual choice).
        base_samples: Sobol' base sample size N, a power of two (``N * (k + 2)`` points).
        keep_share: screening keeps a parameter whose mu* reaches this share of the
            largest mu* for some outcome (0-1).
        max_keep: at most this many parameters go on to Sobol' (0 = no cap).
        points: Latin-hypercube points (discovery).
        treatment, reference: the regimes discovery compares (``regime`` values).
        outcome: the outcome discovery asks about (a column of :data:`sim.OUTCOMES`).
        threshold: the difference (outcome units) that counts as helping or harming;
            ``None``: the outcome's smallest meaningful difference.
        outcomes: the outcomes sensitivity analyses (empty = the main outcomes).
        screening_replicates: Morris screening runs only the first this many of the
            sweep's replicates (0 = all). With common random numbers each elementary effect
            is already a paired difference (neighbouring points share their random
            numbers), so one replicate screens; Sobol' runs all of them and reports the
            replicate noise.
        chunk: design points a launched job runs one after another (0 = chosen so that
            each worker gets about four jobs); Hydra composes one config per launched
            job, so larger chunks mean less overhead and coarser load balancing.
    """

    analysis: str
    stage: str = ""
    parameters: tuple[str, ...] = ()
    trajectories: int = 4
    levels: int = 4
    base_samples: int = 32
    keep_share: float = 0.1
    max_keep: int = 8
    points: int = 200
    treatment: str = "mandated"
    reference: str = "local"
    outcome: str = "care_coordination"
    threshold: float | None = None
    outcomes: tuple[str, ...] = ()
    chunk: int = 0
    screening_replicates: int = 0

    @property
    def method(self) -> str:
        """The SALib sampler this stage uses: ``morris``, ``sobol`` or ``lhs``."""
        return {"screening": "morris", "sobol": "sobol", "lhs": "lhs"}[self.stage]

    @property
    def keys(self) -> tuple[str, ...]:
        """The sampled parameters' dotted keys, in schema order."""
        return self.parameters or tuple(p.key for p in parameters("uncertainty"))

    def record(self) -> dict:
        """The settings as plain data (for ``design.json`` and the report)."""
        data = asdict(self)
        data["parameters"] = list(self.keys)
        data["outcomes"] = list(self.outcomes)
        data["method"] = self.method
        return data


def design_spec(raw: Mapping[str, Any] | None, system: str | None = None
                ) -> DesignSpec | None:
    """Validate a design's settings (a mapping, as the experiment gives them), or None.

    Args:
        raw: the settings.
        system: the ``system.name`` the design runs on. Given, the design samples only
            uncertainties that act on it (``Parameter.acts_on``): England's area context
            does nothing on another system, so sampling it could only show no effect.

    Raises:
        ConfigError: an unknown key, or a value of the wrong type or out of range,
            naming ``hydra.callbacks.sweep.design.<key>``, the value and what is allowed;
            a listed parameter that does not act on ``system``.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{DESIGN_KEY}={raw!r} is not allowed; give a mapping of settings "
                          f"(analysis: sensitivity or discovery, ...) or null")
    data = dict(raw)
    known = set(DesignSpec.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{DESIGN_KEY}.{unknown[0]} is not a design setting; the settings "
                          f"are {', '.join(sorted(known))}")
    analysis = data.get("analysis")
    if analysis not in ANALYSES:
        raise ConfigError(f"{DESIGN_KEY}.analysis={analysis!r} is not allowed; choose one "
                          f"of {', '.join(ANALYSES)}")
    stages = ANALYSES[analysis]
    stage = data.get("stage") or stages[0]
    if stage not in stages:
        raise ConfigError(f"{DESIGN_KEY}.stage={stage!r} is not allowed for the {analysis} "
                          f"analysis; choose one of {', '.join(stages)}")
    data["stage"] = stage
    data["parameters"] = _parameter_keys(data.get("parameters"), system)
    outcomes = data.get("outcomes") or ()
    if isinstance(outcomes, str):
        outcomes = (outcomes,)
    data["outcomes"] = _outcome_names(outcomes)
    for key, low, kind in (("trajectories", 2, int), ("levels", 2, int),
                           ("base_samples", 2, int), ("points", 2, int),
                           ("max_keep", 0, int), ("chunk", 0, int),
                           ("screening_replicates", 0, int)):
        if key in data:
            data[key] = _number(key, data[key], kind, low)
    if data.get("levels", 4) % 2:
        raise ConfigError(f"{DESIGN_KEY}.levels={data['levels']} is not allowed; Morris "
                          "needs an even number of levels (4 is usual)")
    n = data.get("base_samples", DesignSpec.base_samples)
    if n & (n - 1):
        raise ConfigError(f"{DESIGN_KEY}.base_samples={n} is not allowed; Sobol' sampling "
                          f"needs a power of two (e.g. {1 << max(n.bit_length() - 1, 1)} or "
                          f"{1 << n.bit_length()})")
    if "keep_share" in data:
        share = _number("keep_share", data["keep_share"], float, 0.0)
        if share > 1:
            raise ConfigError(f"{DESIGN_KEY}.keep_share={share} is not allowed; give a "
                              "share between 0 and 1")
        data["keep_share"] = share
    if data.get("threshold") is not None:
        data["threshold"] = _number("threshold", data["threshold"], float, 0.0)
    if "outcome" in data:
        data["outcome"] = _outcome_names((data["outcome"],))[0]
    for key in ("treatment", "reference"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{DESIGN_KEY}.{key}={data[key]!r} is not allowed; give a "
                              "regime name (e.g. mandated)")
    spec = DesignSpec(**data)
    if analysis == "discovery" and spec.treatment == spec.reference:
        raise ConfigError(f"{DESIGN_KEY}.treatment and .reference are both "
                          f"{spec.treatment!r}; discovery compares two different regimes")
    return spec


def _number(key: str, value: Any, kind: type, low: float) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok or value < low or (isinstance(value, float) and not math.isfinite(value)):
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{DESIGN_KEY}.{key}={value!r} is not allowed; give {what} of at "
                          f"least {low:g}")
    return kind(value)


def _parameter_keys(given: Any, system: str | None = None) -> tuple[str, ...]:
    """The listed keys, checked against the declared uncertainties (empty = all; with a
    ``system``, all that act on it, and a listed one that does not is an error)."""
    if given in (None, "", ALL_UNCERTAINTIES) or given == []:
        if system is None:
            return ()
        return tuple(p.key for p in parameters("uncertainty") if p.acts_on(system))
    if isinstance(given, str):
        given = [given]
    declared = {p.key: p for p in parameters()}
    uncertain = [p.key for p in parameters("uncertainty")]
    keys = []
    for key in given:
        p = declared.get(key)
        if p is None or p.role != "uncertainty" or p.plausible is None:
            why = (f"it is a {p.role}, not an uncertainty" if p is not None else
                   "no such parameter")
            raise ConfigError(f"{DESIGN_KEY}.parameters lists {key!r} ({why}); list "
                              f"uncertainties (e.g. {', '.join(uncertain[:3])}; `collabsim "
                              f"--keys` shows each one's role) or write {ALL_UNCERTAINTIES}")
        if key in keys:
            raise ConfigError(f"{DESIGN_KEY}.parameters lists {key!r} twice")
        if system is not None and not p.acts_on(system):
            raise ConfigError(f"{DESIGN_KEY}.parameters lists {key!r}, which acts only on "
                              f"system={' or '.join(p.systems)}, not on system={system}: "
                              "it could only show no effect; remove it")
        keys.append(key)
    if len(keys) < 2:
        raise ConfigError(f"{DESIGN_KEY}.parameters lists {len(keys)} parameter; a design "
                          "needs at least two")
    order = {k: i for i, k in enumerate(uncertain)}
    return tuple(sorted(keys, key=order.__getitem__))


def _outcome_names(names: Sequence[str]) -> tuple[str, ...]:
    from sim.outcome_spec import COLUMNS

    for name in names:
        if name not in COLUMNS:
            raise ConfigError(f"{DESIGN_KEY}: {name!r} is not an outcome; choose among "
                              f"{', '.join(COLUMNS)}")
    return tuple(names)


# --------------------------------------------------------------------------- sampling
def problem(keys: Sequence[str]) -> dict:
    """SALib's problem for these parameters: names and plausible bounds (schema order)."""
    declared = {p.key: p for p in parameters()}
    return {"num_vars": len(keys), "names": list(keys),
            "bounds": [list(map(float, declared[k].plausible)) for k in keys]}


def sample(spec: DesignSpec, seed: int) -> tuple[dict, np.ndarray]:
    """The design's points: SALib's problem and the matrix (points × parameters).

    The same spec and seed give the same points. Sobol' samples are scrambled
    Saltelli/Sobol' sequences without second-order terms (``N * (k + 2)`` rows, SALib's
    order: rows ``[0, n*(k+2))`` are the design of base size ``n`` for every power of two
    ``n <= N``, which the convergence study uses); Morris samples are ``trajectories``
    one-at-a-time walks on a grid of ``levels`` levels; the Latin hypercube has ``points``
    rows.
    """
    prob = problem(spec.keys)
    rng_seed = int(np.random.SeedSequence([seed, 20251]).generate_state(1)[0])
    if spec.method == "morris":
        from SALib.sample import morris

        x = morris.sample(prob, spec.trajectories, num_levels=spec.levels, seed=rng_seed)
    elif spec.method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(prob, spec.base_samples, calc_second_order=False, scramble=True,
                         seed=rng_seed)
    else:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=prob["num_vars"], seed=rng_seed).random(spec.points)
        bounds = np.asarray(prob["bounds"])
        x = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    return prob, _as_run(prob, np.asarray(x, dtype=float))


def _as_run(prob: dict, x: np.ndarray) -> np.ndarray:
    """Round each column as it will be run: integers to whole numbers, floats to 6 s.f."""
    types = {p.key: p.type for p in parameters()}
    out = np.array([[float(f"{v:.6g}") for v in row] for row in x]).reshape(x.shape)
    for j, key in enumerate(prob["names"]):
        if types[key] == "int":
            out[:, j] = np.rint(out[:, j])
    return out


def point_overrides(prob: dict, x: np.ndarray) -> list[list[str]]:
    """Each point as override strings, e.g. ``["context.initial_trust=0.3125", ...]``."""
    types = {p.key: p.type for p in parameters()}
    out = []
    for row in x:
        out.append([f"{k}={int(v)}" if types[k] == "int" else f"{k}={_float_text(v)}"
                    for k, v in zip(prob["names"], row, strict=True)])
    return out


def point_values(prob: dict, x: np.ndarray) -> list[dict[str, float | int]]:
    """Each point as ``{dotted key: typed value}`` (what its overrides set)."""
    types = {p.key: p.type for p in parameters()}
    return [{k: int(v) if types[k] == "int" else float(v)
             for k, v in zip(prob["names"], row, strict=True)} for row in x]


def _float_text(v: float) -> str:
    text = repr(float(v))
    return text if ("." in text or "e" in text or "inf" in text or "nan" in text) \
        else text + ".0"


# --------------------------------------------------------------------------- on disk
def write_design(folder: Path, spec: DesignSpec, prob: dict, x: np.ndarray,
                 seed: int) -> None:
    """Write ``design.csv`` (one row per point: ``point`` and each parameter) and
    ``design.json`` (the settings, SALib's problem, the seed), each atomically."""
    import pandas as pd

    from sim.results import write_json_atomic

    frame = pd.DataFrame(x, columns=prob["names"])
    frame.insert(0, "point", np.arange(len(frame)))
    tmp = folder / f".{DESIGN_CSV}.tmp"
    frame.to_csv(tmp, index=False)
    tmp.replace(folder / DESIGN_CSV)
    write_json_atomic(folder / DESIGN_JSON, {"settings": spec.record(), "problem": prob,
                                             "seed": int(seed), "points": int(len(frame))})


def read_design(folder: str | Path) -> tuple[dict, dict, np.ndarray]:
    """(settings, SALib problem, matrix) of a design sweep's folder.

    Raises:
        FileNotFoundError: the folder holds no design (not a design sweep).
        ValueError: the two files do not agree (edited or from another design).
    """
    import pandas as pd

    folder = Path(folder)
    meta_path, csv_path = folder / DESIGN_JSON, folder / DESIGN_CSV
    for path in (meta_path, csv_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: {folder} is not a design sweep "
                                    "(made by experiment=sensitivity or experiment=discovery)")
    meta = json.loads(meta_path.read_text())
    frame = pd.read_csv(csv_path)
    names = meta["problem"]["names"]
    if list(frame.columns) != ["point", *names] or len(frame) != meta["points"] \
            or list(frame["point"]) != list(range(len(frame))):
        raise ValueError(f"{csv_path} does not match {meta_path} (its columns or rows were "
                         "changed); run the sweep's command again to rewrite both")
    return meta["settings"], meta["problem"], frame[names].to_numpy(dtype=float)
