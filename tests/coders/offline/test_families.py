"""The offline coder's draft order: strong, cheap families first; on large data, dear ones last."""

from __future__ import annotations

import random
from typing import Any

import pytest

from airlab.coders.offline import (
    FEW_FEATURES_TREES,
    FEW_ROWS_REGRESSION,
    FEW_ROWS_REGRESSION_BOOSTING,
    SMALL_TREES_BOOSTING,
    _size_params,
)
from airlab.coders.offline.families import LARGE_ROWS, TIERS, draft_order, family, large_data_cost
from airlab.tasks.loader import load_task
from airlab.tasks.prediction.preview import DataPreview, make_preview
from airlab.tasks.prediction.splits import make_splits


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


def _preview(task_id: str) -> DataPreview:
    task = load_task(task_id)
    return make_preview(task, make_splits(task, 0))


def _on_grid(problem: str, name: str, settings: dict[str, Any]) -> bool:
    """Draft settings sit on the family's knob grids, so the search can step away from them."""
    knobs = {k.name: k.values for k in family(problem, name).knobs}
    return all(value in knobs[knob] for knob, value in settings.items())


def test_forests_on_few_columns_draft_with_larger_leaves() -> None:
    titanic, digits = _preview("titanic"), _preview("digits")  # 3 and 64 feature columns
    for name, settings in FEW_FEATURES_TREES.items():
        assert _size_params("classification", name, {}, titanic) == settings
        assert _size_params("classification", name, {}, digits) == {}
        # the search's own settings win over the draft's
        assert _size_params("classification", name, {"min_samples_leaf": 1}, titanic)["min_samples_leaf"] == 1
        assert _on_grid("classification", name, settings)


@pytest.mark.parametrize("problem", ["classification", "regression"])
@pytest.mark.parametrize("name", ["random_forest", "extra_trees"])
def test_forest_leaf_cap_renders_every_grid_value(problem: str, name: str) -> None:
    """Each step of the leaf-count knob builds the forest it names, the unbounded one included."""
    fam = family(problem, name)
    grid = {k.name: k.values for k in fam.knobs}["max_leaf_nodes"]
    assert grid[-1] is None  # the last step lifts the cap
    for value in grid:
        assert fam.build({"max_leaf_nodes": value}, seed=0).get_params()["max_leaf_nodes"] == value


@pytest.mark.parametrize("problem", ["classification", "regression"])
def test_boosting_on_small_narrow_data_drafts_with_small_trees(problem: str) -> None:
    narrow, wide, large = _preview("exam-scores"), _preview("digits"), _preview("diamonds")
    assert FEW_ROWS_REGRESSION < narrow.n_train <= LARGE_ROWS
    assert large.n_train > LARGE_ROWS and len(wide.columns) == 64
    for name, settings in SMALL_TREES_BOOSTING.items():
        assert _size_params(problem, name, {}, narrow) == settings
        assert _size_params(problem, name, {}, wide) == {}
        assert _size_params(problem, name, {}, large) == {}
        assert _size_params(problem, name, {"num_leaves": 31}, narrow)["num_leaves"] == 31
        assert _on_grid(problem, name, settings)
    assert _size_params(problem, "catboost", {}, narrow) == {}


def test_regression_boosting_on_few_rows_drafts_leaves_of_two_rows() -> None:
    few = _preview("mpg")  # 117 train rows, 9 columns
    assert few.n_train <= FEW_ROWS_REGRESSION
    for name, settings in FEW_ROWS_REGRESSION_BOOSTING.items():
        assert settings != SMALL_TREES_BOOSTING[name]
        assert _size_params("regression", name, {}, few) == settings
        assert _size_params("classification", name, {}, few) == SMALL_TREES_BOOSTING[name]
        assert _size_params("regression", name, {"min_child_samples": 20}, few)["min_child_samples"] == 20
        assert _on_grid("regression", name, settings)
