"""The identity of an idea: two recipes that would fit the same model on the same data share a key.

A search that re-tunes one node proposes the same script again surprisingly often: a knob stepped
up and back down, missing-value indicators toggled on data with nothing missing, a scaler changed
under a tree model that never sees it. Each repeat costs a node (K sandbox runs under hidden K-fold
evaluation) and, scoring exactly like its twin, ties the best node and wins its own round of
improvement. The offline coder keys every recipe by what would actually run, records the key on
the node, and does not propose a key the run has already tried.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from airlab.coders.offline.families import family
from airlab.coders.offline.recipe import Recipe
from airlab.coders.offline.render import DISCRETE_MAX_UNIQUE
from airlab.tasks.prediction.preview import DataPreview


def effective(recipe: Recipe, preview: DataPreview) -> dict[str, Any]:
    """The recipe with every setting that cannot change the fitted model put at one value."""
    numeric = [c for c in preview.columns if c.kind == "numeric"]
    scaled = recipe.scaler != "none" and any(family(recipe.problem, m.family).needs_scaling for m in recipe.models)
    models = sorted(
        ({"family": m.family, "params": {**family(recipe.problem, m.family).defaults, **m.params}} for m in recipe.models),
        key=lambda m: json.dumps(m, sort_keys=True, default=str),
    )
    out: dict[str, Any] = {"problem": recipe.problem, "models": models}
    if recipe.problem == "forecasting":
        return out
    out["scaler"] = recipe.scaler if scaled else "standard"
    out["encoding"] = recipe.encoding if preview.names("categorical") else "onehot"
    out["missing_indicators"] = recipe.missing_indicators and any(c.n_missing for c in numeric)
    out["discrete_onehot"] = (recipe.discrete_onehot and scaled
                              and any(c.n_unique <= DISCRETE_MAX_UNIQUE for c in numeric))
    if recipe.problem == "regression":
        out["log_target"] = recipe.log_target
    if recipe.problem == "text":
        out.update(text_analyzer=recipe.text_analyzer, text_ngrams=recipe.text_ngrams,
                   text_max_features=recipe.text_max_features)
    rows = recipe.max_train_rows
    out["max_train_rows"] = rows if rows is not None and rows < preview.n_train else None
    return out


def idea_key(recipe: Recipe, preview: DataPreview) -> str:
    """A short digest of :func:`effective` (the seed is left out: a re-seeded twin is no new idea)."""
    text = json.dumps(effective(recipe, preview), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]
