"""Idea keys: recipes that would fit the same model share a key, and the offline coder proposes no repeat."""

from __future__ import annotations

import json
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from airlab import api
from airlab.coders.base import CodeRequest
from airlab.coders.offline import OfflineCoder
from airlab.coders.offline.ideas import idea_key
from airlab.coders.offline.recipe import ModelSpec, Recipe
from airlab.rundir import RunConfig
from airlab.search.memory import Memory
from airlab.search.node import Node, NodeStatus, Operator
from airlab.tasks.loader import load_task
from airlab.tasks.prediction.preview import DataPreview, make_preview
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.workspace import describe


@cache
def _task(task_id: str) -> tuple[str, DataPreview, Any]:
    task = load_task(task_id)
    splits = make_splits(task, 0)
    return describe(task, splits), make_preview(task, splits), task.spec.limits


def _recipe(family: str, **update: Any) -> Recipe:
    params = update.pop("params", {})
    return Recipe(problem="classification", models=[ModelSpec(family=family, params=params)]).model_copy(update=update)


def test_settings_that_cannot_change_the_model_share_a_key() -> None:
    titanic = _task("titanic")[1]  # sex, passengerClass (categories), age (numeric with gaps, many values)
    trees = _recipe("extra_trees")
    assert idea_key(trees, titanic) == idea_key(trees.model_copy(update={"scaler": "quantile"}), titanic)
    assert idea_key(trees, titanic) == idea_key(trees.model_copy(update={"discrete_onehot": True}), titanic)
    assert idea_key(trees, titanic) == idea_key(trees.model_copy(update={"seed": 99}), titanic)
    assert idea_key(trees, titanic) == idea_key(_recipe("extra_trees", params={"min_samples_leaf": 1}), titanic)
    svm = _recipe("svm")
    assert idea_key(svm, titanic) == idea_key(svm.model_copy(update={"discrete_onehot": True}), titanic)  # no discrete column
    # ...and settings that do change it get their own
    assert idea_key(trees, titanic) != idea_key(trees.model_copy(update={"encoding": "ordinal"}), titanic)
    assert idea_key(trees, titanic) != idea_key(trees.model_copy(update={"missing_indicators": True}), titanic)
    assert idea_key(trees, titanic) != idea_key(_recipe("extra_trees", params={"min_samples_leaf": 5}), titanic)
    assert idea_key(svm, titanic) != idea_key(svm.model_copy(update={"scaler": "quantile"}), titanic)
    iris = _task("iris")[1]  # four complete numeric columns
    assert idea_key(svm, iris) == idea_key(svm.model_copy(update={"missing_indicators": True, "encoding": "ordinal"}), iris)


def test_an_average_is_the_same_idea_in_any_order() -> None:
    preview = _task("titanic")[1]
    a = Recipe(problem="classification", models=[ModelSpec(family="svm"), ModelSpec(family="logistic")])
    b = Recipe(problem="classification", models=[ModelSpec(family="logistic"), ModelSpec(family="svm")])
    assert idea_key(a, preview) == idea_key(b, preview)


def test_improving_one_node_never_repeats_an_idea() -> None:
    """Forty improvements of one titanic node: forty different ideas, none its parent's."""
    description, preview, limits = _task("titanic")
    coder = OfflineCoder()

    def request(operator: Operator, parents: list[Node], tried: list[str], plans: list[str], seed: int) -> CodeRequest:
        return CodeRequest(operator=operator, node_id=len(tried), seed=seed, task_id="titanic", description=description,
                           preview=preview, parents=parents, memory=Memory(tried_ideas=tried, sibling_plans=plans),
                           limits=limits)

    draft = coder.write(request(Operator.DRAFT, [], [], [], seed=1))
    parent = Node(id=0, operator=Operator.DRAFT, status=NodeStatus.OK, plan=draft.plan, code=draft.code,
                  meta=draft.meta, search_score=0.8)
    tried, plans = [str(draft.meta["idea"])], []
    for seed in range(40):
        child = coder.write(request(Operator.IMPROVE, [parent], tried, plans, seed=100 + seed))
        assert child.meta["idea"] not in tried, child.plan
        tried.append(str(child.meta["idea"]))
        plans.append(child.plan)


def test_a_real_run_tries_each_idea_once(tmp_path: Path) -> None:
    result = api.run(RunConfig(task="titanic", seed=3, split_seed=3, budget_nodes=16, eval_folds="1", refit=False,
                               ensemble=False, workers=1), out=tmp_path)
    with sqlite3.connect(tmp_path / result.run_id / "journal.sqlite") as db:
        metas = [json.loads(row[0]).get("meta", {}) for row in db.execute("select data from nodes")]
    ideas = [m["idea"] for m in metas]
    assert len(ideas) == result.n_nodes == 16
    assert len(set(ideas)) == len(ideas)
