"""The generated parts of ``docs/ODD.md``, so that the model description never goes stale.

The ODD+D protocol is prose written by hand, but its tables of numbers are
rendered from the code that the model actually runs: every :class:`SimConfig`
field (default, unit, allowed range) with its evidence, the regime presets in
``configs/regime/``, the outcome columns and calibration targets of
:mod:`sim.outcomes`, and the structural constants of :mod:`sim.kinds` and
:mod:`sim.system`. Each table sits between a pair of markers in the document,
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; ``uv run python -m sim.docs``
rewrites them all, and ``tests/test_docs.py`` fails when they differ.

The evidence of each parameter lives here, in :data:`EVIDENCE`, next to the code
that renders it: adding a field to the schema without saying what it rests on
(an evidence key of MODEL.md, or an explicit "Assumption") fails the tests.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import SimConfig, config_dir, from_dict

ODD_PATH = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"

#: Status words an evidence entry may carry besides evidence keys (explained in the ODD).
STATUSES: dict[str, str] = {
    "Assumption": "the value is the modellers' choice; no published estimate behind it",
    "Calibrated": "tuned by hand so that the status quo lands in the ranges of calibration.md",
    "Lever": "a policy choice the user sets; the default is the locally led preset",
    "Design": "fixed by the conceptual specification (MODEL.md), not by evidence",
    "Technical": "no effect on the simulated dynamics (seeds, files, output)",
}

#: Evidence of every SimConfig field: reference keys (defined in the ODD's references
#: section) for the mechanism, then a status word for the numerical default.
EVIDENCE: dict[str, str] = {
    "seed": "Technical",
    "replicate": "Technical",
    "task": "Technical",
    "validation.replicates": "Technical",
    "validation.robustness_replicates": "Technical",
    "validation.workers": "Technical",
    "validation.patterns": "Technical",
    # system
    "system.name": "[CAL]; Design",
    "system.path": "Technical",
    "system.scale": "[CAL]; Design",
    "system.layout_seed": "Technical",
    # time
    "time.burn_in_weeks": "[M23]; Design",
    "time.policy_weeks": "Design",
    # context (uncertainties)
    "context.initial_trust": "[AG08]; Assumption",
    "context.trust_spread": "[AG08]; Assumption",
    "context.culture_spread": "[M23], [Ax97]; Assumption",
    "context.priority_concentration": "[M23]; Assumption",
    "context.demand_ratio": "[M23], [CAL]; Calibrated",
    "context.demand_growth": "[CAL]; Assumption",
    "context.seasonality": "Assumption",
    "context.initial_quality_spread": "[M23]; Assumption",
    # regime (levers)
    "regime.name": "Technical",
    "regime.partner_choice": "[M23], [HF17], [GN06]; Lever",
    "regime.maintain": "[VH03]; Lever",
    "regime.may_exit": "[M23], [HF17]; Lever",
    "regime.contracts": "[M23], [A21], [HF17]; Lever",
    "regime.contract_formality": "[M23], [A21]; Lever",
    "regime.existing": "[M23]; Lever",
    "regime.reporting_fte": "[M23]; Lever",
    "regime.priorities": "[M23]; Lever",
    "regime.shared_goals": "[M23], [AG08]; Lever",
    # monitoring
    "monitoring.initial_maturity": "[M23], [HF17]; Assumption",
    "monitoring.target_maturity": "[M23], [HF17]; Lever",
    "monitoring.build_rate": "[HF17]; Assumption",
    "monitoring.build_cost": "[HF17]; Assumption",
    "monitoring.max_lag_weeks": "[M23]; Assumption",
    "monitoring.noise": "[M23]; Assumption",
    # leadership
    "leadership.enthusiasm": "[M23], [A22]; Lever",
    "leadership.realism": "[M23]; Lever",
    "leadership.spread": "Assumption",
    # workforce
    "workforce.labour_supply": "[M23], [CAL]; Lever",
    "workforce.initial_vacancy": "[CAL]; Assumption",
    "workforce.turnover_nhs": "[CAL]; Calibrated",
    "workforce.turnover_social_care": "[CAL]; Calibrated",
    "workforce.fill_rate_nhs": "[CAL]; Calibrated",
    "workforce.fill_rate_social_care": "[CAL]; Calibrated",
    "workforce.overload_sensitivity": "[M23]; Assumption",
    "workforce.faith_sensitivity": "[M23]; Assumption",
    "workforce.overload_memory_weeks": "Assumption",
    # handoffs
    "handoffs.intake_margin": "Assumption",
    "handoffs.intake_margin_social_care": "[CAL]; Calibrated",
    "handoffs.adhoc_base": "[CAL]; Calibrated",
    "handoffs.partner_base": "[CAL]; Calibrated",
    "handoffs.reliance_weight": "[M23], [A21]; Assumption",
    "handoffs.formality_weight": "[M23], [HF17]; Assumption",
    "handoffs.culture_weight": "[M23]; Assumption",
    "handoffs.faith_weight": "[M23]; Assumption",
    "handoffs.quality_weight": "[M23]; Assumption",
    "handoffs.data_weight": "[M23]; Assumption",
    "handoffs.distance_scale_km": "[M23]; Assumption",
    "handoffs.adhoc_neighbours": "Assumption",
    "handoffs.partner_preference": "[GN06]; Assumption",
    "handoffs.delay_resolution": "[CAL]; Calibrated",
    "handoffs.renege_rate": "Assumption",
    # mutual aid
    "aid.rate": "[M23]; Assumption",
    "aid.formality_boost": "[HF17]; Assumption",
    "aid.max_lend_share": "Assumption",
    # trust and confidence
    "trust.gain": "[VH03]; Assumption",
    "trust.loss": "[S93]; Assumption",
    "trust.contract_softening": "[M23], [A21]; Assumption",
    "trust.conflict_rate": "[VH03]; Assumption",
    "trust.culture_conflict": "[M23]; Assumption",
    "trust.decay": "[VH03]; Assumption",
    "trust.neglect_decay": "[VH03]; Assumption",
    "trust.win_gain": "[AG08], [VH03]; Assumption",
    "trust.confidence_rate": "[A21]; Assumption",
    "trust.generalised_rate": "[AG08]; Assumption",
    # faith
    "faith.rate": "Assumption",
    "faith.leader_weight": "[M23], [A22]; Assumption",
    "faith.credibility_sensitivity": "[M23], [A22]; Assumption",
    "faith.overload_erosion": "[M23]; Assumption",
    "faith.realism_protection": "[M23]; Assumption",
    "faith.paperwork_erosion": "[M23]; Assumption",
    "faith.crowding_out": "[FJ01], [M23]; Assumption",
    "faith.crowding_recovery_weeks": "[FJ01]; Assumption",
    # paperwork
    "paperwork.fte_per_partnership": "[M23]; Assumption",
    "paperwork.formality_cost": "[M23]; Assumption",
    "paperwork.culture_cost": "[M23]; Assumption",
    "paperwork.complexity_partners": "[M23]; Assumption",
    "paperwork.max_share": "Assumption",
    # improvement
    "improvement.progress_rate": "[M23], [AG08]; Assumption",
    "improvement.no_goals_factor": "[M23]; Assumption",
    "improvement.sharing_rate": "[M23]; Assumption",
    # culture
    "culture.convergence_rate": "[Ax97]; Assumption",
    # partnerships
    "partnerships.max_partners": "[M23]; Assumption",
    "partnerships.search_rate": "[M23], [A22]; Assumption",
    "partnerships.candidates": "[M23]; Assumption",
    "partnerships.risk_threshold": "[A21], [GN06]; Assumption",
    "partnerships.value_trust": "[GN06]; Assumption",
    "partnerships.value_culture": "[M23], [Ax97]; Assumption",
    "partnerships.value_alignment": "[M23]; Assumption",
    "partnerships.value_burden": "[M23]; Assumption",
    "partnerships.value_distance_km": "[M23]; Assumption",
    "partnerships.exit_threshold": "[GN06], [A21]; Assumption",
    "partnerships.exit_rate": "[GN06]; Assumption",
    "partnerships.assigned_per_kind": "[M23]; Assumption",
    # output
    "shock.start_week": "Design",
    "shock.weeks": "Design",
    "shock.intake_loss": "[S93], [VH03]; Design",
    "output.agent_snapshot_every": "Technical",
    "output.progress_bar": "Technical",
}

#: Regime presets in the order the ODD shows them (others follow alphabetically).
PRESET_ORDER = ("none", "local", "mandated", "hybrid")

_KEY = re.compile(r"\[([A-Za-z][A-Za-z0-9]*)\]")


# --------------------------------------------------------------------------- schema walk
def iter_fields(cls: type = SimConfig, prefix: str = "") -> Iterator[tuple[str, Any, dict]]:
    """(dotted key, default, metadata) of every leaf field of the schema, in schema order."""
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            sub = f.default_factory()
            if dataclasses.is_dataclass(sub):
                yield from iter_fields(type(sub), f"{prefix}{f.name}.")
                continue
            yield f"{prefix}{f.name}", sub, dict(f.metadata)
        else:
            yield f"{prefix}{f.name}", f.default, dict(f.metadata)


def field_keys() -> list[str]:
    """Dotted keys of every SimConfig field (what a Hydra override may set)."""
    return [key for key, _, _ in iter_fields()]


def evidence_keys(entry: str) -> list[str]:
    """Reference keys cited in an evidence entry, e.g. ``["M23", "A21"]``."""
    return _KEY.findall(entry)


def evidence_problems() -> list[str]:
    """What is wrong with :data:`EVIDENCE`: missing, stale or malformed entries."""
    problems = []
    keys = field_keys()
    for key in keys:
        if key not in EVIDENCE:
            problems.append(f"{key}: no evidence entry (add one to sim.docs.EVIDENCE: reference "
                            "keys and/or 'Assumption')")
    for key, entry in EVIDENCE.items():
        if key not in keys:
            problems.append(f"{key}: evidence entry for a field the schema no longer has")
            continue
        words = _KEY.sub("", entry).replace(",", " ").replace(";", " ").split()
        unknown = [w for w in words if w not in STATUSES]
        if unknown:
            problems.append(f"{key}: unknown word(s) {unknown} in {entry!r}; use reference "
                            f"keys like [M23] and the words {', '.join(STATUSES)}")
        if not words and not evidence_keys(entry):
            problems.append(f"{key}: empty evidence entry")
    return problems


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


def _allowed(default: Any, meta: dict) -> str:
    choices = meta.get("choices")
    if choices:
        return " \\| ".join(f"`{c}`" for c in choices)
    if isinstance(default, bool):
        return "`true` \\| `false`"
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return "-"
    integer = isinstance(default, int) or (default is None and isinstance(low, int))
    close = ")" if high is None else "]"
    kind = "integer " if integer else ""
    return f"{kind}[{_number(low, integer)}, {_number(high, integer)}{close}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# --------------------------------------------------------------------------- blocks
def render_params() -> str:
    """Markdown tables of every SimConfig field: key, default, unit, allowed values, evidence."""
    lines = ["Status words: " + "; ".join(f"**{w}**: {d}" for w, d in STATUSES.items()) + "."]
    groups: dict[str, list[tuple[str, Any, dict]]] = {}
    for key, default, meta in iter_fields():
        group = key.split(".")[0] if "." in key else ""
        groups.setdefault(group, []).append((key, default, meta))
    docs = {f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING
                     else None) for f in dataclasses.fields(SimConfig)}
    for group, items in groups.items():
        sub = docs.get(group)
        title = f"`{group}`" if group else "root"
        doc = (type(sub).__doc__ or "").strip().split("\n")[0] if group else "The run."
        lines += ["", f"#### {title}: {doc}", ""]
        rows = [[f"`{key}`", _value(default), _cell(meta.get("unit", "")),
                 _allowed(default, meta), _cell(EVIDENCE.get(key, "**MISSING**"))]
                for key, default, meta in items]
        lines += _table(["key", "default", "unit / meaning", "allowed", "evidence"], rows)
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
    """Markdown table of the outcome registry (:data:`sim.outcomes.OUTCOMES`), in column
    order: MODEL.md's main outcomes, then the breakdowns."""
    from sim.outcomes import OUTCOMES

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
    from sim.outcomes import CALIBRATION

    rows = [[f"`{t.column}`", f"{t.low:g}", f"{t.high:g}", _cell(t.source)]
            for t in CALIBRATION]
    return "\n".join(_table(["column", "low", "high", "source"], rows))


def render_kinds() -> str:
    """Markdown tables of the structural constants of each provider kind and built-in system."""
    from sim.kinds import BLOCKING, KIND_NAMES, PATHWAYS, PRODUCTIVITY, SOCIAL_CARE
    from sim.system import BUILTIN_COUNTS, SIZE_FLOOR_FTE, SIZE_LOG_SD, SIZE_MEAN_FTE

    rows = []
    for k, name in enumerate(KIND_NAMES):
        out = ", ".join(f"{KIND_NAMES[j]} {PATHWAYS[k, j]:g}" for j in np.flatnonzero(
            PATHWAYS[k] > 0))
        counts = " / ".join(f"{BUILTIN_COUNTS[s][k]:,}" for s in BUILTIN_COUNTS)
        rows.append([f"`{name}`", "social care" if SOCIAL_CARE[k] else "NHS", counts,
                     f"{SIZE_MEAN_FTE[k]:,.0f} (log-sd {SIZE_LOG_SD[k]:g}, floor "
                     f"{SIZE_FLOOR_FTE[k]:g})", f"{PRODUCTIVITY[k]:g}", f"{BLOCKING[k]:g}",
                     out or "-"])
    totals = " / ".join(f"{sum(BUILTIN_COUNTS[s]):,}" for s in BUILTIN_COUNTS)
    rows.append(["total", "", totals, "", "", "", ""])
    systems = " / ".join(BUILTIN_COUNTS)
    return "\n".join(_table(
        ["kind", "sector", f"count ({systems})", "funded FTE, mean", "episodes per FTE-week",
         "capacity blocked per waiting patient (episodes/week)",
         "handoff shares of served episodes (pathways)"], rows))


#: Marker name -> renderer of that block of docs/ODD.md.
BLOCKS = {
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
    problems = evidence_problems()
    if problems:
        print("sim.docs.EVIDENCE needs attention:\n  " + "\n  ".join(problems),
              file=sys.stderr)
    old = path.read_text(encoding="utf-8")
    new = update(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}")
    else:
        print(f"{path} is up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
