"""Coders fill operators: the built-in offline coder, prompted LLMs, a ReAct loop."""

from airlab.coders.base import Coder, CodeRequest, CoderError, Proposal, make_coder, register_coder

__all__ = ["CodeRequest", "Coder", "CoderError", "Proposal", "make_coder", "register_coder"]
