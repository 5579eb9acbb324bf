"""Partnerships as rows of arrays: one row per active partnership (an undirected edge).

Each partnership joins providers ``a < b``; directed quantities (trust, confidence)
have two columns: column 0 is what ``a`` holds about ``b``, column 1 what ``b``
holds about ``a``. Ended partnerships are removed at once, so every row is
active and every mechanism can work on whole arrays without a mask.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import literal_unroll

from sim.jit import kernel

_FIELDS = {
    "a": np.int64, "b": np.int64,
    "trust": (np.float64, 2), "confidence": (np.float64, 2),
    "formality": np.float64, "progress": np.float64,
    "mandated": np.bool_, "goals": np.bool_, "at_switch": np.bool_,
    "formed_week": np.int64,
    "flow": (np.float64, 2), "on_time": (np.float64, 2),  # last week's handoffs, by direction
    # handoffs (both directions, episodes) and those on time since the authority's last
    # review: the record an authority can judge a partnership by
    "period_flow": np.float64, "period_on_time": np.float64,
    # fixed for a partnership's life, set when it forms (see ``pair_attributes``): the
    # distance between its providers (km) and the route group each end sends along to the
    # other (column 0: a's group for b's kind; -1 if a sends nothing to that kind)
    "distance": np.float64, "route": (np.int64, 2),
}

#: Computes the fixed attributes of new pairs (lo, hi): a mapping from field name to values.
PairAttributes = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


class Partnerships:
    """Growable table of active partnerships between ``n_providers`` providers.

    Args:
        pair_attributes: computes the fields that never change over a partnership's life
            (``distance``, ``route``) for new pairs, so that the weekly step reads them
            rather than recomputing them; without it those fields stay 0.
    """

    def __init__(self, n_providers: int, capacity: int = 256,
                 pair_attributes: PairAttributes | None = None) -> None:
        self.n_providers = n_providers
        self._pair_attributes = pair_attributes
        self.n = 0
        self._sorted: np.ndarray | None = None  # sorted keys, rebuilt after changes
        self._cap = max(16, capacity)
        self._data: dict[str, np.ndarray] = {}
        for name, spec in _FIELDS.items():
            dtype, width = spec if isinstance(spec, tuple) else (spec, None)
            shape = (self._cap,) if width is None else (self._cap, width)
            self._data[name] = np.zeros(shape, dtype=dtype)

    def __len__(self) -> int:
        return self.n

    # ------------------------------------------------------------------ queries
    def keys(self) -> np.ndarray:
        """Unique integer key ``a * n_providers + b`` of each partnership."""
        return self.a * self.n_providers + self.b

    def degree(self) -> np.ndarray:
        """Number of active partners of each provider."""
        n = self.n_providers
        return np.bincount(self.a, minlength=n) + np.bincount(self.b, minlength=n)

    def directed(self) -> tuple[np.ndarray, np.ndarray]:
        """Senders and receivers of both directions: rows ``0..n-1`` are a→b, ``n..2n-1`` b→a."""
        return np.concatenate([self.a, self.b]), np.concatenate([self.b, self.a])

    def exists(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each (a, b) pair (any order) is already a partnership."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return self._known(lo * self.n_providers + hi)

    def pair_keys(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The key of each (a, b) pair in either order, as :meth:`keys` gives it."""
        return np.minimum(a, b) * self.n_providers + np.maximum(a, b)

    def _known(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key is an active partnership (binary search in the sorted keys)."""
        if self._sorted is None:
            self._sorted = np.sort(self.keys())
        if len(self._sorted) == 0:
            return np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self._sorted, keys), len(self._sorted) - 1)
        return self._sorted[pos] == keys

    # ------------------------------------------------------------------ changes
    def add(self, a: np.ndarray, b: np.ndarray, *, trust_a: np.ndarray, trust_b: np.ndarray,
            formality: np.ndarray | float, mandated: bool, goals: bool, week: int) -> int:
        """Add partnerships between new, distinct, unordered pairs; return how many were added.

        Self-pairs, pairs given twice and pairs that already exist are dropped here,
        so that no caller can create a self- or duplicate partnership.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        take = _new_pairs(a, b, self.a, self.b, self.n_providers)
        k = len(take)
        if k == 0:
            return 0
        self._reserve(self.n + k)
        start = self.n
        rows = slice(start, start + k)
        d = self._data
        if np.ndim(formality) == 0:
            formality = np.full(len(a), formality)
        _write_new(start, take, a, b, np.asarray(trust_a, dtype=np.float64),
                   np.asarray(trust_b, dtype=np.float64), np.asarray(formality, dtype=np.float64),
                   d["a"], d["b"], d["trust"], d["confidence"], d["formality"],
                   *(d[name] for name in _ZEROED))
        d["mandated"][rows] = mandated
        d["goals"][rows] = goals
        d["formed_week"][rows] = week
        if self._pair_attributes is not None:
            for name, values in self._pair_attributes(d["a"][rows], d["b"][rows]).items():
                d[name][rows] = values
        self.n += k
        self._sorted = None
        return k

    def remove(self, drop: np.ndarray) -> int:
        """Remove the partnerships where ``drop`` is True; return how many ended."""
        drop = np.asarray(drop, dtype=bool)
        k = int(drop.sum())
        if k:
            # Rows before the first ended one stay where they are; the rest move up in
            # order, in place (one index for every field, not one boolean mask each).
            first = int(np.argmax(drop))
            moved = first + np.flatnonzero(~drop[first:])
            _move_up(first, moved, tuple(self._data.values()))
            self.n = first + len(moved)
            self._sorted = None
        return k

    def _reserve(self, size: int) -> None:
        if size <= self._cap:
            return
        new_cap = max(size, 2 * self._cap)
        for name, arr in self._data.items():
            grown = np.zeros((new_cap, *arr.shape[1:]), dtype=arr.dtype)
            grown[: self.n] = arr[: self.n]
            self._data[name] = grown
        self._cap = new_cap


#: Fields a new partnership starts at zero (False): its record, progress and last flows;
#: :meth:`Partnerships.add` writes the others from its arguments, ``pair_attributes`` the
#: fixed ones.
_ZEROED = ("progress", "at_switch", "flow", "on_time", "period_flow", "period_on_time")
assert set(_FIELDS) == {*_ZEROED, "a", "b", "trust", "confidence", "formality", "mandated",
                        "goals", "formed_week", "distance", "route"}, "every field set on add"


@kernel
def _new_pairs(a, b, active_a, active_b, n_providers):
    """Which of the pairs (a, b) to add, as indices into them in increasing order: each
    unordered pair once (its first occurrence), never a self-pair, never an active
    partnership (``active_a < active_b``). O(providers + pairs + partnerships): the pairs
    are listed by their lower provider, then one pass over the partnerships finds those
    that exist (no sort of every partnership's key)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    ok = lo != hi
    keys = lo * n_providers + hi
    order = np.argsort(keys, kind="mergesort")  # stable: a repeated key's first comes first
    for j in range(1, len(order)):
        if keys[order[j]] == keys[order[j - 1]]:
            ok[order[j]] = False
    first = np.full(n_providers, -1)  # per lower provider, a linked list of its pairs
    after = np.full(len(lo), -1)
    for i in range(len(lo)):
        if ok[i]:
            after[i] = first[lo[i]]
            first[lo[i]] = i
    for p in range(len(active_a)):
        i = first[active_a[p]]
        while i >= 0:
            if hi[i] == active_b[p]:
                ok[i] = False
            i = after[i]
    return np.flatnonzero(ok)


@kernel
def _write_new(start, take, a, b, trust_a, trust_b, formality, a_out, b_out, trust_out,
               confidence_out, formality_out, progress, at_switch, flow, on_time, period_flow,
               period_on_time):
    """Write the pairs ``take`` from row ``start`` on: the lower provider index as ``a``,
    each side's trust (and confidence, which starts at trust) in its column, formality,
    and the fields of :data:`_ZEROED` (in that order) at zero."""
    for r in range(len(take)):
        i, row = take[r], start + r
        progress[row], at_switch[row] = 0.0, False
        flow[row, 0], flow[row, 1], on_time[row, 0], on_time[row, 1] = 0.0, 0.0, 0.0, 0.0
        period_flow[row], period_on_time[row] = 0.0, 0.0
        swap = a[i] > b[i]
        a_out[row], b_out[row] = (b[i], a[i]) if swap else (a[i], b[i])
        trust_out[row, 0] = trust_b[i] if swap else trust_a[i]
        trust_out[row, 1] = trust_a[i] if swap else trust_b[i]
        confidence_out[row, 0], confidence_out[row, 1] = trust_out[row, 0], trust_out[row, 1]
        formality_out[row] = formality[i]


@kernel
def _move_up(first, moved, fields):
    """Rows ``moved`` (increasing, each >= its destination) to ``first``, ``first + 1``, ...
    in place, in every array of ``fields``: one call for the whole table, no temporary
    copy of it."""
    for arr in literal_unroll(fields):
        for i in range(len(moved)):
            arr[first + i] = arr[moved[i]]


def _field(name: str) -> property:
    """The active rows of a field: ``ps.trust`` is ``ps._data["trust"][:ps.n]`` (a view)."""
    return property(lambda self: self._data[name][: self.n],
                    doc=f"``{name}`` of every active partnership (a view of its rows).")


for _name in _FIELDS:  # one property per field: cheaper than a __getattr__ fallback
    setattr(Partnerships, _name, _field(_name))
