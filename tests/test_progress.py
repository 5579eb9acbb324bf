"""A sweep's progress (sim.progress): the time estimate, the bar, the lines when piped.

The estimate is checked on simulated timelines of a sweep (processes that start up,
then finish runs in parallel), so the test knows the true time left; the display is
checked with a fake clock and job folders made complete by hand.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

from sim.progress import Estimate, Progress, clock_text
from sim.results import RUN_FILES, RUN_SUBDIR


def finish_times(runs: int, workers: int, startup: float, per_run: float,
                 jitter: float, seed: int = 0) -> list[float]:
    """When each run of a sweep finishes: ``workers`` processes start after ``startup``
    seconds and take the next run as soon as they are free (as joblib does)."""
    rng = np.random.default_rng(seed)
    free = [startup] * workers
    out = []
    for _ in range(runs):
        i = int(np.argmin(free))
        free[i] += per_run * rng.uniform(1 - jitter, 1 + jitter)
        out.append(free[i])
    return sorted(out)


@pytest.mark.parametrize(("workers", "startup", "per_run", "jitter"), [
    (2, 12.0, 3.4, 0.3),    # the main job on two cores: 80 ICS runs, slow first imports
    (2, 40.0, 3.4, 0.1),    # a first run after installing: long start-up
    (4, 5.0, 20.0, 0.5),    # long, uneven runs on four cores
    (1, 8.0, 2.0, 0.2),
])
def test_the_estimate_stays_within_a_factor_of_two(workers, startup, per_run, jitter):
    times = finish_times(80, workers, startup, per_run, jitter)
    est = Estimate(workers)
    first = None
    for k, t in enumerate(times, start=1):
        est.finished(1, t)
        for now in (t, t + per_run / 3):  # at a finish and between two
            left = len(times) - k
            if left <= workers:  # the last few finish one by one: seconds, not a factor
                continue
            guess = est.seconds_left(left, now)
            if guess is None:
                assert first is None, "an estimate, once shown, stays"
                continue
            first = first or k
            truth = times[-1] - now
            assert truth / 2 <= guess <= truth * 2, (k, now, guess, truth)
    assert first == max(3, workers + 1)  # not before a few runs have finished


def test_the_naive_estimate_would_be_far_off():
    """Elapsed time per finished run, from the start: what the estimate replaces."""
    times = finish_times(80, 2, 12.0, 3.4, 0.3)
    now, k = times[0], 1
    naive = now / k * (80 - k)
    truth = times[-1] - now
    assert naive > 2 * truth  # start-up counted once per run: a factor of more than two


def test_no_estimate_from_runs_that_finished_together():
    est = Estimate(workers=None)
    est.finished(3, 10.0)
    assert est.seconds_left(5, 10.0) is None
    est.finished(1, 12.0)
    assert est.seconds_left(6, 12.0) == pytest.approx(6 * 2 / 3)
    assert est.seconds_left(0, 12.0) == 0.0


def test_clock_text():
    assert clock_text(5) == "0:05" and clock_text(605) == "10:05"
    assert clock_text(3 * 3600 + 61) == "3:01:01"


# --------------------------------------------------------------------------- display
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def complete(job_dir) -> None:
    """Make a job's run complete, as far as progress can tell (every run file exists)."""
    run = job_dir / RUN_SUBDIR
    run.mkdir(parents=True)
    for name in RUN_FILES:
        (run / name).write_text("{}")


def test_piped_progress_prints_a_line_now_and_then(tmp_path):
    jobs = [tmp_path / f"job{i}" for i in range(10)]
    complete(jobs[0])  # from an earlier session
    clock, out = FakeClock(), io.StringIO()
    progress = Progress(jobs, stream=out, line_seconds=10.0, clock=clock, workers=2)
    assert progress.already == 1
    progress.update()  # the first look prints where it starts
    for i, t in zip(range(1, 9), itertools.count(2.0, 2.0), strict=False):
        clock.now = t
        complete(jobs[i])
        progress.update()
    clock.now = 30.0
    progress.stop()  # the final count is always printed
    lines = out.getvalue().splitlines()
    assert lines[0] == "collabsim: 1/10 runs finished, 0:00 elapsed"
    assert len(lines) == 3, lines  # at 0 s, at 10 s and at the end: not one per run
    assert lines[1].startswith("collabsim: 6/10 runs finished, 0:10 elapsed, about ")
    assert lines[-1].startswith("collabsim: 9/10 runs finished, 0:30 elapsed")
    assert "\r" not in out.getvalue()


def test_terminal_progress_is_one_updating_bar(tmp_path):
    jobs = [tmp_path / f"job{i}" for i in range(6)]
    clock, out = FakeClock(), Terminal()
    progress = Progress(jobs, stream=out, interval=3600, clock=clock, workers=2)
    progress.start()
    assert "estimating time left" in out.getvalue()
    for i in range(6):
        clock.now = 5.0 + i
        complete(jobs[i])
        progress.update()
    progress.stop()
    text = out.getvalue()
    assert text.count("\n") <= 1  # one bar redrawn in place, a newline only when closed
    assert "\r" in text and "6/6 runs" in text
    assert "about 0:0" in text  # an estimate once three runs had finished
