from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airlab.ranking import rank
from airlab.ranking.bootstrap import draw, percentile_interval, with_empty_slot
from airlab.ranking.table import load_results


def _table(n_tasks: int = 12, seeds: int = 3, seed: int = 0, noise: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    quality = {"strong": 1.0, "mid": 0.0, "weak": -1.0}
    rows = [
        {"agent": a, "task": f"t{t}", "seed": s, "score": q + noise * rng.normal()}
        for t in range(n_tasks)
        for s in range(seeds)
        for a, q in quality.items()
    ]
    return pd.DataFrame(rows)


def test_draw_resamples_tasks_and_seeds_within_tasks() -> None:
    df = _table(4, 3)
    df = df[~((df["task"] == "t0") & (df["seed"] > 0))]  # t0 has a single seed
    cube = with_empty_slot(load_results(df))
    rng = np.random.default_rng(0)
    for _ in range(20):
        res = draw(cube, rng, resample_seeds=True)
        assert res.n_tasks == 4
        for t, name in enumerate(res.tasks):
            ran = res.present[:, t].any(axis=0).sum()
            assert ran == (1 if name == "t0" else 3)  # each task keeps its number of runs


def test_percentile_interval_nan_handling() -> None:
    samples = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 5.0]])
    lo, hi = percentile_interval(samples, 0.5)
    assert lo[0] == pytest.approx(1.5) and hi[0] == pytest.approx(2.5)
    assert np.isnan(lo[1]) and np.isnan(hi[1])


def test_confidence_intervals_cover_estimate_and_shrink_with_more_tasks() -> None:
    small = rank(_table(8, 1, noise=2.0), ["borda", "bt"], bootstrap=150, random_state=1)
    large = rank(_table(80, 1, noise=2.0), ["borda", "bt"], bootstrap=150, random_state=1)
    for res in (small, large):
        for row in res["bt"].agents:
            assert row.ci_low is not None and row.ci_high is not None
            assert row.ci_low <= row.score <= row.ci_high  # type: ignore[operator]

    def width(res: dict) -> float:  # type: ignore[type-arg]
        return float(np.mean([r.ci_high - r.ci_low for r in res["bt"].agents]))

    assert 0 < width(large) < width(small)


def test_bootstrap_is_reproducible_and_resamples_seeds() -> None:
    a = rank(_table(), ["kemeny"], bootstrap=30, bootstrap_seeds=True, random_state=5)
    b = rank(_table(), ["kemeny"], bootstrap=30, bootstrap_seeds=True, random_state=5)
    assert a["kemeny"].rows() == b["kemeny"].rows()
    assert a["kemeny"].bootstrap is not None and a["kemeny"].bootstrap.resample_seeds


def test_degenerate_resamples_are_skipped_and_counted() -> None:
    # Only task t0 separates the agents; many resamples miss it and Nash averaging has no
    # informative task there -> those resamples fail and are counted, not fatal.
    df = pd.DataFrame(
        {
            "agent": ["a", "b"] * 4,
            "task": ["t0", "t0", "t1", "t1", "t2", "t2", "t3", "t3"],
            "score": [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    res = rank(df, ["nash", "borda"], bootstrap=60, random_state=0)
    nash = res["nash"].bootstrap
    assert nash is not None and 0 < nash.succeeded < 60
    assert res["borda"].bootstrap is not None and res["borda"].bootstrap.succeeded == 60
