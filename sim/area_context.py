"""Area context: what makes one integrated care system unlike another, beyond its map.

Three things differ between England's ICBs (``docs/ODD.md``, "Area context"), each
scaled by one declared parameter of ``context``:

- **Regional labour market** (``regional_labour_market``, 0-1): each region's published
  turnover and vacancy relative to England's (``sim/data/england/regions.csv``) become
  multipliers of the national ``workforce`` rates. A region's *turnover* multiplies the
  base turnover directly. Its *vacancy* is an outcome of turnover and filling, so it
  sets the fill rate: in the workforce model's steady state a post is vacant with odds
  v / (1 - v) = l (1 - f) / f (weekly leave rate l, weekly fill rate f), so a region
  whose vacancy odds are R times England's and whose turnover is m times England's
  needs (1 - f') / f' = (R / m) (1 - f) / f (:func:`fill_rate_for_odds`).
- **History of collaboration** (``collaboration_history``, share 0-1): ICBs with
  earlier integration programmes (``history.csv``) have leaders more enthusiastic about
  collaboration, for the whole run (pioneer sites bid to join; the first ICSs were the
  partnerships furthest ahead), and start
  with higher generalised trust. The enthusiasm is what lasts: it makes providers look
  for partners more often and, through staff faith, build trust faster, so those ICBs
  reach the switch with more and stronger partnerships; the starting trust alone was
  forgotten by the burn-in (ODD, "Area context").
- **Local leadership** (``area_leadership_spread``, sd): each ICB's leaders sit above or
  below the national enthusiasm and realism by an offset drawn once per run.

Every multiplier is centred on England (population-weighted mean 1) and every offset on
zero (population-weighted mean 0), so the national level the model is calibrated to
does not move by construction; a one-area system gets no offset at all. The context
applies only where the areas are England's ICBs (``system=england``): for any other
system :func:`build` returns :data:`NATIONAL`, and the model uses the national values
exactly as before. Functions here are pure (arrays in, arrays out); only :func:`build`
reads the data files and draws (from the run's own context stream).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import SimConfig
from sim.england import load_icbs
from sim.england_context import load_history, load_regions
from sim.system import ProviderTable

__all__ = ["NATIONAL", "AreaContext", "area_rows", "build", "centred", "fill_rate_for_odds",
           "history_offsets", "leadership_offsets", "multipliers", "regional_rates",
           "rates", "shifted", "vacancy_odds_ratio", "weighted_mean"]


@dataclass(frozen=True)
class AreaContext:
    """Per-area context of a run (None where the national values hold everywhere).

    Attributes:
        region_of_area: (areas,) index into ``regions`` of each area, or None.
        regions: the NHS England regions (names), or ().
        turnover: (regions, 2) multipliers of the national base turnover, [NHS, social
            care] (population-weighted mean 1 per column), or None.
        vacancy_odds: (regions, 2) ratios of each region's target vacancy odds to
            England's, [NHS, social care], or None.
        trust: (areas,) offset of starting generalised trust (0-1 scale): the history
            offset, or None.
        enthusiasm, realism: (areas,) offsets of leaders' enthusiasm and realism (0-1
            scale), or None; enthusiasm's includes the history offset.
    """

    region_of_area: np.ndarray | None = None
    regions: tuple[str, ...] = ()
    turnover: np.ndarray | None = None
    vacancy_odds: np.ndarray | None = None
    trust: np.ndarray | None = None
    enthusiasm: np.ndarray | None = None
    realism: np.ndarray | None = None


#: No area context: every area at the national values.
NATIONAL = AreaContext()


# --------------------------------------------------------------------------- pure parts
def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of ``values`` (weights >= 0 with a positive sum, e.g. people)."""
    weights = np.asarray(weights, dtype=np.float64)
    return float(np.dot(values, weights) / weights.sum())


def centred(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``values`` minus their weighted mean (zero for a single area)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) <= 1:
        return np.zeros_like(values)
    return values - weighted_mean(values, weights)


def multipliers(rates: np.ndarray, weights: np.ndarray, strength: float) -> np.ndarray:
    """Each region's rate relative to the population-weighted national one, scaled.

    ``1 + strength (rate / mean - 1)``: weighted mean exactly 1, all 1 at strength 0.

    Args:
        rates: (regions,) published rates (share of staff per year, or of posts).
        weights: (regions,) populations (people).
        strength: 0-1, how far the model follows the regional figures.
    """
    rates = np.asarray(rates, dtype=np.float64)
    return 1.0 + strength * (rates / weighted_mean(rates, weights) - 1.0)


def vacancy_odds_ratio(vacancy: np.ndarray, weights: np.ndarray, strength: float
                       ) -> np.ndarray:
    """Ratio of each region's target vacancy odds to England's.

    The target vacancy is ``v̄ + strength (v - v̄)`` (v̄ the population-weighted mean, so
    the targets' mean stays v̄); the ratio is its odds, v / (1 - v), over v̄'s.

    Args:
        vacancy: (regions,) published vacancy rates, share 0-1 of posts (each < 1).
        weights: (regions,) populations (people).
        strength: 0-1.
    """
    vacancy = np.asarray(vacancy, dtype=np.float64)
    mean = weighted_mean(vacancy, weights)
    target = mean + strength * (vacancy - mean)
    return (target / (1.0 - target)) / (mean / (1.0 - mean))


def fill_rate_for_odds(fill_rate: float | np.ndarray, odds_ratio: np.ndarray,
                       turnover_multiplier: np.ndarray) -> np.ndarray:
    """Weekly fill rate that moves the steady-state vacancy odds by ``odds_ratio``.

    In the workforce model's steady state (leavers = recruits), a post is vacant with
    odds l (1 - f) / f, for weekly leave rate l and fill rate f. With turnover already
    multiplied by ``turnover_multiplier`` (m), odds R times the national ones need
    (1 - f') / f' = (R / m) (1 - f) / f. Overload and faith scale l alike everywhere, so
    the ratio holds whatever they do.

    Args:
        fill_rate: national share of vacancies filled per week (0 < f < 1).
        odds_ratio: target vacancy odds / national odds (> 0).
        turnover_multiplier: the turnover multiplier already applied (> 0).

    Returns:
        The fill rate f' (share per week), in (0, 1).
    """
    fill_rate = np.asarray(fill_rate, dtype=np.float64)
    with np.errstate(divide="ignore"):  # f = 0 stays 0 (infinitely slow filling)
        slowness = (1.0 - fill_rate) / fill_rate * np.asarray(odds_ratio) / turnover_multiplier
    return 1.0 / (1.0 + slowness)


def history_offsets(score: np.ndarray, weights: np.ndarray, strength: float) -> np.ndarray:
    """Offsets (0-1 scale) of areas' enthusiasm and starting trust from their history
    score (0-1), centred.

    ``strength (score - weighted mean score)``: an area with the fullest history sits
    ``strength`` above one with none; the population-weighted mean offset is 0.
    """
    return strength * centred(score, weights)


def leadership_offsets(rng: np.random.Generator, weights: np.ndarray, spread: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each area's enthusiasm and of its realism (0-1 scale), centred.

    Drawn Normal(0, ``spread``) independently per area, then centred so that the
    population-weighted mean offset is 0 (a single area gets 0). Always draws 2 x
    areas numbers, so the stream's use does not depend on ``spread``.
    """
    draws = rng.normal(0.0, 1.0, (2, len(weights)))
    return spread * centred(draws[0], weights), spread * centred(draws[1], weights)


def regional_rates(social: np.ndarray, area: np.ndarray, region_of_area: np.ndarray,
                   by_region: np.ndarray) -> np.ndarray:
    """Each provider's rate from its region's rates.

    Args:
        social: (N,) bool, the provider is adult social care.
        area: (N,) area index of each provider.
        region_of_area: (areas,) region index of each area.
        by_region: (regions, 2) rates [NHS, social care] of each region (any unit).
    """
    regional = by_region[region_of_area[area]]
    return np.where(social, regional[:, 1], regional[:, 0])


# --------------------------------------------------------------------------- the run
def area_rows(table: ProviderTable) -> np.ndarray | None:
    """Row of ``icbs.csv`` of each area, if the areas are England's ICBs; else None."""
    if not table.area_codes:
        return None
    row = {code: i for i, code in enumerate(load_icbs().codes)}
    if not all(code in row for code in table.area_codes):
        return None
    return np.array([row[code] for code in table.area_codes], dtype=np.int64)


def build(table: ProviderTable, config: SimConfig, rng: np.random.Generator) -> AreaContext:
    """The area context of a run on ``table`` (:data:`NATIONAL` unless England's ICBs).

    Args:
        table: the provider population.
        config: the scenario (``context`` holds the three strengths).
        rng: the run's area-context stream (not the dynamics stream, so that drawing here
            changes no other random number of the run).
    """
    rows = area_rows(table)
    if rows is None:
        return NATIONAL
    ctx = config.context
    icbs = load_icbs()
    people = icbs.population[rows].astype(np.float64)
    regional = load_regions()
    index = {name: i for i, name in enumerate(regional.regions)}
    region_of_area = np.array([index[icbs.regions[r]] for r in rows], dtype=np.int64)
    region_people = np.bincount(region_of_area, people, minlength=len(regional.regions))
    turnover = np.column_stack([
        multipliers(regional.rates[f"{s}_turnover"], region_people, ctx.regional_labour_market)
        for s in ("nhs", "social_care")])
    odds = np.column_stack([
        vacancy_odds_ratio(regional.rates[f"{s}_vacancy"], region_people,
                           ctx.regional_labour_market) for s in ("nhs", "social_care")])
    history = history_offsets(load_history().score[rows], people, ctx.collaboration_history)
    enthusiasm, realism = leadership_offsets(rng, people, ctx.area_leadership_spread)
    return AreaContext(region_of_area=region_of_area, regions=regional.regions,
                       turnover=turnover, vacancy_odds=odds, trust=history,
                       enthusiasm=enthusiasm + history, realism=realism)


def rates(context: AreaContext, social: np.ndarray, area: np.ndarray, config: SimConfig
          ) -> tuple[np.ndarray, np.ndarray]:
    """Each provider's base turnover (per year) and fill rate (share per week).

    Without area context these are exactly the national ``workforce`` rates by sector.
    """
    wf = config.workforce
    if context.region_of_area is None or config.context.regional_labour_market == 0.0:
        # exactly the arrays the weekly step built before there was an area context
        return (np.where(social, wf.turnover_social_care, wf.turnover_nhs),
                np.where(social, wf.fill_rate_social_care, wf.fill_rate_nhs))
    national_turnover = np.array([wf.turnover_nhs, wf.turnover_social_care])
    national_fill = np.array([wf.fill_rate_nhs, wf.fill_rate_social_care])
    fill = fill_rate_for_odds(national_fill, context.vacancy_odds, context.turnover)
    return (regional_rates(social, area, context.region_of_area,
                           national_turnover * context.turnover),
            regional_rates(social, area, context.region_of_area, fill))


def shifted(mean: float, offsets: np.ndarray | None, area: np.ndarray) -> float | np.ndarray:
    """``mean`` plus each provider's area offset, or ``mean`` itself without offsets (so
    that a draw around it is exactly the one made without area context)."""
    return mean if offsets is None else mean + offsets[area]
