"""Coders fill operators: the built-in offline coder, prompted LLMs, a ReAct loop."""

from airlab.coders.base import Coder, CoderError, CodeRequest, Proposal, make_coder, register_coder

__all__ = ["CodeRequest", "Coder", "CoderError", "Proposal", "make_coder", "register_coder"]
