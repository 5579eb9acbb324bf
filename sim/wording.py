"""How the report words numbers and judgements for a policy reader.

Everything here derives from the outcome registry (:mod:`sim.outcome_spec`): an
outcome's ``kind`` decides how a value reads (a share as a percentage and a difference
of shares in percentage points; a count as a count; anything else as a number with its
unit), its ``smallest_difference`` decides whether a clear difference matters, and its
``better`` which way is better. Numbers in one table share their decimals, chosen from
the narrowest interval in the table (two significant figures of its half-width when
they begin with 1 or 2, else one), but never finer than a tenth of the outcome's
smallest meaningful difference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sim.outcome_spec import Outcome, outcome

#: The three judgements of a paired difference (see :func:`judge`).
MEANINGFUL = "clear and meaningful"
NEGLIGIBLE = "clear but negligible"
UNCLEAR = "unclear"
#: What a value that is not defined in any run reads as.
UNDEFINED = "undefined"
#: Unit of a difference of shares (after scaling by 100).
POINTS = "pp"


def _spec(name: str | Outcome) -> Outcome:
    return name if isinstance(name, Outcome) else outcome(name)


def scale(name: str | Outcome) -> float:
    """Factor from the stored value to the shown one (100 for shares, else 1)."""
    return 100.0 if _spec(name).kind == "share" else 1.0


def value_unit(name: str | Outcome) -> str:
    """The unit a value is shown in: ``%`` for shares, else the registry's unit."""
    o = _spec(name)
    return "%" if o.kind == "share" else o.unit


def difference_unit(name: str | Outcome) -> str:
    """The unit a difference is shown in: percentage points for shares."""
    o = _spec(name)
    return "percentage points" if o.kind == "share" else o.unit


def threshold_text(name: str | Outcome) -> str:
    """The smallest meaningful difference in words, e.g. ``1 percentage point``."""
    o = _spec(name)
    size = o.smallest_difference * scale(o)
    unit = difference_unit(o)
    if size == 1 and unit.endswith("s") and unit.count(" ") <= 1:
        unit = unit[:-1]  # 1 percentage point, 1 episode, 1 partnership
    return f"{size:g} {unit}"


def decimals(name: str | Outcome, half_widths: Iterable[float],
             values: Iterable[float] = ()) -> int:
    """Decimals for one table of an outcome (means or differences, in shown units).

    Args:
        name: the outcome.
        half_widths: the rows' interval half-widths, in shown units (NaN and 0 ignored).
        values: the rows' estimates, used when no row has an interval (three
            significant figures of the smallest).
    """
    o = _spec(name)
    finest = _first_digit(o.smallest_difference * scale(o)) + 1
    widths = [w for w in half_widths if math.isfinite(w) and w > 0]
    if widths:
        w = min(widths)
        d = _first_digit(w)
        if f"{w:e}"[0] in "12":  # 0.14 -> 0.14, not 0.1; 0.6 -> 0.6
            d += 1
    else:
        sizes = [abs(v) for v in values if math.isfinite(v) and v != 0]
        d = _first_digit(min(sizes)) + 2 if sizes else 0
    return int(min(max(d, 0), max(finest, 0)))


def _first_digit(x: float) -> int:
    """Decimals to the first significant digit of ``x`` (negative above 10)."""
    return -math.floor(math.log10(abs(x)))


def number(x: float | None, decimals: int, signed: bool = False) -> str:
    """``x`` with ``decimals`` decimals, thousands separated, a true minus sign."""
    if x is None or not math.isfinite(x):
        return UNDEFINED
    text = f"{x:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:  # no "-0.0"
        text = text.lstrip("-")
        return text
    if signed and x > 0:
        text = "+" + text
    return text.replace("-", "−")


def value(name: str | Outcome, x: float | None, d: int) -> str:
    """A stored value as shown: ``78.7%`` for a share, ``376`` for a count."""
    text = number(None if x is None else x * scale(name), d)
    return text + "%" if _spec(name).kind == "share" and text != UNDEFINED else text


def difference(name: str | Outcome, x: float | None, d: int) -> str:
    """A stored difference as shown: ``+1.5 pp`` for shares, ``−41`` for a count."""
    text = number(None if x is None else x * scale(name), d, signed=True)
    if _spec(name).kind == "share" and text != UNDEFINED:
        text += f" {POINTS}"
    return text


def interval(name: str | Outcome, low: float, high: float, d: int,
             signed: bool = False) -> str:
    """An interval as shown, ``77.0 to 80.4`` (the unit is in the column's header)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    s = scale(name)
    return f"{number(low * s, d, signed)} to {number(high * s, d, signed)}"


def judge(name: str | Outcome, estimate: float, low: float, high: float, n: int) -> str:
    """Judge a paired difference (stored units) against the outcome's threshold.

    ``unclear`` when fewer than two pairs or the 95% interval includes 0; otherwise
    ``clear and meaningful`` when the estimate is at least the smallest meaningful
    difference in size, and ``clear but negligible`` when it is smaller.
    """
    if n < 2 or not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return UNCLEAR
    threshold = _spec(name).smallest_difference
    return MEANINGFUL if abs(estimate) >= threshold * (1 - 1e-9) else NEGLIGIBLE


def direction(name: str | Outcome, estimate: float) -> str:
    """``higher (better)``, ``lower (worse)``, or just ``higher`` where neither is better."""
    o = _spec(name)
    word = "higher" if estimate > 0 else "lower"
    if o.better is None:
        return word
    good = (o.better == "higher") == (estimate > 0)
    return f"{word} ({'better' if good else 'worse'})"
