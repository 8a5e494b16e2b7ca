"""Final selection: the top-k nodes by search score, then the best of those by val score.

The val score is used here once, after the search; the oracle best test score is recorded too,
so the gap between what was selected and what was best is visible.
"""

from __future__ import annotations

from pydantic import BaseModel

from airlab.search.journal import Journal
from airlab.search.node import HiddenScores, Node


class Selection(BaseModel):
    selected_node: int | None = None
    search_score: float | None = None
    val_score: float | None = None
    test_score: float | None = None
    top_k: list[int] = []
    oracle_node: int | None = None
    oracle_test_score: float | None = None


def select_final(journal: Journal, hidden: dict[int, HiddenScores], k: int = 3) -> Selection:
    metric = journal.metric
    ranked = journal.ranked()
    if not ranked:
        return Selection()
    top = ranked[: max(1, k)]

    def val_key(node_id: int, rank: int) -> tuple[float, int]:
        val = hidden.get(node_id, HiddenScores(node_id=node_id)).val
        return (metric.sort_key(val) if val is not None else float("inf"), rank)

    _best_rank, best = min(enumerate(top), key=lambda item: val_key(item[1].id, item[0]))
    scores = hidden.get(best.id, HiddenScores(node_id=best.id))
    with_test = [(n, hidden[n.id].test) for n in ranked if n.id in hidden and hidden[n.id].test is not None]
    oracle = min(with_test, key=lambda item: (metric.sort_key(float(item[1])), item[0].id)) if with_test else None  # type: ignore[arg-type]
    return Selection(
        selected_node=best.id,
        search_score=best.search_score,
        val_score=scores.val,
        test_score=scores.test,
        top_k=[n.id for n in top],
        oracle_node=oracle[0].id if oracle else None,
        oracle_test_score=oracle[1] if oracle else None,
    )


ENSEMBLE_POOL = 20  # the best nodes by search score that the ensemble may draw on


def ensemble_pool(journal: Journal, size: int = ENSEMBLE_POOL) -> list[Node]:
    """The ``size`` best nodes by search score, plus the best node of every other model family:
    an ensemble gains most from members that err differently."""
    ranked = journal.ranked()
    chosen = ranked[:size]
    families = {n.family for n in chosen}
    for node in ranked[size:]:
        if node.family not in families:
            chosen.append(node)
            families.add(node.family)
    return chosen
