"""Sums in NumPy's order, for compiled kernels.

A kernel that adds up an array one value after another gets a different number, in the
last bits, from ``x.sum()``, which adds pairwise. Where a kernel replaces NumPy
expressions that the model's results depend on (issue 16), it sums with
:func:`pairwise_sum`, so that every number stays what NumPy made it.
"""

from __future__ import annotations

import numpy as np

from sim.jit import kernel


@kernel
def _pairwise_leaf(x, start, n):
    """Sum of ``x[start:start + n]``, n <= 128, as NumPy's pairwise summation adds a
    block: one by one below 8 values, else eight accumulators, then the rest."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += x[start + i]
        return res
    r0, r1, r2, r3 = x[start], x[start + 1], x[start + 2], x[start + 3]
    r4, r5, r6, r7 = x[start + 4], x[start + 5], x[start + 6], x[start + 7]
    i = 8
    while i < n - n % 8:
        r0 += x[start + i]
        r1 += x[start + i + 1]
        r2 += x[start + i + 2]
        r3 += x[start + i + 3]
        r4 += x[start + i + 4]
        r5 += x[start + i + 5]
        r6 += x[start + i + 6]
        r7 += x[start + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += x[start + i]
        i += 1
    return res


@kernel
def pairwise_sum(x):
    """``x.sum()`` of a 1-d float array, the same number NumPy gives: its pairwise
    summation (numpy/_core/src/umath/loops_utils.h.src: blocks of at most 128 values,
    larger runs split in halves whose sizes are multiples of 8), added to the reduction's
    identity 0. The halving is walked with a stack, since a recursive kernel does not
    load from Numba's cache."""
    n = len(x)
    if n <= 128:
        return 0.0 + _pairwise_leaf(x, 0, n)
    starts = np.empty(128, dtype=np.int64)  # a task: sum a run, or (size -1) add two sums
    sizes = np.empty(128, dtype=np.int64)
    sums = np.empty(128)
    tasks, done = 1, 0
    starts[0], sizes[0] = 0, n
    while tasks:
        tasks -= 1
        start, size = starts[tasks], sizes[tasks]
        if size < 0:  # both halves summed: left + right
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
        elif size <= 128:
            sums[done] = _pairwise_leaf(x, start, size)
            done += 1
        else:
            half = size // 2
            half -= half % 8
            sizes[tasks] = -1  # then add them
            starts[tasks + 1], sizes[tasks + 1] = start + half, size - half  # then right
            starts[tasks + 2], sizes[tasks + 2] = start, half  # left first
            tasks += 3
    return 0.0 + sums[0]


@kernel
def masked_sum(x, mask):
    """``x[mask].sum()`` as NumPy gives it (the pairwise sum of the selected values)."""
    return pairwise_sum(x[mask])
