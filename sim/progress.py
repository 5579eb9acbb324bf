"""A sweep's progress: one updating bar on a terminal, a line now and then when piped.

:class:`Progress` watches a sweep's job folders from the launching process (so it works
with every launcher whose jobs write to a filesystem this process sees) and shows how
many runs have finished and about how long is left. The time left comes from
:class:`Estimate`, which waits until a few runs of this session have finished: the first
ones also carry the launcher's start-up (spawning processes, importing the model) and,
with several workers, finish together, so an estimate from them alone is far off.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from sim.results import is_complete, run_folder
from sim.sweep_store import FAILED

PROG = "collabsim"
#: Runs of this session that must finish before a time is estimated (at least; one
#: more than the number of workers when that is known).
MIN_RUNS = 3


class Estimate:
    """Seconds left in a sweep, from the times at which its runs finished.

    The throughput is measured from the first run that finished in this session to the
    latest, so that start-up time (before the first finish) does not count; it needs
    ``min_runs`` finished runs, and at least one more than the number of workers, since
    runs started together finish together.

    Args:
        workers: runs that go in parallel (None if unknown).
        min_runs: the fewest finished runs to estimate from.
    """

    def __init__(self, workers: int | None = None, min_runs: int = MIN_RUNS) -> None:
        self.needed = max(min_runs, (workers or 0) + 1)
        self.finish_times: list[float] = []

    def finished(self, count: int, now: float) -> None:
        """Record that ``count`` more runs have finished by ``now`` (seconds, any clock)."""
        self.finish_times.extend([now] * max(count, 0))

    def seconds_left(self, left: int, now: float) -> float | None:
        """Seconds until ``left`` more runs finish, or None while too few have finished."""
        times = self.finish_times
        if left <= 0:
            return 0.0
        if len(times) < self.needed or times[-1] <= times[0]:
            return None
        per_run = (times[-1] - times[0]) / (len(times) - 1)  # seconds per finished run
        # time since the latest finish counts as work already done on the next runs
        return max(left * per_run - (now - times[-1]), 0.0)


class Progress:
    """Shows "k of n runs finished, about m:ss left" while the runs of a sweep finish.

    On a terminal (``stream.isatty()``) one tqdm bar updates in place; otherwise a line
    is printed when the count has changed and at least ``line_seconds`` have passed
    (and always at the end), so that a log gets a few lines, not one per run.

    Args:
        job_dirs: the planned jobs' folders (a run is complete when ``<dir>/run`` is).
        stream: where to write (standard error by default).
        interval: seconds between looks at the folders.
        workers: runs that go in parallel, for :class:`Estimate` (None if unknown).
        line_seconds: the least time between two printed lines when not on a terminal.
        clock: the time source (seconds); tests replace it.
    """

    def __init__(self, job_dirs: Sequence[Path], stream: TextIO | None = None,
                 interval: float = 0.5, workers: int | None = None,
                 line_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.dirs = [Path(d) for d in job_dirs]
        self.stream = stream or sys.stderr
        self.interval = interval
        self.line_seconds = line_seconds
        self.clock = clock
        self.start_time = clock()
        self._wall_start = time.time()  # FAILED.json carries file times
        self.already = sum(is_complete(run_folder(d)) for d in self.dirs)
        self.estimate = Estimate(workers)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self._seen = self.already
        self._last: tuple[int, int] | None = None
        self._printed: tuple[int, int] | None = None
        self._last_print = -math.inf

    @property
    def total(self) -> int:
        return len(self.dirs)

    def counts(self) -> tuple[int, int]:
        """(complete, failed in this session) over the planned jobs."""
        done = failed = 0
        for d in self.dirs:
            if is_complete(run_folder(d)):
                done += 1
            else:
                with contextlib.suppress(OSError):
                    if (d / FAILED).stat().st_mtime >= self._wall_start - 1:
                        failed += 1
        return done, failed

    def start(self) -> None:
        """Show the bar (on a terminal) and start watching in a background thread."""
        if hasattr(self.stream, "isatty") and self.stream.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=self.already, unit="run",
                             file=self.stream, desc=PROG, dynamic_ncols=True,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                                        "{n_fmt}/{total_fmt} runs, {elapsed} elapsed"
                                        "{postfix}")
            self._bar.set_postfix_str(self._left_text(self.clock()), refresh=True)
        self._thread = threading.Thread(target=self._loop, name="collabsim-progress",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.update()

    def update(self, final: bool = False) -> None:
        """Look at the folders once and show what changed."""
        done, failed = self.counts()
        now = self.clock()
        finished = done + failed
        if finished > self._seen:
            self.estimate.finished(finished - self._seen, now)
            self._seen = finished
        if self._bar is not None:
            self._bar.n = finished
            self._bar.set_postfix_str(self._left_text(now, done, failed), refresh=False)
            self._bar.refresh()
        elif (done, failed) != self._printed and (
                final or now - self._last_print >= self.line_seconds):
            self._last_print = now
            self._printed = (done, failed)
            print(self.line(done, failed), file=self.stream, flush=True)
        self._last = (done, failed)

    def _left_text(self, now: float, done: int | None = None, failed: int = 0) -> str:
        finished = self.already if done is None else done + failed
        parts = [f"{failed} failed"] if failed else []
        left = self.total - finished
        if left > 0:
            seconds = self.estimate.seconds_left(left, now)
            parts.append("estimating time left" if seconds is None
                         else f"about {clock_text(seconds)} left")
        return ", ".join(parts)  # tqdm puts ", " before a postfix

    def line(self, done: int, failed: int) -> str:
        """One progress line: ``collabsim: 12/80 runs finished, 0:40 elapsed, ...``."""
        now = self.clock()
        text = f"{PROG}: {done + failed}/{self.total} runs finished"
        if failed:
            text += f" ({failed} failed)"
        text += f", {clock_text(now - self.start_time)} elapsed"
        left = self.total - done - failed
        seconds = self.estimate.seconds_left(left, now) if left > 0 else None
        if seconds is not None:
            text += f", about {clock_text(seconds)} left"
        return text

    def stop(self) -> None:
        """Stop watching, show the final count and close the bar."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.update(final=True)
        if self._bar is not None:
            self._bar.close()


def clock_text(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss`` for a number of seconds."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
