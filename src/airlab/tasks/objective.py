"""What a task's score means: its name and direction, fixed by the task, never guessed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Objective:
    """A score's name and direction. Prediction metrics extend it with how they are computed."""

    name: str
    higher_is_better: bool

    def better(self, a: float, b: float) -> bool:
        """True if score ``a`` is strictly better than ``b``."""
        return a > b if self.higher_is_better else a < b

    def sort_key(self, score: float) -> float:
        """A key where smaller is better, for sorting candidates."""
        return -score if self.higher_is_better else score

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"
