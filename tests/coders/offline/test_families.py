"""The offline coder's draft order: strong, cheap families first; on large data, dear ones last."""

from __future__ import annotations

import random

import pytest

from airlab.coders.offline.families import LARGE_ROWS, TIERS, draft_order, family, large_data_cost


@pytest.mark.parametrize("problem", ["classification", "regression"])
def test_small_data_keeps_the_tiers(problem: str) -> None:
    order = draft_order(problem, random.Random(3), n_rows=500)
    first = TIERS[problem][0]
    assert sorted(order[:len(first)]) == sorted(first)
    assert sorted(order) == sorted(name for tier in TIERS[problem] for name in tier)


@pytest.mark.parametrize("problem", ["classification", "regression"])
@pytest.mark.parametrize("seed", range(5))
def test_large_data_drafts_go_from_cheap_to_dear(problem: str, seed: int) -> None:
    order = draft_order(problem, random.Random(seed), n_rows=LARGE_ROWS + 1)
    costs = [large_data_cost(family(problem, name)) for name in order]
    assert costs == sorted(costs)
    assert order[-1] in ("svm", "svr", "knn", "mlp") and order[0] not in ("extra_trees", "random_forest")
    assert sorted(order) == sorted(draft_order(problem, random.Random(seed)))  # same families, reordered
    # the tier order holds among families of one cost
    small = draft_order(problem, random.Random(seed))
    cheap = [name for name in small if large_data_cost(family(problem, name)) == 0]
    assert [name for name in order if name in cheap] == cheap
