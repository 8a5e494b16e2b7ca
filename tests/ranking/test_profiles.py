from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airlab.ranking.profiles import (
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
    r_max = max(0.8 / 0.5, 2.0 / 1.0)
    assert prof.tau_max == pytest.approx(1.05 * r_max)
    assert prof.ratios[0] == pytest.approx([1.6, 2.0])
    assert prof.ratios[1] == pytest.approx([1.0, 1.0])
    assert prof.ratios[2] == pytest.approx([1.05 * r_max] * 2)


def test_aup_is_left_riemann_sum_on_log_grid() -> None:
    m = _matrix(("loss",))
    prof = performance_profiles(m, baseline="base", n_grid=50)  # type: ignore[arg-type]
    taus = np.logspace(0, np.log10(prof.tau_max), 50)
    assert prof.taus == pytest.approx(taus)
    rho_x = np.ones(50)  # x is best everywhere
    assert prof.aup[1] == pytest.approx(float((rho_x[:-1] * np.diff(taus)).sum()))
    rho_base = ((taus >= 1.6).astype(float) + (taus * (1 + 1e-12) >= 2.0)) / 2
    assert prof.rho[0] == pytest.approx(rho_base)
    assert prof.aup[0] == pytest.approx(float((rho_base[:-1] * np.diff(taus)).sum()))
    assert prof.aup[2] == pytest.approx(0.0)  # infeasible everywhere: reaches 1 only at tau_max
    assert prof.aup[1] > prof.aup[0] > prof.aup[2]


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
