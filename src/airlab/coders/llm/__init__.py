"""LLM coders: any chat model behind the operators (``openai:MODEL``, ``anthropic:MODEL``).

Importing this package registers the two prefixes; the SDKs are imported only when a coder is
built, with an install hint when missing (``pip install 'airlab[llm]'``).
"""

from __future__ import annotations

from typing import Any

from airlab.coders.base import Coder, register_coder
from airlab.coders.llm.coder import LLMCoder, make_llm_coder

__all__ = ["LLMCoder", "make_llm_coder"]


@register_coder("openai")
def _openai(model: str, options: dict[str, Any]) -> Coder:
    return make_llm_coder("openai", model, options)


@register_coder("anthropic")
def _anthropic(model: str, options: dict[str, Any]) -> Coder:
    return make_llm_coder("anthropic", model, options)
