"""Figures of a sweep: outcomes over time per scenario, and paired differences, with bands.

Pure functions from tidy tables to PNG files (matplotlib's Agg backend: no display
needed). The tables come from :mod:`sim.report`, which reads run folders; nothing here
runs the model.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.outcome_spec import COLUMNS, outcome
from sim.processes import map_in_processes
from sim.stats import interval_bounds

#: Weeks per year, for the time axis (years since the regime switch).
WEEKS_PER_YEAR = 52.0


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


#: At most this many figures are drawn at once (each process draws one at a time).
MAX_DRAWING_PROCESSES = 4

#: A figure to draw: one of this module's figure functions, its positional and its
#: keyword arguments.
Drawing = tuple[Callable[..., Path], tuple, Mapping[str, Any]]


def draw(drawings: Sequence[Drawing], workers: int | None = None) -> list[Path]:
    """Draw figures side by side, each into its own file; their paths in order.

    A report's figures are independent (about 0.3 s of CPU for one outcome's figure,
    2 s for a grid of them), so they are drawn on several processes
    (:func:`sim.processes.map_in_processes`: forks of this process where safe, which
    inherit matplotlib): the same files, drawn in less wall time. The largest first
    keeps the processes evenly busy.

    Args:
        drawings: ``(function, args, kwargs)``, e.g. ``(outcome_figure, (weekly, ...),
            {"colours": ...})``; the function writes its file and returns its path.
        workers: processes (default: the cores this process may use, at most
            :data:`MAX_DRAWING_PROCESSES`); 1 draws here, one after another.
    """
    if workers is None:
        workers = min(MAX_DRAWING_PROCESSES, usable_cores())
    pyplot()  # imported once here, so that forked processes inherit it
    return map_in_processes(_draw_one, [(f, tuple(a), dict(k)) for f, a, k in drawings],
                            workers, runs_model=False)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows: no affinity call
        return os.cpu_count() or 1


def _draw_one(function: Callable[..., Path], args: tuple, kwargs: dict) -> Path:
    return function(*args, **kwargs)


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


# --------------------------------------------------------------------------- areas
#: Colours of an area's effect in the forest plot: clearly better, clearly worse, clear
#: where neither direction is better, unclear (interval includes 0).
AREA_COLOURS = {"better": "#2166ac", "worse": "#b2182b", "clear": "0.15", "unclear": "0.6"}


def _area_colour(column: str, effect: float, clear: bool) -> str:
    if not clear:
        return AREA_COLOURS["unclear"]
    better = outcome(column).direction if column in COLUMNS else 0
    if better == 0:
        return AREA_COLOURS["clear"]
    return AREA_COLOURS["better" if better * effect > 0 else "worse"]


def area_forest_figure(panels: Sequence[tuple[str, pd.DataFrame, float | None]], path: Path,
                       *, title: str) -> Path:
    """Per-area effects as forest plots, one panel per outcome, areas sorted by effect.

    Args:
        panels: ``(outcome, rows, national)``: rows with ``area_name``, ``effect``,
            ``ci_low``, ``ci_high`` and ``clear`` (one per area); ``national`` the
            national effect drawn as a dashed line (None to leave it out).
        path: the PNG to write.
        title: the figure's title.
    """
    plt = pyplot()
    n_areas = max((len(rows) for _, rows, _ in panels), default=1)
    height = 0.16 * n_areas + 1.6
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), height),
                             squeeze=False)
    fig.subplots_adjust(left=0.1, right=0.99, top=1 - 0.75 / height, bottom=0.55 / height,
                        wspace=0.95)
    for ax, (column, rows, national) in zip(axes.flat, panels, strict=True):
        rows = rows.sort_values("effect", na_position="first").reset_index(drop=True)
        y = range(len(rows))
        scale = 100.0 if column in COLUMNS and outcome(column).kind == "share" else 1.0
        colours = [_area_colour(column, e, bool(c)) for e, c in zip(rows["effect"],
                                                                      rows["clear"],
                                                                      strict=True)]
        ax.hlines(list(y), rows["ci_low"] * scale, rows["ci_high"] * scale, colors=colours,
                  lw=1.2)
        ax.scatter(rows["effect"] * scale, list(y), c=colours, s=12, zorder=3)
        ax.axvline(0.0, color="0.2", lw=0.8)
        if national is not None and np.isfinite(national):
            ax.axvline(national * scale, color="0.4", lw=0.8, ls="--")
        ax.set_yticks(list(y))
        ax.set_yticklabels([textwrap.shorten(str(n), 32, placeholder="…")
                            for n in rows["area_name"]], fontsize=6)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        unit = " (pp)" if scale == 100.0 else ""
        ax.set_xlabel(f"difference{unit}", fontsize=7)
        ax.set_title(column, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def area_map_figure(panels: Sequence[tuple[str, pd.DataFrame]], path: Path, *,
                    title: str) -> Path:
    """Per-area effects on a map: each area's centre, sized by population and coloured
    by its effect on a diverging scale centred on 0 (blue better, red worse).

    Args:
        panels: ``(outcome, rows)``: rows with ``x_km``, ``y_km`` (centre, km),
            ``population``, ``effect`` and ``clear`` (one per area). Areas whose
            interval includes 0 are drawn pale, without an outline.
        path: the PNG to write.
        title: the figure's title.
    """
    plt = pyplot()
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import TwoSlopeNorm

    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 4.6), squeeze=False)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.04, wspace=0.1)
    for ax, (column, rows) in zip(axes.flat, panels, strict=True):
        better = outcome(column).direction if column in COLUMNS else 0
        scale = 100.0 if column in COLUMNS and outcome(column).kind == "share" else 1.0
        effect = rows["effect"].to_numpy(dtype=float) * scale
        finite = np.isfinite(effect)
        reach = float(np.nanmax(np.abs(effect))) if finite.any() else 0.0
        reach = reach if reach > 0 else 1.0
        # blue is better: the map reads the same whichever way the outcome points
        cmap = "RdBu_r" if better < 0 else "RdBu"
        size = 12.0 + 220.0 * rows["population"].to_numpy(dtype=float) / max(
            float(rows["population"].max()), 1.0)
        clear = rows["clear"].to_numpy(dtype=bool) & finite
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-reach, vmax=reach)
        for mask, alpha, edge in ((~clear & finite, 0.45, "none"), (clear, 1.0, "0.1")):
            ax.scatter(rows["x_km"][mask], rows["y_km"][mask], s=size[mask],
                                c=effect[mask], cmap=cmap, norm=norm, alpha=alpha,
                                edgecolors=edge, linewidths=0.6)
        ax.scatter(rows["x_km"][~finite], rows["y_km"][~finite], s=size[~finite],
                   facecolors="none", edgecolors="0.6", linewidths=0.6)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(column, fontsize=9)
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                           orientation="horizontal", fraction=0.05, pad=0.02)
        bar.set_label("difference" + (" (pp)" if scale == 100.0 else ""), fontsize=7)
        bar.ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
