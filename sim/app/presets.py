"""Things to try: one-click settings, each with a question and what to look for.

A preset's settings are what :class:`~sim.app.session.Session` takes (config
groups and dotted keys, as on the command line), applied over the app's defaults
(teaching system, locally led, seed 0). Presets that belong together (with and
without contracts; realist and denying leaders) share a seed, so they run on the
same map with the same random draws: any difference is the lever's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """One thing to try.

    Attributes:
        key: short identifier (used in the page and in tests).
        title: what the button says.
        question: the question it asks, for the class.
        look_for: what to watch on the map and the plots, and why it happens.
        settings: config groups and dotted keys it sets over the defaults.
        compare: the key of the preset to run next for a comparison, if any.
    """

    key: str
    title: str
    question: str
    look_for: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    compare: str | None = None


PRESETS: tuple[Preset, ...] = (
    Preset(
        "mandate_on_working",
        "Mandate partnerships that already work",
        "What happens when an authority imposes partners on a system whose local "
        "partnerships already work?",
        "Before week 0 trust is high and partnerships form by local choice. At the switch "
        "the mandate replaces the chosen links with assigned ones (dash-dot lines): the "
        "number of partnerships drops by about a third, mean trust dips, paperwork rises "
        "with reporting, and over the next year staff faith falls as lost autonomy crowds "
        "out motivation, and care coordination with it. Then run 'Same system, left to "
        "local choice'.",
        {"regime": "mandated", "context.initial_trust": 0.65, "context.culture_spread": 0.1},
        compare="local_on_working",
    ),
    Preset(
        "local_on_working",
        "Same system, left to local choice",
        "The comparison: the same well-working system (same map, same seed) under the "
        "locally led regime.",
        "No drop at week 0: the chosen partnerships carry on, more form, and trust keeps "
        "growing where handoffs go well. Compare staff faith and care coordination a year "
        "after the switch with the mandate's.",
        {"regime": "local", "context.initial_trust": 0.65, "context.culture_spread": 0.1},
        compare="mandate_on_working",
    ),
    Preset(
        "denial_in_shortage",
        "Leaders deny a staff shortage",
        "What if enthusiastic leaders do not acknowledge that staff are short?",
        "Recruitment runs at 60% of today's rate, so vacancies climb during the burn-in and "
        "workload rises. Leaders who deny the shortage lose credibility as overload grows: "
        "staff faith settles well below where realistic leaders keep it, and a little more "
        "staff leave. Then run 'Leaders acknowledge the shortage'.",
        {"workforce": "shortage", "leadership": "enthusiastic_denier"},
        compare="realism_in_shortage",
    ),
    Preset(
        "realism_in_shortage",
        "Leaders acknowledge the shortage",
        "The comparison: equally enthusiastic leaders who are realistic about shortages.",
        "The same shortage, but realistic leaders shield staff faith from overload: "
        "compare staff faith (about 0.15 higher) and vacancies with the deniers at the "
        "same week.",
        {"workforce": "shortage", "leadership": "enthusiastic_realist"},
        compare="denial_in_shortage",
    ),
    Preset(
        "double_paperwork",
        "Double the paperwork per partnership",
        "Do partnerships still pay if each one costs twice the staff time to run?",
        "Admin burden (share of staff time on paperwork) is about twice today's, and staff "
        "faith ends a few points lower. Do as many partnerships form, and does care "
        "coordination suffer? Compare with 'Today's system'.",
        {"paperwork.fte_per_partnership": 0.08},
        compare="baseline",
    ),
    Preset(
        "low_trust_no_contracts",
        "Low trust, no contracts",
        "Can partnerships grow from a history of low trust when nobody signs a contract?",
        "Fewer partnerships pass the risk threshold than in today's system, and those that "
        "form rely on trust alone, so every failed handoff (a conflict) hurts them fully; "
        "watch the lines turn from red to green slowly. Then run 'Low trust, contracts "
        "required'.",
        {"context.initial_trust": 0.25, "regime.contracts": "none"},
        compare="low_trust_contracts",
    ),
    Preset(
        "low_trust_contracts",
        "Low trust, contracts required",
        "The comparison: the same low-trust start, but every partnership has a formal "
        "contract after the switch.",
        "Formal contracts (solid lines) give role clarity and absorb part of each conflict's "
        "damage, so mean trust grows faster after the switch; they cost some paperwork. "
        "Compare mean trust and admin burden with 'Low trust, no contracts'.",
        {"context.initial_trust": 0.25, "regime.contracts": "required"},
        compare="low_trust_no_contracts",
    ),
    Preset(
        "no_support",
        "Withdraw support for collaboration",
        "What happens to partnerships when nobody maintains them any more?",
        "After week 0 no partnership forms and existing ones are not maintained: trust "
        "decays, links end one by one (most within a year), handoffs go ad hoc and care "
        "coordination falls back to what strangers manage. When the last partnership has "
        "ended, mean trust is undefined: its line stops.",
        {"regime": "none"},
        compare="baseline",
    ),
    Preset(
        "invest_in_data",
        "Invest in data",
        "Does seeing partners' performance clearly help partnerships?",
        "From week 0 data maturity builds towards 0.9: building it costs staff time at first "
        "(admin burden jumps, then settles), while partners' confidence follows what "
        "actually happens and handoffs use better information: care coordination ends "
        "higher than in today's system.",
        {"monitoring": "invest"},
        compare="baseline",
    ),
    Preset(
        "baseline",
        "Today's system",
        "The reference: the teaching system with every value at its default, locally led.",
        "Partnerships form by local choice before and after week 0; trust and care "
        "coordination rise slowly. Run it after any other thing to try: same seed, same "
        "map, so the difference is what that thing changed.",
        {},
    ),
)

_BY_KEY = {p.key: p for p in PRESETS}


def preset(key: str) -> Preset:
    """The preset named ``key``.

    Raises:
        KeyError: ``key`` is not a preset; the message lists them.
    """
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown thing to try {key!r}; choose one of "
                       f"{', '.join(_BY_KEY)}") from None
