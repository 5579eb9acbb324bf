"""How a schema field declares itself: default, unit, meaning, range, role and evidence.

Every field of :class:`sim.config.SimConfig` is made with :func:`param`, which records
its declaration in the dataclass field's ``metadata``; :class:`Parameter` is the
read-only view that :func:`sim.parameters` returns. Docs, sliders, sensitivity
analysis and tests all derive from these declarations, so each fact about a
parameter is written once, next to the field.

This module knows nothing about the schema itself (no import of :mod:`sim.config`),
so that the schema can import it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: The role of a parameter, and what it means for the people and tools that use it.
ROLES: dict[str, str] = {
    "lever": "a policy choice (what policy can set: regime, contracts, reporting, monitoring, "
             "leadership, labour supply)",
    "uncertainty": "an assumption about the world or a mechanism; sensitivity analysis and "
                   "scenario discovery sample its plausible range",
    "structural": "a constant of the design (which system, how long, how mechanisms are "
                  "built); changed on purpose, not sampled",
    "technical": "no effect on the simulated dynamics (seeds, files, output)",
}

#: Status words an evidence entry carries after its reference keys (explained in the ODD).
STATUSES: dict[str, str] = {
    "Assumption": "the value is the modellers' choice; no published estimate behind it",
    "Calibrated": "tuned by hand so that the status quo lands in the ranges of calibration.md",
    "Lever": "a policy choice the user sets; the default is the locally led preset",
    "Design": "fixed by the conceptual specification (MODEL.md), not by evidence",
    "Technical": "no effect on the simulated dynamics (seeds, files, output)",
}

#: Which status words each role may carry (a lever's evidence says "Lever", and so on).
ROLE_STATUSES: dict[str, tuple[str, ...]] = {
    "lever": ("Lever",),
    "uncertainty": ("Assumption", "Calibrated"),
    "structural": ("Design", "Assumption"),
    "technical": ("Technical",),
}

_KEY = re.compile(r"\[([A-Za-z][A-Za-z0-9]*)\]")


def param(default: Any, unit: str, meaning: str, low: float | None = None,
          high: float | None = None, *, role: str, evidence: str,
          choices: tuple[str, ...] | None = None,
          plausible: tuple[float, float] | None = None,
          systems: tuple[str, ...] | None = None) -> Any:
    """A dataclass field that declares everything known about one parameter.

    Args:
        default: the value of ``SimConfig()``.
        unit: short unit, e.g. ``"share 0-1"``, ``"weeks"``, ``"FTE"``, ``"log-odds"``.
        meaning: one line of help text.
        role: one of :data:`ROLES`.
        evidence: reference keys of the ODD, then a status word of :data:`STATUSES`,
            e.g. ``"[AG08]; Assumption"``.
        low, high: allowed range (inclusive; ``None`` = unbounded); values outside fail
            validation.
        choices: the allowed values of a text field.
        plausible: the range sensitivity analysis samples (uncertainties) or a slider
            offers (levers); inside ``[low, high]`` and containing the default.
        systems: the ``system.name`` values on which the parameter acts at all (None:
            every system); elsewhere designs leave it out, since it could only show
            no effect.
    """
    meta = {"unit": unit, "meaning": meaning, "role": role, "evidence": evidence,
            "low": low, "high": high, "choices": choices, "plausible": plausible,
            "systems": systems}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Parameter:
    """One leaf of the schema, as declared with :func:`param`.

    Attributes:
        key: dotted key, e.g. ``"context.initial_trust"`` (what an override sets).
        type: ``"float"``, ``"int"``, ``"bool"`` or ``"str"``.
        default: the value of ``SimConfig()``.
        unit: short unit (``"share 0-1"``, ``"weeks"``, ``"km"``, ...).
        meaning: one line of help text.
        role: ``"lever"``, ``"uncertainty"``, ``"structural"`` or ``"technical"``.
        evidence: reference keys and status word, e.g. ``"[AG08]; Assumption"``.
        low, high: allowed range (inclusive); ``None`` where unbounded or not numeric.
        choices: allowed values of a text field, else ``None``.
        plausible: (low, high) that sensitivity analysis samples (every uncertainty) or
            that a slider offers (numeric levers); ``None`` otherwise.
        nullable: whether ``None`` (``null``) is a valid value.
        systems: the systems (``system.name``) on which it acts; ``None``: every one.
    """

    key: str
    type: str
    default: Any
    unit: str
    meaning: str
    role: str
    evidence: str
    low: float | None
    high: float | None
    choices: tuple[str, ...] | None
    plausible: tuple[float, float] | None
    nullable: bool = False
    systems: tuple[str, ...] | None = None

    def acts_on(self, system: str) -> bool:
        """Whether the parameter can change anything on ``system`` (a ``system.name``)."""
        return self.systems is None or system in self.systems

    @property
    def status(self) -> str:
        """The status word of the evidence (``"Assumption"``, ``"Lever"``, ...)."""
        words = _KEY.sub("", self.evidence).replace(",", " ").replace(";", " ").split()
        return words[-1] if words else ""

    @property
    def references(self) -> list[str]:
        """Reference keys cited in the evidence, e.g. ``["M23", "A21"]``."""
        return evidence_keys(self.evidence)



def evidence_keys(entry: str) -> list[str]:
    """Reference keys cited in an evidence entry, e.g. ``["M23", "A21"]``."""
    return _KEY.findall(entry)


def type_name(annotation: Any) -> tuple[str, bool]:
    """(base type name, nullable) of a field annotation such as ``"int | None"``."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__",
                                                                  str(annotation))
    parts = [p.strip() for p in text.split("|")]
    nullable = "None" in parts
    base = [p for p in parts if p != "None"]
    name = base[0] if base else "None"
    return (name.split("[")[0], nullable)


def leaves(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any]]:
    """(dotted key, field, default) of every leaf of a nested dataclass schema, in order."""
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            sub = f.default_factory()
            if dataclasses.is_dataclass(sub):
                yield from leaves(type(sub), f"{prefix}{f.name}.")
                continue
            yield f"{prefix}{f.name}", f, sub
        else:
            yield f"{prefix}{f.name}", f, f.default


def collect(cls: type) -> tuple[Parameter, ...]:
    """The :class:`Parameter` of every leaf of ``cls`` (a nested dataclass schema)."""
    out = []
    for key, f, default in leaves(cls):
        m = f.metadata
        name, nullable = type_name(f.type)
        plausible = m.get("plausible")
        out.append(Parameter(
            key=key, type=name, default=default, unit=m.get("unit", ""),
            meaning=m.get("meaning", ""), role=m.get("role", ""),
            evidence=m.get("evidence", ""), low=m.get("low"), high=m.get("high"),
            choices=tuple(m["choices"]) if m.get("choices") else None,
            plausible=tuple(plausible) if plausible is not None else None,
            nullable=nullable,
            systems=tuple(m["systems"]) if m.get("systems") else None))
    return tuple(out)


def problems(p: Parameter) -> list[str]:
    """What is wrong with one declaration (empty when it is complete and consistent)."""
    out = []
    if p.role not in ROLES:
        out.append(f"{p.key}: role {p.role!r} is not one of {', '.join(ROLES)}")
    if not p.unit:
        out.append(f"{p.key}: no unit")
    if not p.meaning:
        out.append(f"{p.key}: no meaning")
    words = _KEY.sub("", p.evidence).replace(",", " ").replace(";", " ").split()
    unknown = [w for w in words if w not in STATUSES]
    if unknown:
        out.append(f"{p.key}: unknown word(s) {unknown} in evidence {p.evidence!r}; use "
                   f"reference keys like [M23] and one of {', '.join(STATUSES)}")
    elif len(words) != 1:
        out.append(f"{p.key}: evidence {p.evidence!r} needs exactly one status word "
                   f"({', '.join(STATUSES)}) after its reference keys")
    elif p.role in ROLES and p.status not in ROLE_STATUSES[p.role]:
        out.append(f"{p.key}: a {p.role} carries the status "
                   f"{' or '.join(ROLE_STATUSES[p.role])}, not {p.status!r}")
    if p.role == "uncertainty" and p.plausible is None:
        out.append(f"{p.key}: an uncertainty needs a plausible range")
    if p.plausible is not None:
        lo, hi = p.plausible
        numeric = p.type in ("float", "int") and isinstance(p.default, int | float)
        if not numeric:
            out.append(f"{p.key}: a plausible range needs a numeric parameter")
        elif not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            out.append(f"{p.key}: plausible range {p.plausible} is not an interval")
        else:
            if (p.low is not None and lo < p.low) or (p.high is not None and hi > p.high):
                out.append(f"{p.key}: plausible range {p.plausible} leaves the allowed range "
                           f"[{p.low}, {p.high}]")
            if not lo <= p.default <= hi:
                out.append(f"{p.key}: plausible range {p.plausible} does not contain the "
                           f"default {p.default}")
            if p.type == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
                out.append(f"{p.key}: an integer parameter needs a whole-number plausible "
                           "range")
    return out
