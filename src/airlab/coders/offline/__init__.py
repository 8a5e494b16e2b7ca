"""The offline coder: draft, improve, debug and crossover with no language model.

It reasons in :class:`~airlab.coders.offline.recipe.Recipe` objects (model families, their
settings, preprocessing) and writes each one out as a readable script. Everything it decides comes
from a ``random.Random`` seeded by the request, so a run is reproducible.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any

from airlab.coders.base import CodeRequest, CoderError, Proposal, register_coder
from airlab.coders.offline.families import CATALOGUE, LARGE_ROWS, Knob, draft_order, family
from airlab.coders.offline.ideas import idea_key
from airlab.coders.offline.program import ProgramCoder
from airlab.coders.offline.recipe import ModelSpec, Recipe
from airlab.coders.offline.render import DISCRETE_MAX_UNIQUE, describe_model, render
from airlab.search.node import Node, NodeStatus, Operator
from airlab.tasks.prediction.preview import DataPreview
from airlab.tasks.program.task import ProgramPreview

# attempts at an idea no node has tried before settling for a repeat
NOVELTY_TRIES = 40

# a safer family to switch to when one keeps failing
FALLBACK = {
    "classification": "logistic", "regression": "ridge", "text": "logistic", "forecasting": "seasonal_naive",
}
SWAP = {
    "lightgbm": "hist_gb", "catboost": "lightgbm", "svm": "logistic", "svr": "ridge", "mlp": "extra_trees", "knn": "extra_trees",
    "linear_svm": "logistic", "sarimax": "holt_winters", "holt_winters": "theta", "theta": "seasonal_naive",
    "autoreg": "trend_fourier", "trend_fourier": "seasonal_naive", "naive_bayes": "logistic", "sgd": "logistic",
}


def problem_of(preview: DataPreview) -> str:
    if preview.kind == "forecasting":
        return "forecasting"
    if preview.kind in ("binary", "multiclass"):
        return "text" if preview.names("text") else "classification"
    return "regression"


def _table(request: CodeRequest) -> DataPreview:
    """The table a prediction request is about."""
    if not isinstance(request.preview, DataPreview):
        raise CoderError(f"the table recipes cannot write code for a {type(request.preview).__name__}")
    return request.preview


class OfflineCoder:
    """Writes real scikit-learn / LightGBM / statsmodels scripts from recipes."""

    name = "offline"

    def write(self, request: CodeRequest) -> Proposal:
        if isinstance(request.preview, ProgramPreview):
            return ProgramCoder().write(request)
        rng = random.Random(request.seed)
        problem = problem_of(_table(request))
        op = request.operator
        parent_recipes = [_recipe_of(p) for p in request.parents]
        if op == Operator.DRAFT or not request.parents:
            recipe, plan = self._draft(request, problem, rng)
        elif op == Operator.IMPROVE:
            base = parent_recipes[0]
            if base is None:
                recipe, plan = self._draft(request, problem, rng)
                plan = f"The parent was not written by this coder, so start from a fresh idea. {plan}"
            else:
                recipe, plan = self._improve(request, base, problem, rng)
        elif op == Operator.DEBUG:
            recipe, plan = self._debug(request, parent_recipes[0], problem, rng)
        elif op == Operator.CROSSOVER:
            recipe, plan = self._crossover(request, parent_recipes, problem, rng)
        else:  # pragma: no cover - Operator is closed
            raise CoderError(f"unknown operator {op}")
        code = render(recipe, plan, _table(request), threads=request.limits.cpus)
        return Proposal(
            plan=plan, code=code, family=family(problem, recipe.primary_family).label,
            meta={"recipe": recipe.model_dump(mode="json"), "idea": idea_key(recipe, _table(request))},
        )

    # -- draft -------------------------------------------------------------------------------
    def _draft(self, request: CodeRequest, problem: str, rng: random.Random) -> tuple[Recipe, str]:
        tried = {_first_family(p) for p in request.memory.sibling_plans}
        order = draft_order(problem, random.Random(request.run_seed), _table(request).n_train)
        # each family's defaults first, then (every family drafted) random families with random settings
        def ideas() -> Iterator[tuple[str, dict[str, Any]]]:
            yield from ((name, {}) for name in order if name not in tried)
            for _ in range(NOVELTY_TRIES):
                name = rng.choice(order)
                yield name, {k.name: rng.choice(k.values) for k in family(problem, name).knobs}

        recipe = None
        for name, params in ideas():
            params = _size_params(problem, name, params, _table(request))
            recipe = Recipe(problem=problem, models=[ModelSpec(family=name, params=params)], seed=request.seed % 10_000)  # type: ignore[arg-type]
            recipe = self._choose_preprocessing(recipe, _table(request), rng)
            if self._novel(request, recipe):
                break
        assert recipe is not None
        plan = f"Draft: {describe_model(recipe.models[0], problem)}. {self._prep_text(recipe)}"
        return recipe, plan

    @staticmethod
    def _novel(request: CodeRequest, recipe: Recipe) -> bool:
        """Whether no node of the run has tried this idea (see :mod:`~airlab.coders.offline.ideas`)."""
        return idea_key(recipe, _table(request)) not in request.memory.tried_ideas

    def _choose_preprocessing(self, recipe: Recipe, preview: DataPreview, rng: random.Random) -> Recipe:
        fam = family(recipe.problem, recipe.primary_family)
        update: dict[str, Any] = {}
        if recipe.problem in ("classification", "regression"):
            update["scaler"] = rng.choice(["standard", "standard", "quantile"]) if fam.needs_scaling else "standard"
            update["encoding"] = "onehot" if fam.needs_scaling else rng.choice(["onehot", "ordinal"])
            update["missing_indicators"] = any(c.n_missing for c in preview.columns)
            update["discrete_onehot"] = fam.needs_scaling and any(
                c.kind == "numeric" and 2 < c.n_unique <= DISCRETE_MAX_UNIQUE for c in preview.columns)
        if recipe.problem == "regression":
            s = preview.target_summary
            skewed = s.get("min", -1) >= 0 and s.get("max", 0) > 4 * max(s.get("mean", 1), 1e-9)
            update["log_target"] = bool(skewed)
        if recipe.problem == "text":
            update["text_analyzer"] = rng.choice(["word", "word", "char_wb"])
            update["text_ngrams"] = 2 if update["text_analyzer"] == "word" else 4
            update["text_max_features"] = 50_000 if update["text_analyzer"] == "word" else 80_000
        return recipe.model_copy(update=update)

    @staticmethod
    def _prep_text(recipe: Recipe) -> str:
        if recipe.problem == "forecasting":
            return "Forecast the whole horizon after the end of train.csv and look up each requested time."
        bits = []
        if recipe.problem == "text":
            bits.append(f"TF-IDF on {recipe.text_analyzer} n-grams up to {recipe.text_ngrams} "
                        f"(max {recipe.text_max_features} features)")
        bits.append(f"median imputation{' with missing indicators' if recipe.missing_indicators else ''}")
        bits.append(f"{recipe.scaler} scaling where the model needs it")
        bits.append(f"{recipe.encoding} encoding of categories")
        if recipe.discrete_onehot:
            bits.append("one-hot levels of discrete numeric columns")
        if recipe.log_target:
            bits.append("a log1p-transformed target")
        if recipe.max_train_rows:
            bits.append(f"at most {recipe.max_train_rows} training rows")
        return "Preprocessing: " + ", ".join(bits) + "."

    # -- improve -----------------------------------------------------------------------------
    def _improve(self, request: CodeRequest, base: Recipe, problem: str, rng: random.Random) -> tuple[Recipe, str]:
        tried = set(request.memory.sibling_plans)
        good_families = [f for f in _families_in(request.memory.good_summaries, problem) if f not in {m.family for m in base.models}]
        base_key = idea_key(base, _table(request))

        def fresh(candidate: tuple[Recipe, str]) -> bool:
            recipe, change = candidate
            key = idea_key(recipe, _table(request))
            return (self._improve_plan(request, base, change) not in tried and key != base_key
                    and key not in request.memory.tried_ideas)

        candidate: tuple[Recipe, str] | None = None
        for _ in range(NOVELTY_TRIES):
            roll = rng.random()
            if roll < 0.2 and good_families and len(base.models) < 3:
                candidate = self._blend(base, rng.choice(good_families), problem, _table(request))
            elif roll < 0.35 and problem != "forecasting":
                candidate = self._tweak_preprocessing(base, rng)
            else:
                candidate = self._tune(base, rng, problem)
            if fresh(candidate):
                break
        else:  # the neighbourhood is used up: random settings, several steps at once, or a blend
            blends = [f.name for f in CATALOGUE[problem] if f.name not in {m.family for m in base.models}]
            blends = blends if len(base.models) < 3 else []
            rng.shuffle(blends)
            for attempt in range(2 * NOVELTY_TRIES + len(blends)):
                if attempt < NOVELTY_TRIES:
                    candidate = self._tune(base, rng, problem, jump=True)
                elif attempt < 2 * NOVELTY_TRIES:
                    candidate = self._walk(base, rng, problem, steps=rng.randint(2, 4))
                else:
                    candidate = self._blend(base, blends[attempt - 2 * NOVELTY_TRIES], problem, _table(request),
                                            why="as every single change has been tried")
                if fresh(candidate):
                    break
        assert candidate is not None
        recipe, change = candidate
        return recipe, self._improve_plan(request, base, change)

    @staticmethod
    def _improve_plan(request: CodeRequest, base: Recipe, change: str) -> str:
        return f"Improve node {request.parents[0].id} ({base.family}): {change}"

    def _tune(self, base: Recipe, rng: random.Random, problem: str, jump: bool = False) -> tuple[Recipe, str]:
        """Move one model's settings: one knob a small step on its grid, or (``jump``) every knob at random."""
        index = rng.randrange(len(base.models))
        spec = base.models[index]
        fam = family(problem, spec.family)
        if not fam.knobs:
            return self._tweak_preprocessing(base, rng)
        if jump:
            changed = {k.name: rng.choice(k.values) for k in fam.knobs}
            change = f"try new {spec.family} settings ({', '.join(f'{k}={v}' for k, v in changed.items())})."
        else:
            knob: Knob = rng.choice(fam.knobs)
            current = spec.params.get(knob.name, fam.defaults.get(knob.name))
            options = [v for v in knob.values if v != current]
            if current in knob.values:  # prefer a neighbour on the grid: small steps
                i = knob.values.index(current)
                neighbours = [knob.values[j] for j in (i - 1, i + 1) if 0 <= j < len(knob.values)]
                options = neighbours if neighbours and rng.random() < 0.75 else options
            changed = {knob.name: rng.choice(options)}
            change = f"set {spec.family} {knob.name} from {current} to {changed[knob.name]}."
        models = list(base.models)
        models[index] = ModelSpec(family=spec.family, params={**spec.params, **changed})
        return base.model_copy(update={"models": models}), change

    def _walk(self, base: Recipe, rng: random.Random, problem: str, steps: int) -> tuple[Recipe, str]:
        """Several random changes at once, for when every single change has been tried."""
        recipe, changes = base, []
        for _ in range(steps):
            if problem != "forecasting" and rng.random() < 0.35:
                recipe, change = self._tweak_preprocessing(recipe, rng)
            else:
                recipe, change = self._tune(recipe, rng, problem)
            changes.append(change.rstrip("."))
        return recipe, "; ".join(changes) + "."

    def _tweak_preprocessing(self, base: Recipe, rng: random.Random) -> tuple[Recipe, str]:
        if base.problem == "text":
            choice = rng.choice(["ngrams", "features", "analyzer"])
            if choice == "ngrams":
                n = base.text_ngrams + (1 if base.text_ngrams < 3 or rng.random() < 0.5 else -1)
                return base.model_copy(update={"text_ngrams": n}), f"use n-grams up to {n}."
            if choice == "features":
                m = base.text_max_features * 2 if rng.random() < 0.6 else base.text_max_features // 2
                return base.model_copy(update={"text_max_features": m}), f"keep {m} TF-IDF features."
            a = "char_wb" if base.text_analyzer == "word" else "word"
            n = 4 if a == "char_wb" else 2
            return base.model_copy(update={"text_analyzer": a, "text_ngrams": n}), f"switch TF-IDF to {a} n-grams up to {n}."
        choice = rng.choice(["scaler", "encoding", "indicators", "levels"] + (["log_target"] if base.problem == "regression" else []))
        if choice == "levels":
            new_levels = not base.discrete_onehot
            return (base.model_copy(update={"discrete_onehot": new_levels}),
                    f"{'add' if new_levels else 'drop'} one-hot levels of discrete numeric columns.")
        if choice == "scaler":
            new = "quantile" if base.scaler == "standard" else "standard"
            return base.model_copy(update={"scaler": new}), f"use {new} scaling instead of {base.scaler}."
        if choice == "encoding":
            new = "ordinal" if base.encoding == "onehot" else "onehot"
            return base.model_copy(update={"encoding": new}), f"use {new} encoding of categories."
        if choice == "indicators":
            new_ind = not base.missing_indicators
            return base.model_copy(update={"missing_indicators": new_ind}), f"{'add' if new_ind else 'drop'} missing-value indicators."
        new_log = not base.log_target
        return base.model_copy(update={"log_target": new_log}), f"{'fit on log1p(target)' if new_log else 'fit on the raw target'}."

    def _blend(self, base: Recipe, other: str, problem: str, preview: DataPreview,
               why: str = "a family that scored well") -> tuple[Recipe, str]:
        spec = ModelSpec(family=other, params=_size_params(problem, other, {}, preview))
        models = [*base.models, spec]
        return base.model_copy(update={"models": models}), f"average its predictions with {describe_model(spec, problem)}, {why}."

    # -- debug -------------------------------------------------------------------------------
    def _debug(self, request: CodeRequest, base: Recipe | None, problem: str, rng: random.Random) -> tuple[Recipe, str]:
        parent = request.parents[0]
        error = parent.error or parent.output_tail[-500:]
        if base is None:
            fixed = _patch_foreign(parent, error)
            if fixed is not None:
                raise _PatchedCode(*fixed)
            recipe, _plan = self._draft(request, problem, rng)
            recipe = recipe.model_copy(update={"models": [ModelSpec(family=FALLBACK[problem])]})
            return recipe, (f"Debug node {parent.id}: its code failed ({_one_line(error)}); rewrite it as a robust "
                            f"{FALLBACK[problem]} baseline. {self._prep_text(recipe)}")
        repeated = sum(1 for bug in request.memory.ancestral_bugs if _one_line(error)[:60] in bug) > 1
        n_train = _table(request).n_train
        if parent.status == NodeStatus.TIMEOUT or parent.limit_hit in ("time", "memory"):
            models = []
            for spec in base.models:
                params = dict(spec.params)
                fam = family(problem, spec.family)
                for key in ("n_estimators", "max_iter"):
                    if key in fam.defaults:
                        params[key] = max(50, int(params.get(key, fam.defaults[key])) // 2)
                models.append(ModelSpec(family=spec.family, params=params))
            cap = max(1000, min(base.max_train_rows or n_train, n_train) // 2)
            update: dict[str, Any] = {"models": models, "max_train_rows": cap}
            if problem == "text":
                update["text_max_features"] = max(5000, base.text_max_features // 4)
            if repeated:
                update["models"] = [ModelSpec(family=SWAP.get(m.family, FALLBACK[problem])) for m in base.models]
            recipe = base.model_copy(update=update)
            what = "time" if parent.status == NodeStatus.TIMEOUT or parent.limit_hit == "time" else "memory"
            return recipe, (f"Debug node {parent.id}: it hit the {what} limit. Halve the model sizes, fit on at most "
                            f"{cap} rows{' and swap to cheaper families' if repeated else ''}.")
        # a crash or an invalid submission: swap the failing family for a safer one
        models = [ModelSpec(family=SWAP.get(m.family, FALLBACK[problem])) for m in base.models]
        if repeated or len({m.family for m in models}) < len(models):
            models = [ModelSpec(family=FALLBACK[problem])]
        recipe = base.model_copy(update={"models": models, "missing_indicators": True})
        return recipe, (f"Debug node {parent.id}: it failed with '{_one_line(error)}'. Replace "
                        f"{base.family} with {'+'.join(m.family for m in models)} and impute every missing value.")

    # -- crossover ---------------------------------------------------------------------------
    def _crossover(self, request: CodeRequest, recipes: list[Recipe | None], problem: str, rng: random.Random) -> tuple[Recipe, str]:
        usable = [r for r in recipes if r is not None]
        if len(usable) < 2:
            return self._draft(request, problem, rng)
        a, b = usable[0], usable[1]
        ids = [p.id for p in request.parents]
        if rng.random() < 0.5 or problem == "forecasting":
            models = [*a.models, *[m for m in b.models if m.family not in {x.family for x in a.models}]][:3]
            child = a.model_copy(update={"models": models})
            return child, f"Crossover of nodes {ids[0]} and {ids[1]}: average the models of both ({child.family})."
        child = b.model_copy(update={"models": a.models})
        return child, (f"Crossover of nodes {ids[0]} and {ids[1]}: the model of node {ids[0]} ({a.family}) with "
                       f"the preprocessing of node {ids[1]}.")


class _PatchedCode(Exception):
    def __init__(self, plan: str, code: str):
        super().__init__(plan)
        self.plan, self.code = plan, code


_IMPORTS = {
    "np": "import numpy as np", "pd": "import pandas as pd", "os": "import os", "sys": "import sys",
    "math": "import math", "json": "import json", "re": "import re",
}


def _patch_foreign(parent: Node, error: str) -> tuple[str, str] | None:
    """Textual repairs for code this coder did not write."""
    match = re.search(r"NameError: name '(\w+)' is not defined", error)
    if match and match.group(1) in _IMPORTS:
        line = _IMPORTS[match.group(1)]
        return (f"Debug node {parent.id}: add the missing import ({line}).", f"{line}\n{parent.code}")
    return None


def _recipe_of(node: Node) -> Recipe | None:
    raw = node.meta.get("recipe")
    if not raw:
        return None
    try:
        return Recipe.model_validate(raw)
    except ValueError:
        return None


def _first_family(plan: str) -> str:
    match = re.match(r"Draft: (\w+)", plan)
    return match.group(1) if match else ""


def _families_in(summaries: list[str], problem: str) -> list[str]:
    names = {f.name for f in CATALOGUE[problem]}
    found: list[str] = []
    for line in summaries:
        for token in re.findall(r"\b\w+\b", line.split(":", 1)[-1][:80]):
            if token in names and token not in found:
                found.append(token)
    return found


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "unknown error")[:200]


# With this few feature columns, a classification forest's defaults (sqrt of the columns per split,
# leaves of one row) split on a single random column and fit label noise the columns cannot explain:
# measured on the built-in tasks at 10 split seeds, extra trees with leaves of two rows and 60% of
# the columns gained 0.016 accuracy on titanic, 0.047 ROC-AUC on affairs and 0.012 on spam7, and
# lost 0.002 macro-F1 on penguins; a random forest with 50% of the columns gained 0.002, 0.023 and
# 0.005 and lost 0.007. Iris did not move. Capping extra trees at 256 leaves as well gained another
# 0.029 ROC-AUC on affairs and 0.0006 on spam7 at 20 seeds, and moved titanic, iris and penguins by
# less than their noise (`benchmarks/draft_settings.py`). The search still tunes every knob from there.
FEW_FEATURES = 10
FEW_FEATURES_TREES = {"extra_trees": dict(min_samples_leaf=2, max_features=0.6, max_leaf_nodes=256),
                      "random_forest": dict(min_samples_leaf=2, max_features=0.5)}

# LightGBM's defaults (31 leaves, at least 20 rows per leaf) are made for large data. On a few
# thousand rows or fewer with a few dozen columns they fit too much of the noise, and on a couple
# of hundred rows 20 rows per leaf leaves a tree too few splits. Measured with fixed models on the
# built-in tasks at 20 split seeds (`benchmarks/draft_settings.py`), 7 leaves of at least 5 rows
# gained 0.083 R² on mpg, 0.021 ROC-AUC on affairs, 0.006 on spam7 and 0.021 MAE on exam-scores,
# and moved breast-cancer, diabetes, iris, penguins, titanic and wine by less than their noise; on
# digits' 64 pixel columns it lost 0.003 accuracy and on diamonds' 27,000 rows 28 RMSE, so wide or
# large data keeps the defaults. The search still tunes both knobs from there.
SMALL_TREES_MAX_COLUMNS = 30
SMALL_TREES_BOOSTING = {"lightgbm": dict(num_leaves=7, min_child_samples=5)}
# A regression on a few hundred rows goes further: leaves of 2 rows. Against leaves of 5 (fixed
# models, 20 split seeds) this gained 0.021 R² on mpg, whose car models have a handful of rows
# each, and moved diabetes and exam-scores by less than their noise; on classification it gained
# nothing (7 of 8 tasks leaned worse, within noise), so classification keeps leaves of 5.
FEW_ROWS_REGRESSION = 1000
FEW_ROWS_REGRESSION_BOOSTING = {"lightgbm": {**SMALL_TREES_BOOSTING["lightgbm"], "min_child_samples": 2}}


def _size_params(problem: str, name: str, params: dict[str, Any], preview: DataPreview) -> dict[str, Any]:
    """A draft's settings for the data at hand: smaller forests on large data, so a draft fits
    comfortably in its time limit; less greedy forests on few columns (see ``FEW_FEATURES``);
    smaller boosted trees on small, narrow data (see ``SMALL_TREES_BOOSTING``), with smaller leaves
    for a regression on few rows (``FEW_ROWS_REGRESSION_BOOSTING``)."""
    out = dict(params)
    if name in ("random_forest", "extra_trees") and preview.n_train > LARGE_ROWS and "n_estimators" not in params:
        out["n_estimators"] = 150
    if problem == "classification" and name in FEW_FEATURES_TREES and len(preview.columns) <= FEW_FEATURES:
        out = {**FEW_FEATURES_TREES[name], **out}
    if (problem in ("classification", "regression") and name in SMALL_TREES_BOOSTING
            and preview.n_train <= LARGE_ROWS and len(preview.columns) <= SMALL_TREES_MAX_COLUMNS):
        few_rows = problem == "regression" and preview.n_train <= FEW_ROWS_REGRESSION
        out = {**(FEW_ROWS_REGRESSION_BOOSTING if few_rows else SMALL_TREES_BOOSTING)[name], **out}
    return out


class _OfflineWithPatches(OfflineCoder):
    def write(self, request: CodeRequest) -> Proposal:
        try:
            return super().write(request)
        except _PatchedCode as patched:
            return Proposal(plan=patched.plan, code=patched.code, family=request.parents[0].family)


@register_coder("offline")
def _make(model: str, options: dict[str, Any]) -> OfflineCoder:
    return _OfflineWithPatches()
