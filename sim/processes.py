"""Worker processes that start warm: forks of this process where that is safe.

Running replicates in parallel (``sim.run_many(..., workers=2)``) or drawing a report's
figures side by side needs worker processes. A fresh interpreter per worker (joblib's
loky, or multiprocessing's ``spawn``) imports NumPy, pandas, Mesa and the model again
and loads the compiled kernels again: about 3 s of CPU per worker before its first
run, which was a third of an 8-run ICS sweep (issue 16). A *fork* of this process
inherits all of it and starts in milliseconds.

Fork is used only where it is safe enough:

- on Linux only. macOS offers ``fork`` but its system libraries are not fork-safe
  (Python's default there has been ``spawn`` since 3.8); Windows has no fork;
- only while this process runs a single Python thread. A fork copies only the thread
  that forks; a lock another thread held at that moment (logging's, a progress bar's
  monitor, a notebook kernel's I/O threads) stays locked forever in the child.

The native threads every process of ours has are fork-aware: OpenBLAS's pools (NumPy's
and SciPy's) and jemalloc's background thread (pyarrow, through pandas) register
``pthread_atfork`` handlers, and the model's kernels use no Numba threading layer.
CPython 3.12 counts those threads too and warns (``DeprecationWarning``: "is
multi-threaded, use of fork() may lead to deadlocks"); that warning is silenced while
the workers start, since the check above is the one that matters for the child.

Anywhere else the work goes to joblib's loky processes, as before. Results never depend
on which is used: every task carries its own seed, and results come back in task order.
Fresh processes cannot see a mechanism replaced in this one (``sim.replaced``;
a fork inherits it): they would run the package's model instead, so that is refused.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from sim.replaced import ReplacedMechanismError, replaced_mechanisms

__all__ = ["ReplacedMechanismError", "fork_context", "imap_in_processes", "map_in_processes",
           "stop_idle_workers"]

#: CPython's warning at a fork while other (here: native, fork-aware) threads run.
FORK_WARNING = r".*is multi-threaded, use of fork\(\) may lead to deadlocks"


def fork_context() -> BaseContext | None:
    """multiprocessing's ``fork`` context when forking this process is safe, else None
    (see the module docstring: Linux, and a single Python thread)."""
    if not sys.platform.startswith("linux"):
        return None
    if threading.active_count() > 1:
        return None
    return multiprocessing.get_context("fork")


def map_in_processes(function: Callable[..., Any], tasks: Iterable[Sequence[Any]],
                     workers: int, runs_model: bool = True) -> list[Any]:
    """``[function(*task) for task in tasks]``, on ``workers`` processes, in task order
    (see :func:`imap_in_processes`)."""
    return list(imap_in_processes(function, tasks, workers, runs_model))


def imap_in_processes(function: Callable[..., Any], tasks: Iterable[Sequence[Any]],
                      workers: int, runs_model: bool = True) -> Iterator[Any]:
    """``function(*task)`` for each task, on ``workers`` processes, yielded in task order
    as they are ready (for a progress bar).

    Forks of this process where :func:`fork_context` allows (tasks handed out one at a
    time, so a slow task does not hold up a queue of others), else joblib's loky
    processes. ``function`` must be a module-level function (picklable); an exception in
    a task is raised here, as the serial loop would raise it.

    Args:
        function: what each task runs; its result travels back pickled.
        tasks: argument tuples, one per task (read once).
        workers: processes to use (at most one per task); 1 or less runs here, serially.
        runs_model: whether the tasks run the model (False: e.g. drawing figures).

    Raises:
        ReplacedMechanismError: the tasks run the model, mechanisms are replaced in this
            process and the work would go to fresh processes, which would not see the
            replacement.
        concurrent.futures.process.BrokenProcessPool: a forked worker died (e.g. killed
            for memory); the other tasks' results are lost with it.
    """
    tasks = [tuple(t) for t in tasks]
    workers = min(int(workers), len(tasks))
    if workers <= 1:
        yield from (function(*t) for t in tasks)
        return
    context = fork_context()
    if context is None:
        if runs_model and (replaced := replaced_mechanisms()):
            raise ReplacedMechanismError(
                f"{', '.join(replaced)} replaced in this process, but workers={workers} "
                "would run in fresh processes (this one runs other threads, or is not on "
                "Linux), which would run the package's own: use workers=1")
        from joblib import Parallel, delayed

        yield from Parallel(n_jobs=workers, return_as="generator")(
            delayed(function)(*t) for t in tasks)
        return
    # With a fork context the executor starts all workers before its manager thread
    # (CPython forks only while single-threaded), and a worker that dies raises
    # BrokenProcessPool here instead of hanging, as multiprocessing.Pool would.
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        with warnings.catch_warnings():  # all workers are forked as the tasks go in
            warnings.filterwarnings("ignore", FORK_WARNING, DeprecationWarning)
            results = pool.map(_call, [(function, t) for t in tasks])
        yield from results


def _call(item: tuple[Callable[..., Any], tuple]) -> Any:
    function, args = item
    return function(*args)


def stop_idle_workers() -> bool:
    """Stop joblib's idle loky workers, if this process started any; True if it had.

    joblib keeps its loky workers (and their manager and queue threads in this process)
    alive for reuse after a parallel call, e.g. a sweep's runs on Hydra's joblib
    launcher. Once that work is over, those threads would keep :func:`fork_context` from
    forking, and the workers would hold their memory; stopping them lets the next
    parallel step (a report's figures) start from forks of this process instead of
    importing everything again in the old workers.
    """
    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None)  # joblib's one reusable executor
    if executor is None:
        return False
    executor.shutdown(wait=True)
    return True
