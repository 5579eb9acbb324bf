"""Worker processes (sim.processes): forks where safe, fresh processes otherwise; same results."""

from __future__ import annotations

import operator
import os
import sys
import threading
import warnings
from concurrent.futures.process import BrokenProcessPool

import pytest
from _single_threaded import single_threaded

from sim import processes
from sim.processes import fork_context, map_in_processes, stop_idle_workers

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="fork is used on Linux only")

#: Set by a test in this process after import: a fork sees it, a fresh interpreter not.
MARK: dict[str, int] = {}
def where(value: int) -> tuple[int, int, int | None]:
    """The task's value, the process it ran in, and what it saw of this process's MARK."""
    return value, os.getpid(), MARK.get("parent")


def fail_on(value: int) -> int:
    if value == 2:
        raise ValueError(f"task {value} failed")
    return value


def die_on(value: int) -> int:
    if value == 1:
        os._exit(3)  # a worker killed (e.g. for memory), not an exception
    return value


def test_one_worker_runs_the_tasks_here_in_order() -> None:
    out = map_in_processes(where, [(v,) for v in range(4)], workers=1)
    assert [v for v, _, _ in out] == [0, 1, 2, 3]
    assert {pid for _, pid, _ in out} == {os.getpid()}


@linux_only
@single_threaded
def test_workers_are_forks_that_inherit_this_process_state() -> None:
    MARK["parent"] = os.getpid()
    try:
        out = map_in_processes(where, [(v,) for v in range(6)], workers=2)
    finally:
        MARK.clear()
    assert [v for v, _, _ in out] == list(range(6))  # task order, whoever ran them
    pids = {pid for _, pid, _ in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    # set after import, so only a fork of this process can have seen it
    assert {seen for _, _, seen in out} == {os.getpid()}


@pytest.fixture
def no_loky_left():
    """Shut loky's reusable workers down afterwards: its manager thread would otherwise
    keep this process multi-threaded, and the later tests would not fork."""
    yield
    stop_idle_workers()


@linux_only
@single_threaded
def test_fork_only_while_this_process_runs_one_python_thread(no_loky_left) -> None:
    assert fork_context() is not None
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert fork_context() is None
        # the fallback (fresh loky processes) gives the same results, in order
        out = map_in_processes(operator.mul, [(v, v) for v in range(5)], workers=2)
        assert out == [0, 1, 4, 9, 16]
    finally:
        stop.set()
        other.join()


def test_no_fork_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes.sys, "platform", "darwin")
    assert fork_context() is None


def test_an_exception_in_a_task_is_raised_here() -> None:
    with pytest.raises(ValueError, match="task 2 failed"):
        map_in_processes(fail_on, [(v,) for v in range(4)], workers=2)


@linux_only
@single_threaded
def test_a_worker_that_dies_raises_instead_of_hanging() -> None:
    with pytest.raises(BrokenProcessPool):
        map_in_processes(die_on, [(v,) for v in range(4)], workers=2)


def test_no_more_workers_than_tasks_and_no_tasks_is_fine() -> None:
    assert map_in_processes(where, [], workers=4) == []
    (value, pid, _), = map_in_processes(where, [(7,)], workers=4)
    assert (value, pid) == (7, os.getpid())  # one task: no process to start


@linux_only
@single_threaded
def test_the_fork_warning_about_native_threads_is_not_passed_on() -> None:
    import numpy  # noqa: F401  (its OpenBLAS pool: the native threads CPython counts)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert map_in_processes(abs, [(-1,), (-2,)], workers=2) == [1, 2]
    assert not [w for w in caught if "multi-threaded" in str(w.message)]


@linux_only
@single_threaded
def test_stopping_joblibs_idle_workers_lets_this_process_fork_again() -> None:
    from joblib import Parallel, delayed

    assert Parallel(n_jobs=2)(delayed(abs)(v) for v in (-1, -2)) == [1, 2]
    assert fork_context() is None  # loky's manager thread stays for reuse
    assert stop_idle_workers()
    assert fork_context() is not None
