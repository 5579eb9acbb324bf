"""Figures of a sweep: outcomes over time per scenario, and paired differences, with bands.

Pure functions from tidy tables to PNG files (matplotlib's Agg backend: no display
needed). The tables come from :mod:`sim.report`, which reads run folders; nothing here
runs the model.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.outcome_spec import COLUMNS, outcome
from sim.stats import interval_bounds

#: Weeks per year, for the time axis (years since the regime switch).
WEEKS_PER_YEAR = 52.0


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def band(values: pd.DataFrame, by: Sequence[str], column: str) -> pd.DataFrame:
    """Mean and 95% t-interval of ``column`` over replicates, per group (e.g. scenario, week)."""
    g = values.groupby(list(by), sort=False)[column]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["low"], out["high"] = interval_bounds(out["mean"], out["std"], out["count"])
    return out


def _share_axis(ax, column: str, difference: bool) -> None:
    """Label a share's axis in % (levels) or percentage points (differences), as the
    report's tables do; other outcomes keep their own unit."""
    if column not in COLUMNS or outcome(column).kind != "share":
        return
    from matplotlib.ticker import FuncFormatter

    suffix = " pp" if difference else "%"
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.3g}{suffix}"))


def _panel(ax, table: pd.DataFrame, order: Sequence[str], column: str, title: str,
           ylabel: str, zero_line: bool = False, colours: dict | None = None) -> None:
    colours = colours or colour_map(order)
    for name in order:
        colour = colours[name]
        rows = table[table["scenario"] == name]
        if rows.empty:
            continue
        b = band(rows, ["week"], column)
        x = b["week"].to_numpy() / WEEKS_PER_YEAR
        ax.plot(x, b["mean"], color=colour, lw=1.4, label=name)
        ax.fill_between(x, b["low"], b["high"], color=colour, alpha=0.2, lw=0)
    ax.axvline(0.0, color="0.4", lw=0.8, ls="--")
    if zero_line:
        ax.axhline(0.0, color="0.2", lw=0.8)
    _share_axis(ax, column, zero_line)
    ax.set_title(textwrap.fill(title, 80), fontsize=10)
    ax.set_xlabel("years since the regime switch", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def colour_map(order: Sequence[str]) -> dict:
    """A colour per scenario, by its place in the sweep (the same in every figure)."""
    plt = pyplot()
    n = len(order)
    cmap = plt.get_cmap("tab10" if n <= 10 else "viridis")
    return {name: cmap(i if n <= 10 else i / max(n - 1, 1)) for i, name in enumerate(order)}


def outcome_figure(weekly: pd.DataFrame, order: Sequence[str], column: str, label: str,
                   path: Path, colours: dict | None = None) -> Path:
    """One outcome over time: a line per scenario (mean over replicates) and its 95% band."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    lines = len(textwrap.wrap(f"{column}: {label}", 80))
    fig.subplots_adjust(left=0.11, right=0.97, top=0.93 - 0.045 * lines, bottom=0.13)
    _panel(ax, weekly, order, column, f"{column}: {label}", column, colours=colours)
    ax.legend(fontsize=7, loc="upper left")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def grid_figure(weekly: pd.DataFrame, order: Sequence[str], columns: Sequence[str],
                path: Path, *, title: str, zero_line: bool = False,
                ylabel_suffix: str = "", colours: dict | None = None) -> Path:
    """Several outcomes over time in one figure (two columns of panels, one legend)."""
    plt = pyplot()
    rows = (len(columns) + 1) // 2
    height = 2.6 * rows + 1.2
    fig, axes = plt.subplots(rows, 2, figsize=(11, height), squeeze=False)
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.85 / height, bottom=0.9 / height,
                        hspace=0.55, wspace=0.22)
    for ax, column in zip(axes.flat, columns, strict=False):
        _panel(ax, weekly, order, column, column, column + ylabel_suffix, zero_line, colours)
    for ax in list(axes.flat)[len(columns):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8,
               frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
