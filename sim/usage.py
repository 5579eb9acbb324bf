"""What ``collabsim --help`` and ``collabsim --keys`` print, derived from the configs.

``--help`` fits a screen: what the tool does, how to call it, the config groups with
their options (from the files in ``configs/``, the default marked from
``configs/config.yaml``), the experiments with one line each (what they sweep and how
many runs, from each file's ``hydra.sweeper.params``) and where every key is listed.
``--keys [WORD]`` lists the schema's keys (:func:`sim.config.parameters`) with
default, unit, allowed range, role and meaning. Nothing here is declared twice: a new
option file or experiment appears without editing this module.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from sim import hydra_glue
from sim.config import config_dir, parameters
from sim.paramspec import Parameter

#: Groups not shown with the others (experiments get their own section; hydra is Hydra's).
_OWN_SECTION = ("experiment", "hydra")
#: Width the help is laid out for (characters).
WIDTH = 88


def group_options(configs: Path | None = None) -> dict[str, list[str]]:
    """Each config group's options (file names), the default first and marked ``*``."""
    from omegaconf import OmegaConf

    configs = configs or config_dir()
    defaults: dict[str, str] = {}
    for entry in OmegaConf.to_container(OmegaConf.load(configs / "config.yaml")).get(
            "defaults", []):
        if isinstance(entry, dict):
            for key, value in entry.items():
                defaults[str(key)] = str(value)
    out = {}
    for folder in sorted(p for p in configs.iterdir() if p.is_dir()):
        if folder.name in _OWN_SECTION:
            continue
        names = sorted(p.stem for p in folder.glob("*.yaml"))
        default = defaults.get(folder.name)
        if default in names:
            names.remove(default)
            names.insert(0, f"{default}*")
        out[folder.name] = names
    return out


def experiment_line(path: Path) -> str:
    """One line for an experiment: what it sweeps and how many runs."""
    from omegaconf import OmegaConf

    node = OmegaConf.load(path)
    params = OmegaConf.select(node, "hydra.sweeper.params") or {}
    counts: dict[str, int] = {}
    for key, values in params.items():
        (override,) = hydra_glue.parse_overrides([f"{key}={values}"])
        counts[str(key)] = len(list(override.sweep_iterator())) \
            if override.is_sweep_override() else 1
    reps = counts.pop("replicate", 1)
    scenarios = math.prod(counts.values()) if counts else 1
    keys = " × ".join(counts) or "one scenario"
    if len(keys) > 40:  # the last part of each key, else how many keys under which
        keys = " × ".join(k.rsplit(".", 1)[-1] for k in counts)
    if len(keys) > 40:
        keys = f"{len(counts)} keys of {_common_prefix(list(counts))}"
    return f"{keys}: {scenarios} × {reps} replicates"


def _common_prefix(keys: list[str]) -> str:
    parts = [k.split(".") for k in keys]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) > 1:
            break
        common.append(level[0])
    return ".".join(common) + ".*" if common else "the schema"


def help_text(prog: str = "collabsim") -> str:
    """The whole of ``collabsim --help``."""
    configs = config_dir()
    lines = [
        f"{prog}: simulate collaboration between health and care providers in England, week",
        "by week: a burn-in under the status quo, then a partnership regime; outcomes such as",
        "care coordination, vacancies, trust and paperwork. Exploratory, not a forecast.",
        "",
        "Usage:",
        f"  {prog} [GROUP=OPTION] [KEY=VALUE]...   one run, into results/runs/",
        f"  {prog} experiment=NAME [KEY=VALUE]...  a sweep, into results/sweeps/NAME/",
        f"  {prog} -m KEY=A,B [KEY=VALUE]...       your own sweep (paired replicates)",
        "  collabsim-report SWEEP_FOLDER             rebuild a sweep's report (.md and .html)",
        "",
        "Config groups (GROUP=OPTION; * the default):",
    ]
    for group, names in group_options(configs).items():
        lines.append(f"  {group:<12}{', '.join(names)}")
    lines += ["", "Experiments (experiment=NAME; what each sweeps: scenarios × replicates):"]
    for path in sorted((configs / "experiment").glob("*.yaml")):
        lines.append(f"  {path.stem:<27}{experiment_line(path)}")
    lines += [
        "",
        "Keys: every key has a unit and an allowed range; a wrong one fails before anything runs.",
        f"  {prog} --keys            every key: default, unit, allowed range, role, meaning",
        f"  {prog} --keys WORD       only the keys whose name contains WORD, or of a role",
        f"  {prog} ... --cfg job     print the composed scenario without running it",
        "More: README.md (running, sweeps, reports, exit statuses); docs/ODD.md (mechanisms",
        "and evidence); --hydra-help for Hydra's own options.",
    ]
    return "\n".join(lines) + "\n"


def _range(p: Parameter) -> str:
    if p.choices:
        text = " | ".join(str(c) for c in p.choices)
    elif p.low is None and p.high is None:
        text = "any"
    else:
        low = _num(p.low) if p.low is not None else None
        high = _num(p.high) if p.high is not None and p.high < 1e15 else None
        if low is not None and high is not None:
            text = f"[{low}, {high}]"
        elif low is not None:
            text = f">= {low}"
        else:
            text = f"<= {high}"
    return text + (" or none" if p.nullable else "")


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def keys_text(word: str | None = None) -> str:
    """``collabsim --keys [WORD]``: the schema's keys as a table (one line each)."""
    rows = [p for p in parameters()
            if not word or word.lower() in p.key.lower() or word.lower() == p.role]
    if not rows:
        return (f"no key contains {word!r}; roles are lever, uncertainty, structural, "
                "technical (collabsim --keys lists every key)\n")
    table = [("KEY", "DEFAULT", "UNIT", "ALLOWED", "ROLE", "MEANING")]
    for p in rows:
        default = "none" if p.default is None else _num(p.default)
        table.append((p.key, default, p.unit, _range(p), p.role, p.meaning))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = ["  ".join(f"{c:<{widths[i]}}" for i, c in enumerate(r[:5])) + "  " + r[5]
             for r in table]
    lines += [""] + textwrap.wrap(
        f"{len(rows)} keys. Set one with KEY=VALUE (e.g. context.initial_trust=0.3). Roles: "
        "lever (what policy chooses), uncertainty (what the world does), structural (the "
        "system and horizon), technical (seeds, output). The evidence for each: "
        "docs/ODD.md; in Python: sim.parameters_frame().", WIDTH)
    return "\n".join(lines) + "\n"
