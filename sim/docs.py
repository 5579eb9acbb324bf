"""The generated parts of ``docs/ODD.md``, so that the model description never goes stale.

The ODD+D protocol is prose written by hand, but its tables of numbers are
rendered from the code that the model actually runs: every :class:`SimConfig`
field (default, unit, meaning, role, allowed and plausible range, evidence) as the
schema declares it (:func:`sim.parameters`), the regime presets in
``configs/regime/``, the outcome columns and calibration targets of
:mod:`sim.outcomes`, and the structural constants of :mod:`sim.kinds` and
:mod:`sim.system`. Each table sits between a pair of markers in the document,
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; ``uv run python -m sim.docs``
rewrites them all, and ``tests/test_docs.py`` fails when they differ.

The evidence of each parameter is declared with the field in :mod:`sim.config`:
adding a field without saying what it rests on (reference keys of the ODD and a
status word such as "Assumption") fails :func:`declaration_problems` and the tests.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import SimConfig, config_dir, from_dict, parameters
from sim.paramspec import ROLES, STATUSES, Parameter, problems

ODD_PATH = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"

#: Regime presets in the order the ODD shows them (others follow alphabetically).
PRESET_ORDER = ("none", "local", "mandated", "hybrid")


# --------------------------------------------------------------------------- schema
def declaration_problems() -> list[str]:
    """What is wrong with the schema's declarations: missing unit, meaning, role or
    evidence, a status word that does not fit the role, an uncertainty without a
    plausible range, a plausible range outside the allowed one or without the default."""
    return [problem for p in parameters() for problem in problems(p)]


# --------------------------------------------------------------------------- formatting
def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(value: Any) -> str:
    """A default as a Hydra override would spell it."""
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _number(value: float | None, integer: bool) -> str:
    if value is None:
        return "∞"
    if integer and value == 2**63 - 1:
        return "2^63 - 1"
    return f"{int(value)}" if integer else f"{value:g}"


def _allowed(p: Parameter) -> str:
    if p.choices:
        return " \\| ".join(f"`{c}`" for c in p.choices)
    if p.type == "bool":
        return "`true` \\| `false`"
    low, high = p.low, p.high
    if low is None and high is None:
        return "-"
    integer = p.type == "int"
    close = ")" if high is None else "]"
    kind = "integer " if integer else ""
    return f"{kind}[{_number(low, integer)}, {_number(high, integer)}{close}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# --------------------------------------------------------------------------- blocks
def _plausible(p: Parameter) -> str:
    if p.plausible is None:
        return ""
    integer = p.type == "int"
    return f"{_number(p.plausible[0], integer)}-{_number(p.plausible[1], integer)}"


def render_params() -> str:
    """Markdown tables of every SimConfig field, from the schema's declarations alone."""
    lines = ["Roles: " + "; ".join(f"**{w}**: {d}" for w, d in ROLES.items()) + ".",
             "",
             "Status words of the evidence: " + "; ".join(f"**{w}**: {d}"
                                                          for w, d in STATUSES.items()) + ".",
             "",
             "*Plausible* is the range sensitivity analysis samples for an uncertainty, or "
             "the range a slider offers for a numeric lever; *allowed* is what validation "
             "accepts."]
    groups: dict[str, list[Parameter]] = {}
    for p in parameters():
        groups.setdefault(p.key.split(".")[0] if "." in p.key else "", []).append(p)
    docs = {f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING
                     else None) for f in dataclasses.fields(SimConfig)}
    for group, items in groups.items():
        sub = docs.get(group)
        title = f"`{group}`" if group else "root"
        doc = (type(sub).__doc__ or "").strip().split("\n")[0] if group else "The run."
        lines += ["", f"#### {title}: {doc}", ""]
        rows = [[f"`{p.key}`", _value(p.default), _cell(p.unit), _cell(p.meaning), p.role,
                 _allowed(p), _plausible(p), _cell(p.evidence)] for p in items]
        lines += _table(["key", "default", "unit", "meaning", "role", "allowed", "plausible",
                         "evidence"], rows)
    return "\n".join(lines)


def regime_presets() -> dict[str, Any]:
    """The status quo and every preset in ``configs/regime/``, as RegimeConfig objects."""
    from omegaconf import OmegaConf

    from sim.regimes import STATUS_QUO

    files = {p.stem: p for p in (config_dir() / "regime").glob("*.yaml")}
    order = [n for n in PRESET_ORDER if n in files] + sorted(set(files) - set(PRESET_ORDER))
    presets: dict[str, Any] = {"status quo (burn-in)": STATUS_QUO}
    for name in order:
        data = OmegaConf.to_container(OmegaConf.load(files[name]), resolve=True)
        presets[f"`{name}`"] = from_dict({"regime": data}).regime
    return presets


def render_regimes() -> str:
    """Markdown table: one row per regime lever, one column per preset (plus the status quo)."""
    presets = regime_presets()
    names = list(presets)
    rows = []
    for f in dataclasses.fields(next(iter(presets.values()))):
        if f.name == "name":
            continue
        rows.append([f"`regime.{f.name}`"] + [_value(getattr(presets[n], f.name))
                                             for n in names])
    return "\n".join(_table(["lever", *names], rows))


def render_outcomes() -> str:
    """Markdown table of the outcome registry (:data:`sim.outcome_spec.OUTCOMES`), in column
    order: MODEL.md's main outcomes, then the breakdowns."""
    from sim.outcome_spec import OUTCOMES

    def bounds(o) -> str:
        return f"[{o.low:g}, ∞)" if o.high == float("inf") else f"[{o.low:g}, {o.high:g}]"

    rows = [[f"`{o.name}`", "yes" if o.main else "", _cell(o.description), _cell(o.unit),
             o.better or "neither", bounds(o),
             f"{o.smallest_difference:g}", _cell(o.evidence)] for o in OUTCOMES]
    return "\n".join(_table(["column", "main", "meaning", "unit", "better", "range",
                             "smallest difference that matters", "why that difference"],
                            rows))


def render_calibration() -> str:
    """Markdown table of the status-quo calibration targets of :mod:`sim.outcomes`."""
    from sim.outcome_spec import CALIBRATION

    rows = [[f"`{t.column}`", f"{t.low:g}", f"{t.high:g}", _cell(t.source)]
            for t in CALIBRATION]
    return "\n".join(_table(["column", "low", "high", "source"], rows))


def render_kinds() -> str:
    """Markdown tables of the structural constants of each provider kind and built-in system."""
    from sim.kinds import BLOCKING, KIND_NAMES, PATHWAYS, PRODUCTIVITY, SOCIAL_CARE
    from sim.system import (
        BUILTIN_SYSTEMS,
        SIZE_FLOOR_FTE,
        SIZE_LOG_SD,
        SIZE_MEAN_FTE,
        national_counts,
    )

    counts_of = {s: national_counts(s) for s in BUILTIN_SYSTEMS}
    rows = []
    for k, name in enumerate(KIND_NAMES):
        out = ", ".join(f"{KIND_NAMES[j]} {PATHWAYS[k, j]:g}" for j in np.flatnonzero(
            PATHWAYS[k] > 0))
        counts = " / ".join(f"{c[k]:,}" for c in counts_of.values())
        rows.append([f"`{name}`", "social care" if SOCIAL_CARE[k] else "NHS", counts,
                     f"{SIZE_MEAN_FTE[k]:,.0f} (log-sd {SIZE_LOG_SD[k]:g}, floor "
                     f"{SIZE_FLOOR_FTE[k]:g})", f"{PRODUCTIVITY[k]:g}", f"{BLOCKING[k]:g}",
                     out or "-"])
    totals = " / ".join(f"{sum(c):,}" for c in counts_of.values())
    rows.append(["total", "", totals, "", "", "", ""])
    systems = " / ".join(BUILTIN_SYSTEMS)
    return "\n".join(_table(
        ["kind", "sector", f"count ({systems})", "funded FTE, mean", "episodes per FTE-week",
         "capacity blocked per waiting patient (episodes/week)",
         "handoff shares of served episodes (pathways)"], rows))


def render_validation() -> str:
    """Markdown table of the validation patterns and criteria of :mod:`sim.validation`:
    each criterion with its form, smallest meaningful effect and decision rule."""
    from sim.validation.patterns import PATTERNS

    rows = []
    for p in PATTERNS:
        crits = "; ".join(f"{c.statement} [{c.form}; {c.rule}]" for c in p.criteria)
        rows.append([p.key.split("_", 1)[0], _cell(p.description), _cell(crits)])
    return "\n".join(_table(["#", "scenarios", "criteria [form; decision rule]"], rows))


#: Marker name -> renderer of that block of docs/ODD.md.
BLOCKS = {
    "validation": render_validation,
    "params": render_params,
    "regimes": render_regimes,
    "outcomes": render_outcomes,
    "calibration": render_calibration,
    "kinds": render_kinds,
}


def _span(text: str, name: str) -> tuple[int, int]:
    """Character span of the content between the markers of block ``name``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < 0 or j < i:
        raise ValueError(f"docs/ODD.md lacks the markers {start} ... {end}")
    return i + len(start), j


def extract(text: str, name: str) -> str:
    """The content of block ``name`` in ``text``, without surrounding blank lines."""
    i, j = _span(text, name)
    return text[i:j].strip("\n")


def update(text: str) -> str:
    """``text`` with every generated block replaced by a fresh rendering."""
    for name, render in BLOCKS.items():
        i, j = _span(text, name)
        text = text[:i] + "\n" + render() + "\n" + text[j:]
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks of docs/ODD.md (``uv run python -m sim.docs``)."""
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else ODD_PATH
    found = declaration_problems()
    if found:
        print("parameter declarations in sim/config.py need attention:\n  "
              + "\n  ".join(found), file=sys.stderr)
    old = path.read_text(encoding="utf-8")
    new = update(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}")
    else:
        print(f"{path} is up to date")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
