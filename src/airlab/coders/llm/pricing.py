"""Token prices (USD per million tokens) and the cost of a call.

The built-in table covers common hosted models; users extend or override it with a YAML or JSON
file (``AIRLAB_PRICES`` or the coder option ``prices``) mapping a model name to
``{input: USD_per_1M, output: USD_per_1M}``. A dated model id (``claude-sonnet-4-5-20250929``)
matches the longest table entry it starts with.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from airlab.errors import AirlabError


class Price(BaseModel):
    input: float = Field(ge=0)  # USD per 1M prompt tokens
    output: float = Field(ge=0)  # USD per 1M completion tokens

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.input + tokens_out * self.output) / 1_000_000


BUILTIN_PRICES: dict[str, Price] = {
    name: Price(input=i, output=o)
    for name, (i, o) in {
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-5": (1.25, 10.00),
        "gpt-5-mini": (0.25, 2.00),
        "gpt-5-nano": (0.05, 0.40),
        "o3": (2.00, 8.00),
        "o4-mini": (1.10, 4.40),
        "claude-opus-4-1": (15.00, 75.00),
        "claude-opus-4": (15.00, 75.00),
        "claude-sonnet-4-5": (3.00, 15.00),
        "claude-sonnet-4": (3.00, 15.00),
        "claude-3-7-sonnet": (3.00, 15.00),
        "claude-haiku-4-5": (1.00, 5.00),
        "claude-3-5-haiku": (0.80, 4.00),
    }.items()
}


def load_price_file(path: Path) -> dict[str, Price]:
    """Read a user price file (YAML or JSON): ``{model: {input: x, output: y}}``."""
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise AirlabError(f"cannot read the price file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise AirlabError(f"{path}: a price file maps model names to {{input: USD/1M, output: USD/1M}}")
    prices: dict[str, Price] = {}
    for name, value in data.items():
        try:
            prices[str(name)] = Price.model_validate(value)
        except ValidationError as exc:
            raise AirlabError(f"{path}: bad price for '{name}': {exc.errors()[0]['msg']}") from exc
    return prices


class PriceTable:
    """Built-in prices, overlaid with the user's."""

    def __init__(self, extra: dict[str, Price] | None = None, path: str | Path | None = None):
        self.prices = dict(BUILTIN_PRICES)
        path = path or os.environ.get("AIRLAB_PRICES")
        if path:
            self.prices.update(load_price_file(Path(path).expanduser()))
        self.prices.update(extra or {})

    def lookup(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        base = model.rsplit("/", 1)[-1]  # e.g. openrouter-style "openai/gpt-4.1"
        matches = [name for name in self.prices if base == name or base.startswith(name + "-")]
        return self.prices[max(matches, key=len)] if matches else None
