"""Performance profiles and the Area Under the Performance profile (AUP), as MLGym defines them
(Nathani et al. 2025, after Dolan & Moré 2002 and the AutoML Decathlon).

For agent ``m`` and task ``t`` with best *feasible* score ``best_t`` the performance ratio is

* ``r = best_t / score`` for higher-is-better metrics,
* ``r = score / best_t`` for lower-is-better metrics,

so ``r >= 1`` and ``r = 1`` for the best agent. MLGym's feasibility rule: an entry is feasible if
it is valid, its score is non-negative and, when a ``baseline`` agent is named, it is at least as
good as the baseline's score on that task (the baseline itself is feasible when non-negative).
Infeasible and missing entries get the penalty ratio ``(1 + epsilon) * r_max`` with
``epsilon = 0.05`` and ``r_max`` the largest feasible ratio over all tasks and agents; a ratio
that is not finite (e.g. a zero score against a positive best) is penalised the same way.

The profile ``rho_m(tau) = |{t : r_{t,m} <= tau}| / |T|`` is evaluated on a grid of ``n_grid``
thresholds spaced evenly in ``log10(tau)`` from ``tau = 1`` to ``tau_max = (1 + epsilon) r_max``
(where every profile reaches 1), and ``AUP_m = integral_1^tau_max rho_m(tau) dtau`` is its left
Riemann sum on that grid. Under ``missing="ignore"`` an agent's profile only counts tasks where
it has a valid result.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from airlab.ranking.errors import RankingInputError
from airlab.ranking.table import MissingPolicy, ScoreMatrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EPSILON = 0.05
N_GRID = 1000


@dataclass(frozen=True)
class PerformanceProfiles:
    agents: tuple[str, ...]
    tasks: tuple[str, ...]
    ratios: np.ndarray
    """``(agents, tasks)`` performance ratios including penalties (NaN = not counted)."""
    feasible: np.ndarray
    taus: np.ndarray
    rho: np.ndarray
    """``(agents, n_grid)`` profile values on ``taus``."""
    aup: np.ndarray
    tau_max: float


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
) -> tuple[np.ndarray, float]:
    """Ratios with penalties and ``tau_max``; see the module docstring."""
    hib = higher_is_better[None, :]
    masked = np.where(feasible, raw, np.nan)
    any_feasible = np.asarray(feasible.any(axis=0), dtype=bool)
    filler = np.where(any_feasible[None, :], masked, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", all="ignore"):
        best = np.where(higher_is_better, np.nanmax(filler, axis=0), np.nanmin(filler, axis=0))
        ratio = np.where(hib, best[None, :] / raw, raw / best[None, :])
        ratio = np.where(raw == best[None, :], 1.0, ratio)
    good = feasible & np.isfinite(ratio) & (ratio >= 1.0 - 1e-12)
    r_max = float(np.max(np.where(good, ratio, 1.0))) if good.any() else 1.0
    penalty = (1.0 + epsilon) * r_max
    return np.where(good, np.maximum(ratio, 1.0), penalty), penalty


def performance_profiles(
    matrix: ScoreMatrix,
    baseline: str | None = None,
    epsilon: float = EPSILON,
    n_grid: int = N_GRID,
    missing: MissingPolicy = "worst",
) -> PerformanceProfiles:
    """Profiles and AUP of every agent over the matrix's voters (tasks or task/seed runs)."""
    if n_grid < 2:
        raise RankingInputError("the performance-profile grid needs at least 2 points")
    base_idx = None
    if baseline is not None:
        if baseline not in matrix.agents:
            raise RankingInputError(
                f"unknown baseline agent {baseline!r}; agents: {', '.join(matrix.agents)}"
            )
        base_idx = matrix.agents.index(baseline)
    raw = matrix.raw
    feas = feasibility(raw, matrix.higher_is_better, base_idx)
    ratios, tau_max = performance_ratios(raw, matrix.higher_is_better, feas, epsilon)
    counted = np.ones(raw.shape, dtype=bool) if missing == "worst" else np.isfinite(raw)
    ratios = np.where(counted, ratios, np.nan)
    taus = np.logspace(0.0, np.log10(tau_max), n_grid)
    n_counted = counted.sum(axis=1)
    within = (ratios[:, :, None] <= taus[None, None, :] * (1 + 1e-12)) & counted[:, :, None]
    rho = within.sum(axis=1) / np.maximum(n_counted, 1)[:, None]
    aup = (rho[:, :-1] * np.diff(taus)[None, :]).sum(axis=1)
    return PerformanceProfiles(
        agents=matrix.agents,
        tasks=matrix.voters,
        ratios=ratios,
        feasible=feas,
        taus=taus,
        rho=rho,
        aup=aup,
        tau_max=float(tau_max),
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
