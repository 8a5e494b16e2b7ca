"""A recipe: the structured idea behind an offline-coder script.

The offline coder thinks in recipes and writes them out as readable scripts. A recipe is stored
on its node (``node.meta["recipe"]``) so improve, debug and crossover can work from the idea
rather than re-parsing code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ModelSpec(BaseModel):
    family: str
    params: dict[str, Any] = Field(default_factory=dict)


class Recipe(BaseModel):
    problem: Literal["classification", "regression", "text", "forecasting"]
    models: list[ModelSpec]  # more than one: an average (soft vote) of the models
    scaler: Literal["standard", "quantile", "none"] = "standard"
    encoding: Literal["onehot", "ordinal"] = "onehot"
    missing_indicators: bool = False
    discrete_onehot: bool = False  # also one-hot encode integer columns with few values (helps linear models)
    log_target: bool = False
    text_analyzer: Literal["word", "char_wb"] = "word"
    text_ngrams: int = 2
    text_max_features: int = 50_000
    max_train_rows: int | None = None  # subsample for slow models
    seed: int = 0

    @property
    def family(self) -> str:
        return "+".join(m.family for m in self.models)

    @property
    def primary_family(self) -> str:
        return self.models[0].family
