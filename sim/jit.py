"""Compiled kernels for the weekly step: Numba's ``njit``, cached on disk.

The mechanisms in ``sim.dynamics`` are written as whole-array functions; where a
mechanism is dozens of small array operations a week, its loop is compiled instead, so
that a week costs a few calls rather than hundreds (issue 16: the ICS system was
dominated by per-call overhead, England by temporary arrays).

Rules every kernel keeps, so that a compiled mechanism gives the **same numbers** as the
array code it replaced (tests/test_baseline.py and the per-agent reference check it):

- random numbers are drawn by the caller from the model's generator, with the same
  calls in the same order, and passed in;
- ``exp`` and other transcendental functions are left to NumPy (its SIMD ``exp`` and
  the C library's may differ in the last bit), so a kernel returns the argument and
  the caller applies ``np.exp``;
- sums over groups run in index order, as ``np.bincount`` adds;
- no ``fastmath``: no reassociation and no fused multiply-add.

The compiled code is cached next to the source (``__pycache__``), so only the first
process after a change pays for compiling (a few seconds); set ``NUMBA_DISABLE_JIT=1``
to run the kernels as plain Python (slow; for debugging).
"""

from __future__ import annotations

from collections.abc import Callable

import numba


def kernel[F: Callable](function: F) -> F:
    """Compile ``function`` in nopython mode, cached, with NumPy's division semantics
    (x / 0 gives inf or NaN, not an exception)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)
