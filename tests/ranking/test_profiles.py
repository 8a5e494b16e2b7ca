from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airlab.ranking.profiles import (
    default_grid_end,
    feasibility,
    performance_profile_svg,
    performance_profiles,
    write_performance_profile_plot,
)
from airlab.ranking.table import load_results


def _matrix(lower: tuple[str, ...] = ()) -> object:
    df = pd.DataFrame(
        {
            "agent": ["base", "x", "y"] * 2,
            "task": ["acc"] * 3 + ["loss"] * 3,
            "score": [0.5, 0.8, 0.4, 2.0, 1.0, -1.0],
        }
    )
    return load_results(df, lower_is_better=list(lower)).matrix()


def test_ratios_penalties_and_feasibility_rule() -> None:
    m = _matrix(("loss",))
    prof = performance_profiles(m, baseline="base")  # type: ignore[arg-type]
    # acc (higher better): best feasible 0.8; y (0.4) is below the baseline -> infeasible
    # loss (lower better): y (-1) is negative -> infeasible; best feasible x = 1.0
    assert prof.feasible.tolist() == [[True, True], [True, True], [False, False]]
    # the penalty is per task: 1.05 x the task's own worst feasible ratio
    assert prof.penalties == pytest.approx([1.05 * 1.6, 1.05 * 2.0])
    assert prof.ratios[0] == pytest.approx([1.6, 2.0])
    assert prof.ratios[1] == pytest.approx([1.0, 1.0])
    assert prof.ratios[2] == pytest.approx([1.05 * 1.6, 1.05 * 2.0])
    # grid end: log10(ceil(2.1)) = log10(3) = 0.477 -> rounded up to 0.5
    assert prof.grid_end == pytest.approx(0.5)


def test_aup_is_left_riemann_sum_in_log10_ratio() -> None:
    m = _matrix(("loss",))
    prof = performance_profiles(m, baseline="base", n_grid=50)  # type: ignore[arg-type]
    x = np.linspace(0.0, 0.5, 50)
    assert prof.grid == pytest.approx(x)
    assert prof.aup[1] == pytest.approx(0.5)  # x is best everywhere: the whole grid
    rho_base = ((x >= np.log10(1.6)).astype(float) + (x >= np.log10(2.0))) / 2
    assert prof.rho[0] == pytest.approx(rho_base)
    assert prof.aup[0] == pytest.approx(float((rho_base[:-1] * np.diff(x)).sum()))
    rho_y = ((x >= np.log10(1.68)).astype(float) + (x >= np.log10(2.1))) / 2
    assert prof.aup[2] == pytest.approx(float((rho_y[:-1] * np.diff(x)).sum()))
    assert prof.aup[1] > prof.aup[0] > prof.aup[2]


def test_grid_end_override_and_rule() -> None:
    prof = performance_profiles(_matrix(("loss",)), grid_end=1.5)  # type: ignore[arg-type]
    assert prof.grid[-1] == pytest.approx(1.5)
    assert default_grid_end(np.array([1.2, 26.3, np.inf])) == pytest.approx(1.5)  # log10 27
    assert default_grid_end(np.array([13.65])) == pytest.approx(1.2)  # log10 14 = 1.146
    assert default_grid_end(np.array([9.5])) == pytest.approx(1.0)  # log10 10 exactly


def test_task_without_feasible_entry_counts_for_nobody() -> None:
    df = pd.DataFrame({"agent": ["a", "b", "a", "b"], "task": ["t", "t", "u", "u"],
                       "score": [0.5, 0.25, -1.0, -2.0]})
    prof = performance_profiles(load_results(df).matrix())
    assert np.isinf(prof.penalties[1])
    assert prof.rho[:, -1] == pytest.approx([0.5, 0.5])


def test_without_baseline_only_non_negative_scores_count() -> None:
    raw = np.array([[1.0, -0.5], [np.nan, 2.0]])
    assert feasibility(raw, np.array([True, True]), None).tolist() == [[True, False], [False, True]]


def test_plot_png_svg(tmp_path: Path) -> None:
    prof = performance_profiles(_matrix(("loss",)))  # type: ignore[arg-type]
    png = write_performance_profile_plot(prof, tmp_path / "p.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = write_performance_profile_plot(prof, tmp_path / "p.svg")
    assert "<svg" in svg.read_text()
    text = performance_profile_svg(prof, title="demo")
    assert text.lstrip().startswith("<?xml") and "demo" in text
