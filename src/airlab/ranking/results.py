"""Serialisable results (pydantic): what ``rank()`` returns and ``airlab rank --format json``
prints. Kept small and stable because reports and the HTML leaderboard consume it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AgentResult(BaseModel):
    """One agent's row in a method's ranking."""

    model_config = ConfigDict(frozen=True)

    agent: str
    rank: int = Field(description="1 = best; equal scores share the lowest rank (1, 2, 2, 4)")
    score: float | None = Field(description="method score, higher is better; None if undefined")
    ci_low: float | None = Field(default=None, description="bootstrap lower bound of the score")
    ci_high: float | None = Field(default=None, description="bootstrap upper bound of the score")


class BootstrapSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    resamples: int
    succeeded: int
    confidence: float
    resample_seeds: bool


class MethodResult(BaseModel):
    """The ranking produced by one method.

    ``agents`` is sorted by rank (ties keep table order). ``details`` holds method-specific,
    JSON-serialisable extras, e.g. ``condorcet_winner`` / ``cycles`` / ``smith_set`` for voting
    methods, ``sigma`` for Weng-Lin ratings, the Nash strategies, medal counts.
    """

    method: str
    description: str
    agents: list[AgentResult]
    details: dict[str, Any] = Field(default_factory=dict)
    bootstrap: BootstrapSummary | None = None

    def rows(self) -> list[dict[str, Any]]:
        """``[{"agent", "rank", "score", "ci_low", "ci_high"}, ...]`` in rank order."""
        return [a.model_dump() for a in self.agents]

    def ranking(self) -> list[str]:
        """Agent names in rank order."""
        return [a.agent for a in self.agents]

    def score_of(self, agent: str) -> float | None:
        for row in self.agents:
            if row.agent == agent:
                return row.score
        raise KeyError(agent)
