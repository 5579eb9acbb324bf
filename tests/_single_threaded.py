"""Run a test in a process with one Python thread, where :mod:`sim.processes` forks."""

from __future__ import annotations

import functools
import inspect
import os
import subprocess
import sys
import threading

#: Set in the fresh pytest process :func:`single_threaded` starts (no second hop).
FRESH = "COLLABSIM_TEST_SINGLE_THREADED"


def single_threaded(test):
    """Run ``test`` in a process with one Python thread: here if this one is, else in a
    fresh ``pytest -n 0`` process (pytest-xdist's workers run a thread of their own, so
    under the default ``-n 2`` this process would never fork)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        if threading.active_count() == 1 or os.environ.get(FRESH):
            return test(*args, **kwargs)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", f"{inspect.getfile(test)}::{test.__name__}",
             "-n", "0", "-q", "-p", "no:cacheprovider", "--no-header"],
            capture_output=True, text=True, timeout=300, env={**os.environ, FRESH: "1"})
        assert done.returncode == 0 and "1 passed" in done.stdout, (
            done.stdout[-4000:] + done.stderr[-2000:])
    return run
