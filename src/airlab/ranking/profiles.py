"""Performance profiles and the Area Under the Performance profile (AUP), exactly as MLGym
computes its published AUP tables (Nathani et al. 2025, after Dolan & Moré 2002).

Reference: ``scripts/evaluation/get_ranks.py`` of facebookresearch/MLGym (functions
``calculate_performance_ratios``, ``compute_performance_profile``, ``compute_aup`` and
``save_performance_profiles``), which produced ``results/tables/aup_scores_*.csv``. The rules:

Feasibility
    An entry is feasible when it is valid, its score is non-negative and, with a ``baseline``
    agent, it is at least as good as the baseline's score on that task (the baseline itself is
    feasible when non-negative; a task without a baseline score has no baseline condition).

Ratios, per task ``t``
    With ``best_t`` the best and ``worst_t`` the worst *feasible* score, a feasible entry has
    ``r = best_t / score`` (higher is better) or ``r = score / best_t`` (lower is better), so
    ``r >= 1``. Infeasible and missing entries get the task's own penalty
    ``(1 + epsilon) * r_worst_t`` with ``r_worst_t`` the ratio of ``worst_t`` and ``epsilon = 0.05``.

Integration variable and grid
    Profiles are functions of ``x = log10(tau)``: ``rho_m(x) = |{t : log10 r_{t,m} <= x}| / |T|``,
    evaluated on ``n_grid = 500`` points spaced evenly in ``x`` from 0 to ``grid_end``.
    ``grid_end`` is ``log10(max_t ceil(penalty_t))`` rounded *up* to one decimal (MLGym takes the
    maximum over the best- and the last-attempt tables together, so both share one grid: pass
    the larger of the two tables' :func:`default_grid_end` as ``grid_end`` to reproduce that).

AUP
    The left Riemann sum ``sum_{i < n-1} rho_m(x_i) (x_{i+1} - x_i)``: the area under the profile
    in ``log10(tau)`` units, at most ``grid_end``.

Cases MLGym does not handle (its script would divide by zero or produce NaN) are defined here
so that every agent is treated alike: a feasible score whose ratio is not finite (a zero score on
a higher-is-better task, or a best score of 0 on a lower-is-better task other than the best
entry itself) is penalised like an infeasible one, and a task with no feasible entry counts for
no agent (its profile never reaches it) and does not move ``grid_end``. Under
``missing="ignore"`` an agent's profile only counts tasks where it has a valid result.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from airlab.ranking.errors import RankingInputError
from airlab.ranking.table import MissingPolicy, ScoreMatrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EPSILON = 0.05
N_GRID = 500


@dataclass(frozen=True)
class PerformanceProfiles:
    agents: tuple[str, ...]
    tasks: tuple[str, ...]
    ratios: np.ndarray
    """``(agents, tasks)`` performance ratios including penalties (NaN = not counted)."""
    feasible: np.ndarray
    penalties: np.ndarray
    """Per-task penalty ratio ``(1 + epsilon) * r_worst_t`` (inf: task without feasible entry)."""
    grid: np.ndarray
    """Grid of ``x = log10(tau)`` values, from 0 to ``grid_end``."""
    rho: np.ndarray
    """``(agents, n_grid)`` profile values on ``grid``."""
    aup: np.ndarray
    grid_end: float

    @property
    def taus(self) -> np.ndarray:
        """The grid as ratios ``tau = 10**x``."""
        return np.asarray(10.0**self.grid)


def feasibility(raw: np.ndarray, higher_is_better: np.ndarray, baseline: int | None) -> np.ndarray:
    """MLGym's feasibility mask for an ``(agents, tasks)`` raw-score matrix (NaN = missing)."""
    ok = np.isfinite(raw) & (np.where(np.isfinite(raw), raw, -1.0) >= 0.0)
    if baseline is not None:
        base = raw[baseline]
        sign = np.where(higher_is_better, 1.0, -1.0)
        at_least = (raw * sign[None, :]) >= (base * sign)[None, :]
        ok &= np.where(np.isfinite(base)[None, :], at_least, True)
    return ok


def performance_ratios(
    raw: np.ndarray, higher_is_better: np.ndarray, feasible: np.ndarray, epsilon: float = EPSILON
) -> tuple[np.ndarray, np.ndarray]:
    """Ratios with the per-task penalties, and those penalties; see the module docstring."""
    hib = higher_is_better[None, :]
    sign = np.where(higher_is_better, 1.0, -1.0)
    oriented = np.where(feasible, raw * sign[None, :], -np.inf)
    any_feasible = np.asarray(feasible.any(axis=0), dtype=bool)
    best = np.where(any_feasible, oriented.max(axis=0), np.nan) * sign
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(hib, best[None, :] / raw, raw / best[None, :])
    ratio = np.where(raw == best[None, :], 1.0, ratio)
    good = feasible & np.isfinite(ratio)
    worst = np.max(np.where(good, ratio, -np.inf), axis=0)
    penalties = np.where(np.isfinite(worst), (1.0 + epsilon) * worst, np.inf)
    return np.where(good, ratio, penalties[None, :]), penalties


def default_grid_end(penalties: np.ndarray) -> float:
    """MLGym's grid end: ``log10`` of the largest rounded-up penalty, rounded up to 0.1."""
    finite = penalties[np.isfinite(penalties)]
    if len(finite) == 0:
        return 0.1
    top = max(math.ceil(float(p)) for p in finite)
    return max(0.1, float(np.ceil(np.log10(top) * 10.0) / 10.0))


def performance_profiles(
    matrix: ScoreMatrix,
    baseline: str | None = None,
    epsilon: float = EPSILON,
    n_grid: int = N_GRID,
    missing: MissingPolicy = "worst",
    grid_end: float | None = None,
) -> PerformanceProfiles:
    """Profiles and AUP of every agent over the matrix's voters (tasks or task/seed runs).

    ``grid_end`` (in ``log10(tau)``) overrides :func:`default_grid_end`, e.g. to put several
    tables on one grid as MLGym does for its best- and last-attempt tables.
    """
    if n_grid < 2:
        raise RankingInputError("the performance-profile grid needs at least 2 points")
    if grid_end is not None and not (np.isfinite(grid_end) and grid_end > 0):
        raise RankingInputError("grid_end (log10 of the largest ratio) must be positive")
    base_idx = None
    if baseline is not None:
        if baseline not in matrix.agents:
            raise RankingInputError(
                f"unknown baseline agent {baseline!r}; agents: {', '.join(matrix.agents)}"
            )
        base_idx = matrix.agents.index(baseline)
    raw = matrix.raw
    feas = feasibility(raw, matrix.higher_is_better, base_idx)
    ratios, penalties = performance_ratios(raw, matrix.higher_is_better, feas, epsilon)
    end = default_grid_end(penalties) if grid_end is None else float(grid_end)
    counted = np.ones(raw.shape, dtype=bool) if missing == "worst" else np.isfinite(raw)
    ratios = np.where(counted, ratios, np.nan)
    grid = np.linspace(0.0, end, n_grid)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log10(ratios)
    within = (log_ratio[:, :, None] <= grid[None, None, :]) & counted[:, :, None]
    rho = within.sum(axis=1) / np.maximum(counted.sum(axis=1), 1)[:, None]
    aup = (rho[:, :-1] * np.diff(grid)[None, :]).sum(axis=1)
    return PerformanceProfiles(
        agents=matrix.agents,
        tasks=matrix.voters,
        ratios=ratios,
        feasible=feas,
        penalties=penalties,
        grid=grid,
        rho=rho,
        aup=aup,
        grid_end=end,
    )


def profile_figure(profiles: PerformanceProfiles, title: str | None = None) -> Figure:
    """A matplotlib figure of the profiles on an Agg canvas (no pyplot, no GUI, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    order = np.argsort(-profiles.aup, kind="stable")
    for i in order:
        ax.step(
            profiles.taus,
            profiles.rho[i],
            where="post",
            label=f"{profiles.agents[i]} (AUP {profiles.aup[i]:.3f})",
        )
    ax.set_xscale("log")
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    # ratios span a narrow range: plain decimal ticks read better than 1.05x10^0
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.1, 1.2, 1.5, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:.2g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("τ (performance ratio, log scale)")
    ax.set_ylabel("fraction of tasks with ratio ≤ τ")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "Performance profiles")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig


def write_performance_profile_plot(
    profiles: PerformanceProfiles, path: str | Path, title: str | None = None
) -> Path:
    """Write the profile plot; the format follows the suffix (``.png``, ``.svg``, ``.pdf``)."""
    out = Path(path)
    if out.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise RankingInputError(f"plot file must end in .png, .svg or .pdf, not {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig = profile_figure(profiles, title)
    fig.savefig(out)
    return out


def performance_profile_svg(profiles: PerformanceProfiles, title: str | None = None) -> str:
    """The profile plot as SVG text (for embedding in HTML reports)."""
    fig = profile_figure(profiles, title)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()
