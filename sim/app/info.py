"""The Info panel, written for a teacher (NetLogo's Info tab: what it is, how it works,
how to use it, things to notice; the things to try come from :mod:`sim.app.presets`).

Evidence keys ([M23], [A21], ...) are those of docs/ODD.md, whose References section
gives the full citations.
"""

from __future__ import annotations

from sim.app.presets import PRESETS

WHAT_IS_IT = """\
### What is it?

A model of **collaboration between health and care providers in England**: hospital
trusts, mental health and community trusts, GP practices working together as primary
care networks (PCNs), care homes and council adult social care. Patients often need
care from more than one of them, so each provider hands patients over to others: a
hospital discharges a frail patient to a care home, a GP refers to community nursing.
How well those **handoffs** go, and what partnerships between providers do to them, is
what the model is about.

It asks the questions policy keeps asking [M23]: should partnerships be **mandated**
or **left to local choice**? Do **contracts** help when trust is low? What happens to
collaboration when **staff are short** and leaders will not say so? It is an
exploration of mechanisms, not a forecast: the *directions* of its effects rest on
published evidence; their *sizes* are mostly assumptions.
"""

HOW_IT_WORKS = """\
### How it works

Every simulated **week**:

1. **Patients arrive** at each provider; staff serve as many as they can. A provider
   with vacancies has less capacity, and its **workload** (workload / capacity) rises.
2. **Handoffs**: some patients then need another kind of provider. A sender tries its
   **partners** first; otherwise it hands over *ad hoc* to nearby providers it has no
   relationship with. A handoff is more likely on time between partners who **trust**
   each other, with a **contract** that makes roles clear, similar working
   **cultures**, good **data** and staff who believe in collaboration [M23, A21].
   Patients who cannot be handed over wait, and a hospital patient waiting for a care
   home bed blocks a hospital bed (a *delayed discharge*).
3. **Mutual aid**: partners who trust each other lend spare staff time.
4. **Staff** leave more when overloaded and less when they have faith in
   collaboration; vacancies are filled at a rate set by the labour market.
5. **Trust** grows step by step with handoffs that go well and small wins of joint
   improvement work [VH03, AG08], and falls fast after a conflict [S93]; a formal
   contract absorbs part of the damage [M23].
6. **Paperwork**: every partnership costs staff time, more when it is formal or the
   cultures differ, plus any mandated reporting [M23]. Time on paperwork is time not
   spent on patients.
7. **Staff faith** in collaboration follows leaders' enthusiasm, if leaders are
   credible, and falls with overload, paperwork and lost autonomy. Leaders who deny a
   staff shortage lose credibility as overload grows [M23, A22]; imposed partnerships
   crowd out intrinsic motivation [FJ01].
8. **Partnerships** form when both sides judge the other worth the risk (trust,
   similar culture, shared priorities, distance, expected paperwork) [GN06, A21] and
   end when trust falls too low, if the rules let partners leave.

The first two years (weeks before 0) run the **status quo**: informal partnerships by
local choice. At **week 0 the chosen regime takes over** (the dashed line on the
plots): *local* (voluntary, contracts optional), *mandated* (partners assigned,
standard contracts, reporting, no exit, existing links replaced), *hybrid* (both) or
*none* (no support: links are no longer maintained).

Evidence keys: [M23] Millar et al. 2023, realist synthesis of inter-organisational
collaboration between health-care providers (NIHR); [A21], [A22] Aunger et al. on
trust, faith and confidence; [HF17] Health Foundation 2017, partnerships for
improvement; [VH03] Vangen and Huxham 2003; [AG08] Ansell and Gash 2008; [S93] Slovic
1993; [FJ01] Frey and Jegen 2001; [GN06] Gorobets and Nooteboom 2006; [Ax97] Axelrod
1997. Full references and every parameter's evidence: docs/ODD.md.
"""

HOW_TO_USE = """\
### How to use it

- **Reset** builds the providers from the settings; **▶** plays week by week,
  **Step** advances one week; *Play interval* sets the speed (ms per week) and
  *Render interval* how many weeks pass between redraws.
- **The map**: circles are providers (colour: kind; size: staff in post, FTE);
  lines are partnerships (colour: trust, red low to green high; dashed: informal,
  solid: contract, dash-dot: mandated). *Show ad hoc routes* adds thin grey lines to
  the providers a sender uses without a partnership. Hover over a provider for its
  staff, vacancies, workload and partners; hover over a line for its trust.
- **The plots** show six outcomes week by week; the dashed line is the regime switch.
  A gap means the value is undefined that week (e.g. mean trust with no partnerships).
- **Settings**: the *regime* and *system*, the policy *levers* and the key
  *uncertainties* (what the world is like). Each says when a change takes effect:
  from the next week, at the regime switch, or on Reset. Their ranges, units and
  meanings come from the model's parameter schema.
- **Things to try** (below) set several values at once and reset the model. Pairs of
  them share a seed: same map, same random events, only the lever differs.

In class: project the page, pick a thing to try, read its question aloud, let the
class predict what the plots will do, press ▶, and stop at week 0 to discuss what the
switch did. Then run its comparison.
"""

THINGS_TO_NOTICE = """\
### Things to notice

- Trust is **slow to build and quick to lose**: watch a line turn from red to green over
  months, and back to red after a few failed handoffs.
- Partnerships **cluster** between nearby providers along care pathways: hospitals
  with care homes and councils, GP networks with community services.
- **Paperwork is a real cost**: when admin burden rises, capacity falls, workload
  rises, and handoffs suffer even as partnerships multiply.
- The **burn-in** before week 0 is the same for every regime with the same seed:
  differences after the switch are the regime's.
- Staff **faith** moves slowly and drives who stays: a drop in faith shows up months
  later as vacancies.
"""


def things_to_try_markdown() -> str:
    """The things to try as text (the page shows each with its button)."""
    lines = ["### Things to try", ""]
    for p in PRESETS:
        lines.append(f"- **{p.title}.** {p.question} *Look for:* {p.look_for}")
    return "\n".join(lines)


def info_markdown() -> str:
    """The whole Info panel as Markdown (what it is, how it works, how to use it, notice)."""
    return "\n\n".join([WHAT_IS_IT, HOW_IT_WORKS, HOW_TO_USE, THINGS_TO_NOTICE])
