"""Rolling weekly histories: a fixed number of recent weeks, the newest in row 0."""

from __future__ import annotations

import numpy as np

from sim.jit import kernel


def push_week(history: np.ndarray, row: np.ndarray | list[float]) -> np.ndarray:
    """A new history with ``row`` as the newest week (row 0) and the oldest week dropped.

    Args:
        history: (weeks, ...) values of recent weeks, newest first.
        row: this week's values, shaped like ``history[0]``.
    """
    return push_week_kernel(history, np.asarray(row, dtype=history.dtype))


@kernel
def push_week_kernel(history, row):
    """:func:`push_week` of an array ``row``."""
    new = np.empty_like(history)
    new[0] = row
    new[1:] = history[:-1]
    return new
