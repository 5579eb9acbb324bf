"""Validation against the evidence: the eleven patterns of MODEL.md, with paired replicates.

Each pattern names the scenarios it compares, a criterion stated before running,
and an *effect* measured within one replicate (all scenarios of a pattern share
the replicate's random streams, so they share the map, the burn-in and the
weekly draws: common random numbers). Over replicates, the effect's mean and 95% interval
(Student t over paired replicates) decide the pattern: it passes when the
interval excludes zero in the stated direction.

Nothing here tunes the model: patterns must emerge from the mechanisms.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import SimConfig, from_dict, set_dotted, to_dict
from sim.kinds import LINKED
from sim.model import CollaborationModel
from sim.runner import RunResult, run

# --------------------------------------------------------------------------- helpers


def scenario(base: SimConfig, **changes) -> SimConfig:
    """A copy of ``base`` with dotted-key changes, e.g. ``{"context.initial_trust": 0.1}``.

    A ``regime`` given by preset name is loaded from ``configs/regime/``.
    """
    data = to_dict(base)
    for key, value in changes.items():
        if key == "regime" and isinstance(value, str):
            data["regime"] = _yaml("regime", value)
            continue
        set_dotted(data, key, value)
    return from_dict(data)


def _yaml(group: str, name: str) -> dict:
    import yaml

    from sim.config import config_dir

    with open(config_dir() / group / f"{name}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def policy_mean(result, column: str, first: int = 0, last: int | None = None) -> float:
    """Mean of a weekly column over policy weeks ``first`` to ``last`` (inclusive)."""
    w = result.weekly
    sel = w["week"] >= first
    if last is not None:
        sel &= w["week"] <= last
    return float(w.loc[sel, column].mean())


@dataclass(frozen=True)
class Criterion:
    """One check: an effect whose 95% interval must exclude zero in ``direction``."""

    name: str
    statement: str
    direction: int  # +1: effect must be > 0; -1: effect must be < 0


@dataclass
class Pattern:
    """A pattern of MODEL.md: what is compared, and how each replicate's effects are measured.

    ``measure(base, rep)`` returns one effect per criterion for replicate ``rep``.
    """

    key: str
    title: str
    evidence: str
    scenarios: str
    criteria: tuple[Criterion, ...]
    measure: Callable[[SimConfig, int], Sequence[float]]
    figure: Callable | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- patterns


def _run(config: SimConfig, rep: int) -> RunResult:
    """Run replicate ``rep`` of a scenario (the rep-th child stream of the root seed)."""
    return run(dataclasses.replace(config, replicate=int(rep)))


def _p1(base: SimConfig, rep: int) -> list[float]:
    out = []
    mand, local = (_run(scenario(base, regime=r), rep) for r in ("mandated", "local"))
    out.append(policy_mean(mand, "care_coordination") - policy_mean(local, "care_coordination"))
    out.append(policy_mean(mand, "mean_belief") - policy_mean(local, "mean_belief"))
    fresh = {"time.burn_in_weeks": 0, "context.initial_trust": 0.1}
    mand0, local0 = (_run(scenario(base, regime=r, **fresh), rep) for r in ("mandated", "local"))
    out.append(policy_mean(mand0, "care_coordination") - policy_mean(local0, "care_coordination"))
    return out


def _p2(base: SimConfig, rep: int) -> list[float]:
    """Faith change over the first policy year, mandated minus local, per provider."""
    changes = {}
    had = None
    for regime in ("mandated", "local"):
        m = CollaborationModel(scenario(base, regime=regime, replicate=rep))
        for _ in range(base.time.burn_in_weeks):
            m.step()
        faith0 = m.state.faith.copy()
        if had is None:  # identical burn-in under both regimes (common random numbers)
            ps = m.partnerships
            working = (ps.trust.mean(axis=1) >= 0.5) & ~ps.mandated
            n = m.n_providers
            had = (np.bincount(ps.a[working], minlength=n)
                   + np.bincount(ps.b[working], minlength=n)) > 0
        for _ in range(52):
            m.step()
        changes[regime] = m.state.faith - faith0
    drop = changes["mandated"] - changes["local"]
    if had.all() or not had.any():
        return [float("nan")]
    return [float(drop[had].mean() - drop[~had].mean())]


def _p3(base: SimConfig, rep: int) -> list[float]:
    def pair(**ctx):
        formal = _run(scenario(base, regime="local", **{"regime.contracts": "required"}, **ctx),
                      rep)
        informal = _run(scenario(base, regime="local", **{"regime.contracts": "none"}, **ctx),
                        rep)
        return formal, informal

    diverse = {"context.culture_spread": 0.35}
    similar = {"context.culture_spread": 0.05}
    f_div, i_div = pair(**diverse)
    f_sim, i_sim = pair(**similar)
    f_hi, i_hi = pair(**{"context.initial_trust": 0.9})
    f_lo, i_lo = pair(**{"context.initial_trust": 0.1})
    gain_div = policy_mean(f_div, "mean_trust") - policy_mean(i_div, "mean_trust")
    gain_sim = policy_mean(f_sim, "mean_trust") - policy_mean(i_sim, "mean_trust")
    survival_gain_hi = (policy_mean(f_hi, "partnership_survival")
                        - policy_mean(i_hi, "partnership_survival"))
    survival_gain_lo = (policy_mean(f_lo, "partnership_survival")
                        - policy_mean(i_lo, "partnership_survival"))
    return [
        policy_mean(f_div, "partnership_survival") - policy_mean(i_div, "partnership_survival"),
        gain_div,
        gain_div - gain_sim,
        survival_gain_hi - survival_gain_lo,
    ]


def _p4(base: SimConfig, rep: int) -> list[float]:
    similar = _run(scenario(base, **{"context.culture_spread": 0.05}), rep)
    diverse = _run(scenario(base, **{"context.culture_spread": 0.35}), rep)
    return [policy_mean(similar, c) - policy_mean(diverse, c)
            for c in ("mean_trust", "care_coordination")]


def _p5(base: SimConfig, rep: int) -> list[float]:
    def gap(supply: float) -> float:
        res = {}
        for style in ("enthusiastic_realist", "enthusiastic_denier"):
            lead = _yaml("leadership", style)
            res[style] = policy_mean(_run(scenario(
                base, **{"workforce.labour_supply": supply},
                **{f"leadership.{k}": v for k, v in lead.items()}), rep), "mean_belief")
        return res["enthusiastic_realist"] - res["enthusiastic_denier"]

    short = gap(_yaml("workforce", "shortage")["labour_supply"])
    enough = gap(1.3)
    return [short, short - enough]


COMPLEXITY_LEVELS = (1, 8, 48)


def _p6(base: SimConfig, rep: int) -> list[float]:
    values = {}
    for k in COMPLEXITY_LEVELS:
        r = _run(scenario(base, regime="local", **{"partnerships.max_partners": k,
                                                   "partnerships.candidates": 16,
                                                   "partnerships.value_burden": 0.0}), rep)
        values[k] = policy_mean(r, "care_coordination")
    low, mid, high = (values[k] for k in COMPLEXITY_LEVELS)
    return [mid - low, mid - high]


SHOCK = {"start_week": 26, "weeks": 8}


def _p7(base: SimConfig, rep: int) -> list[float]:
    shocked = _run(scenario(base, regime="local", **{"shock.start_week": SHOCK["start_week"],
                                                    "shock.weeks": SHOCK["weeks"],
                                                    "shock.intake_loss": 0.8}), rep)
    w = shocked.weekly.set_index("week")["mean_trust"]
    s, k = SHOCK["start_week"], SHOCK["weeks"]
    before, bottom, after = w.loc[s - 1], w.loc[s + k - 1], w.loc[s + 2 * k - 1]
    fall, recovery = before - bottom, after - bottom
    return [fall - recovery]


def _p8(base: SimConfig, rep: int) -> list[float]:
    m = CollaborationModel(scenario(base, regime="local", replicate=rep))
    total = base.time.burn_in_weeks + base.time.policy_weeks
    frames = []
    for week in range(total):
        m.step()
        if week >= total - 52 and week % 4 == 0:  # pool the last year's partner handoffs
            frames.append(m.partnership_frame())
    st = m.state
    rng = np.random.default_rng(rep)
    # random pairs of linked kinds within the same area: the geography without choice
    i = rng.integers(0, m.n_providers, 20000)
    j = rng.integers(0, m.n_providers, 20000)
    ok = (i != j) & (st.area[i] == st.area[j]) & LINKED[st.kind[i], st.kind[j]]
    d_random = np.hypot(*(st.xy[i[ok]] - st.xy[j[ok]]).T).mean()
    frame = pd.concat(frames, ignore_index=True)
    d_partner = frames[-1]["distance_km"].mean()
    flows = pd.concat([
        frame[["distance_km", "flow_ab", "on_time_ab"]].set_axis(["d", "flow", "ok"], axis=1),
        frame[["distance_km", "flow_ba", "on_time_ba"]].set_axis(["d", "flow", "ok"], axis=1)])
    flows = flows[flows["flow"] > 1e-6]
    slope = np.polyfit(flows["d"], flows["ok"], 1)[0] if len(flows) > 2 else float("nan")
    return [float(d_random - d_partner), float(slope)]


def _p9(base: SimConfig, rep: int) -> list[float]:
    invest = _run(scenario(base, **{f"monitoring.{k}": v
                                   for k, v in _yaml("monitoring", "invest").items()}), rep)
    flat = _run(base, rep)
    end = base.time.policy_weeks - 1
    early = (policy_mean(invest, "care_coordination", 0, 12)
             - policy_mean(flat, "care_coordination", 0, 12))
    late = (policy_mean(invest, "care_coordination", end - 51, end)
            - policy_mean(flat, "care_coordination", end - 51, end))
    return [late, late - early]


def _p10(base: SimConfig, rep: int) -> list[float]:
    aligned = _run(scenario(base, **{"regime.shared_goals": True,
                                    "context.priority_concentration": 20.0}), rep)
    competing = _run(scenario(base, **{"regime.shared_goals": False,
                                      "context.priority_concentration": 0.5}), rep)
    return [policy_mean(competing, "quality_spread") - policy_mean(aligned, "quality_spread")]


def _p11(base: SimConfig, rep: int) -> list[float]:
    local = _run(scenario(base, regime="local"), rep)
    none = _run(scenario(base, regime="none"), rep)
    return [policy_mean(none, c) - policy_mean(local, c)
            for c in ("workload_gini", "vacancy_rate")]


PATTERNS: tuple[Pattern, ...] = (
    Pattern("1_mandates", "Mandates and existing partnerships", "[M23], [HF17]",
            "mandated vs local after a 2-year burn-in; and with no burn-in and low initial "
            "trust (0.1)",
            (Criterion("coordination", "with working local partnerships, mandated minus local "
                       "care_coordination (policy-period mean) < 0", -1),
             Criterion("faith", "with working local partnerships, mandated minus local "
                       "mean_belief < 0", -1),
             Criterion("no_partnerships", "with no burn-in and low trust, mandated minus local "
                       "care_coordination > 0 (at least as well)", +1)),
            _p1),
    Pattern("2_crowding_out", "Crowding out", "[M23], [FJ01]",
            "mandated vs local, same burn-in; providers with and without working local "
            "partnerships (mean trust >= 0.5) at the switch",
            (Criterion("faith_drop", "(mandated - local) change in faith over the first policy "
                       "year, providers with working partnerships minus those without, < 0",
                       -1),),
            _p2),
    Pattern("3_contracts", "Contracts", "[M23], [A21]",
            "local regime with contracts required (formality 0.7) vs none; diverse (culture "
            "sd 0.35) vs similar (0.05) cultures; high (0.9) vs low (0.1) initial trust",
            (Criterion("survival", "diverse cultures: formal minus informal "
                       "partnership_survival > 0", +1),
             Criterion("trust", "diverse cultures: formal minus informal mean_trust > 0", +1),
             Criterion("dissimilar_most", "trust gain from contracts larger between diverse "
                       "than similar cultures (difference > 0)", +1),
             Criterion("high_trust_shrinks", "survival gain from contracts at high trust "
                       "minus at low trust < 0", -1)),
            _p3),
    Pattern("4_culture", "Culture", "[M23]",
            "culture sd 0.05 vs 0.35 (default regime)",
            (Criterion("trust", "similar minus diverse mean_trust > 0", +1),
             Criterion("coordination", "similar minus diverse care_coordination > 0", +1)),
            _p4),
    Pattern("5_leadership", "Leadership under shortage", "[M23]",
            "enthusiastic realists vs enthusiastic deniers, with a shortage (labour supply 0.6) "
            "and with plenty (1.3)",
            (Criterion("shortage", "with a shortage, realist minus denier mean_belief > 0", +1),
             Criterion("small_without", "that gap minus the gap without a shortage > 0", +1)),
            _p5),
    Pattern("6_complexity", "Complexity", "[M23]",
            f"local regime, at most {COMPLEXITY_LEVELS} partners per small provider, "
            "providers joining up to the limit (no weight on expected paperwork when choosing)",
            (Criterion("rises", f"care_coordination at {COMPLEXITY_LEVELS[1]} minus at "
                       f"{COMPLEXITY_LEVELS[0]} partners > 0", +1),
             Criterion("then_falls", f"care_coordination at {COMPLEXITY_LEVELS[1]} minus at "
                       f"{COMPLEXITY_LEVELS[2]} partners > 0", +1)),
            _p6),
    Pattern("7_trust_asymmetry", "Trust asymmetry", "[S93], [VH03]",
            f"local regime; intake falls 80% for {SHOCK['weeks']} weeks from policy week "
            f"{SHOCK['start_week']}",
            (Criterion("falls_faster", f"mean_trust lost over the {SHOCK['weeks']} shock weeks "
                       f"minus regained over the next {SHOCK['weeks']} > 0", +1),),
            _p7),
    Pattern("8_distance", "Distance", "[M23]",
            "local regime: partners at the end of the run vs random linked pairs in the same "
            "area; on-time share of partner handoffs against distance, pooled over the last "
            "year (every 4 weeks)",
            (Criterion("clustered", "mean distance of random linked pairs minus of partners "
                       "(km) > 0", +1),
             Criterion("falls_with_distance", "slope of on-time share on distance (per km) "
                       "< 0", -1)),
            _p8),
    Pattern("9_monitoring", "Monitoring", "[M23], [HF17]",
            "investment in data maturity (target 0.9) vs none, default regime",
            (Criterion("improves", "final-year care_coordination, invest minus none > 0", +1),
             Criterion("not_at_once", "that gain minus the gain in the first 13 weeks > 0",
                       +1)),
            _p9),
    Pattern("10_ambition", "Ambition", "[M23]",
            "agreed milestones and aligned priorities (Dirichlet 20) vs no milestones and "
            "competing priorities (Dirichlet 0.5)",
            (Criterion("spreads_practice", "competing minus aligned quality_spread > 0", +1),),
            _p10),
    Pattern("11_allocation", "Allocation of resources", "[M23]",
            "local regime vs none (no collaboration support)",
            (Criterion("workload", "none minus local workload_gini > 0", +1),
             Criterion("vacancies", "none minus local vacancy_rate > 0", +1)),
            _p11),
)


# --------------------------------------------------------------------------- running


def _measure(pattern_key: str, base: SimConfig, rep: int) -> list[float]:
    pattern = next(p for p in PATTERNS if p.key == pattern_key)
    return [float(x) for x in pattern.measure(base, rep)]


def measure_patterns(base: SimConfig, replicates: Sequence[int], workers: int = 1,
                     patterns: Sequence[str] | None = None, progress: bool = False
                     ) -> pd.DataFrame:
    """Run every pattern's scenarios for every replicate; one row per (pattern, criterion,
    replicate)."""
    chosen = [p for p in PATTERNS if patterns is None or p.key in patterns]
    jobs = [(p.key, base, int(r)) for p in chosen for r in replicates]
    if workers > 1:
        from joblib import Parallel, delayed

        values = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_measure)(*job) for job in jobs)
    else:
        values = (_measure(*job) for job in jobs)
    if progress:
        from tqdm.auto import tqdm

        values = tqdm(values, total=len(jobs), desc="validation runs", unit="replicate")
    rows = []
    for (key, _, rep), effects in zip(jobs, values, strict=True):
        pattern = next(p for p in chosen if p.key == key)
        for crit, effect in zip(pattern.criteria, effects, strict=True):
            rows.append({"pattern": key, "criterion": crit.name, "replicate": rep,
                         "effect": effect})
    return pd.DataFrame(rows)


def summarise_patterns(effects: pd.DataFrame) -> list[dict]:
    """Mean effect and 95% interval over paired replicates; pass if it excludes zero."""
    out = []
    for pattern in PATTERNS:
        for crit in pattern.criteria:
            sel = effects[(effects["pattern"] == pattern.key)
                          & (effects["criterion"] == crit.name)]["effect"].dropna()
            if sel.empty:
                continue
            low, high = mean_interval(sel.to_numpy())
            passed = bool(high < 0) if crit.direction < 0 else bool(low > 0)
            out.append({"pattern": pattern.key, "criterion": crit.statement,
                        "effect": float(sel.mean()), "ci_low": low, "ci_high": high,
                        "passed": passed, "replicates": int(len(sel))})
    return out


def mean_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of paired differences."""
    n = len(x)
    if n < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return float(x.mean() - half), float(x.mean() + half)


def with_time(base: SimConfig, burn_in: int, policy: int) -> SimConfig:
    """The same scenario with another horizon (for reduced validation runs)."""
    return dataclasses.replace(base, time=dataclasses.replace(
        base.time, burn_in_weeks=burn_in, policy_weeks=policy))


# --------------------------------------------------------------------------- the task

#: Other plausible settings at which every pattern is checked again (robustness).
ROBUSTNESS: dict[str, dict] = {
    "low initial trust (0.2)": {"context.initial_trust": 0.2},
    "high initial trust (0.7)": {"context.initial_trust": 0.7},
    "workforce shortage (labour supply 0.6)": {"workforce.labour_supply": 0.6},
    "no shortage (labour supply 1.3)": {"workforce.labour_supply": 1.3},
}


def calibration_runs(base: SimConfig, replicates: Sequence[int], workers: int) -> pd.DataFrame:
    """Status-quo calibration figures (last burn-in year) of each replicate of ``base``."""
    from sim.outcomes import CALIBRATION

    configs = [dataclasses.replace(base, replicate=int(r)) for r in replicates]
    if workers > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=workers)(delayed(run)(c) for c in configs)
    else:
        results = [run(c) for c in configs]
    rows = []
    for r, res in zip(replicates, results, strict=True):
        for t in CALIBRATION:
            key = f"status_quo.{t.column}"
            if key in res.summary:
                rows.append({"replicate": int(r), "measure": t.column,
                             "value": res.summary[key], "low": t.low, "high": t.high,
                             "source": t.source})
    return pd.DataFrame(rows)


def run_validation(config: SimConfig, output_dir, progress: bool = True) -> int:
    """Run the validation suite around ``config`` and write its report into ``output_dir``.

    Writes ``validation.md``, ``validation.json`` (one entry per criterion at the
    defaults), ``robustness.csv``, ``effects.csv`` (every replicate), ``calibration.csv``
    and ``figures/``; ``validation.json`` is written last, so its presence means the
    report is complete.

    Returns:
        0 if every criterion passed at the defaults, 3 if some did not.
    """
    from pathlib import Path

    from sim.config import ConfigError

    vcfg = config.validation
    known = [p.key for p in PATTERNS]
    unknown = [k for k in vcfg.patterns if k not in known]
    if unknown:
        raise ConfigError(f"validation.patterns has unknown pattern(s) {unknown}; "
                          f"choose from {', '.join(known)}")
    chosen = list(vcfg.patterns) or known
    base = dataclasses.replace(config, task="run")
    reps = range(vcfg.replicates)
    effects = measure_patterns(base, reps, vcfg.workers, chosen, progress)
    effects.insert(0, "setting", "defaults")
    summary = summarise_patterns(effects)
    robust_rows = []
    if vcfg.robustness_replicates:
        for name, changes in ROBUSTNESS.items():
            alt = measure_patterns(scenario(base, **changes), range(vcfg.robustness_replicates),
                                   vcfg.workers, chosen, progress)
            alt.insert(0, "setting", name)
            effects = pd.concat([effects, alt], ignore_index=True)
            for row in summarise_patterns(alt):
                robust_rows.append({"setting": name, **row})
    calib = calibration_runs(base, reps, vcfg.workers)

    out = Path(output_dir)
    stage = out / f".validation-staging-{os.getpid()}"
    stage.mkdir(parents=True, exist_ok=True)
    try:
        figures = _figures(effects[effects["setting"] == "defaults"], summary, stage)
        effects.to_csv(stage / "effects.csv", index=False)
        pd.DataFrame(robust_rows).to_csv(stage / "robustness.csv", index=False)
        calib.to_csv(stage / "calibration.csv", index=False)
        (stage / "validation.md").write_text(
            _report(base, summary, robust_rows, calib, figures, len(reps),
                    vcfg.robustness_replicates), encoding="utf-8")
        import json

        (stage / "validation.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        (out / "figures").mkdir(exist_ok=True)
        for f in (stage / "figures").iterdir():
            f.replace(out / "figures" / f.name)
        for name in ("effects.csv", "robustness.csv", "calibration.csv", "validation.md",
                     "validation.json"):
            (stage / name).replace(out / name)
    finally:
        import shutil

        shutil.rmtree(stage, ignore_errors=True)
    passed = sum(r["passed"] for r in summary)
    print(f"validation: {passed} of {len(summary)} criteria passed at the defaults "
          f"({len(reps)} paired replicates); report: {out / 'validation.md'}")
    return 0 if passed == len(summary) else 3


def _figures(effects: pd.DataFrame, summary: list[dict], folder) -> dict[str, str]:
    """One figure per pattern: each replicate's effect, the mean and its 95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (folder / "figures").mkdir(exist_ok=True)
    paths = {}
    for pattern in PATTERNS:
        sel = effects[effects["pattern"] == pattern.key]
        if sel.empty:
            continue
        crits = list(pattern.criteria)
        fig, axes = plt.subplots(1, len(crits), figsize=(3.2 * len(crits), 3.0), squeeze=False)
        for ax, crit in zip(axes[0], crits, strict=True):
            vals = sel[sel["criterion"] == crit.name]["effect"].dropna().to_numpy()
            row = next((r for r in summary if r["pattern"] == pattern.key
                        and r["criterion"] == crit.statement), None)
            jitter = np.linspace(-0.15, 0.15, len(vals)) if len(vals) else vals
            ax.scatter(jitter, vals, s=12, alpha=0.6, color="tab:blue")
            if row:
                ax.errorbar([0.45], [row["effect"]], yerr=[[row["effect"] - row["ci_low"]],
                                                           [row["ci_high"] - row["effect"]]],
                            fmt="o", color="tab:green" if row["passed"] else "tab:red",
                            capsize=4)
            ax.axhline(0.0, color="black", lw=0.8)
            ax.set_xlim(-0.5, 0.8)
            ax.set_xticks([])
            ax.set_title(crit.name, fontsize=9)
        fig.suptitle(f"{pattern.title}: paired effects per replicate", fontsize=10)
        fig.tight_layout()
        name = f"figures/{pattern.key}.png"
        fig.savefig(folder / name, dpi=90)
        plt.close(fig)
        paths[pattern.key] = name
    return paths


def _report(base: SimConfig, summary: list[dict], robust: list[dict], calib: pd.DataFrame,
            figures: dict[str, str], n_reps: int, n_robust: int) -> str:
    lines = ["# Validation against the evidence", "",
             f"System `{base.system.name}`, burn-in {base.time.burn_in_weeks} weeks, policy "
             f"period {base.time.policy_weeks} weeks, root seed {base.seed}, {n_reps} paired "
             "replicates per pattern (every scenario of a pattern shares each replicate's map, "
             "burn-in and random streams). Each criterion was stated before running; it "
             "passes when the 95% interval of its paired effect (Student t over replicates) "
             "excludes zero in the stated direction.", ""]
    passed = sum(r["passed"] for r in summary)
    lines += [f"**{passed} of {len(summary)} criteria pass at the defaults.**", "",
              "| pattern | criterion | effect | 95% interval | passed |",
              "|---|---|---|---|---|"]
    for r in summary:
        lines.append(f"| {r['pattern']} | {r['criterion']} | {r['effect']:+.4g} | "
                     f"[{r['ci_low']:+.4g}, {r['ci_high']:+.4g}] | "
                     f"{'yes' if r['passed'] else '**no**'} |")
    lines += ["", "## Patterns", ""]
    for p in PATTERNS:
        rows = [r for r in summary if r["pattern"] == p.key]
        if not rows:
            continue
        lines += [f"### {p.key.split('_', 1)[0]}. {p.title} {p.evidence}", "",
                  f"Scenarios: {p.scenarios}.", ""]
        for r in rows:
            lines.append(f"- {r['criterion']}: effect {r['effect']:+.4g}, 95% interval "
                         f"[{r['ci_low']:+.4g}, {r['ci_high']:+.4g}]: "
                         f"{'passed' if r['passed'] else 'NOT passed'}.")
        holds = [x for x in robust if x["pattern"] == p.key]
        if holds:
            broken = sorted({x["setting"] for x in holds if not x["passed"]})
            lines.append("- Robustness: " + ("holds at every other setting." if not broken
                                            else "breaks at " + "; ".join(broken) + "."))
        if p.key in figures:
            lines += ["", f"![{p.title}]({figures[p.key]})"]
        lines.append("")
    if not calib.empty:
        lines += ["## Calibration of the status quo", "",
                  "The last year of the burn-in (informal, locally formed partnerships), mean "
                  f"over {calib['replicate'].nunique()} replicates with 95% interval, next to "
                  "published figures for England.", "",
                  "| measure | simulated | 95% interval | published range | in range | source |",
                  "|---|---|---|---|---|---|"]
        for measure, grp in calib.groupby("measure", sort=False):
            v = grp["value"].to_numpy()
            low, high = mean_interval(v)
            t = grp.iloc[0]
            inside = t["low"] <= v.mean() <= t["high"]
            lines.append(f"| {measure} | {v.mean():.3f} | [{low:.3f}, {high:.3f}] | "
                         f"{t['low']:.3f}-{t['high']:.3f} | {'yes' if inside else '**no**'} | "
                         f"{t['source']} |")
        lines.append("")
    if robust:
        lines += ["## Robustness", "",
                  f"Each pattern again at other plausible settings, {n_robust} paired "
                  "replicates each (a pattern that sets the same key itself keeps its own "
                  "value). Cells: passed criteria / criteria.", ""]
        settings = list(dict.fromkeys(x["setting"] for x in robust))
        lines += ["| pattern | " + " | ".join(settings) + " |",
                  "|---|" + "---|" * len(settings)]
        for p in PATTERNS:
            cells = []
            for s in settings:
                rows = [x for x in robust if x["pattern"] == p.key and x["setting"] == s]
                if rows:
                    cells.append(f"{sum(x['passed'] for x in rows)}/{len(rows)}")
            if cells:
                lines.append(f"| {p.key} | " + " | ".join(cells) + " |")
        fails = [x for x in robust if not x["passed"]]
        if fails:
            lines += ["", "Criteria that break:", ""]
            for x in fails:
                lines.append(f"- {x['setting']}: {x['pattern']}: {x['criterion']} (effect "
                             f"{x['effect']:+.4g}, [{x['ci_low']:+.4g}, {x['ci_high']:+.4g}])")
        lines.append("")
    return "\n".join(lines)
