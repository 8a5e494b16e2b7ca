"""What operators remember: sibling plans, ancestral bugs, summaries of good nodes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from airlab.search.journal import Journal
from airlab.search.node import Operator


class Memory(BaseModel):
    sibling_plans: list[str] = Field(default_factory=list)  # ideas already tried from the same parent(s)
    sibling_families: list[str] = Field(default_factory=list)  # model families already drafted/tried
    ancestral_bugs: list[str] = Field(default_factory=list)  # errors along a debug chain, oldest first
    good_summaries: list[str] = Field(default_factory=list)  # best nodes so far, one line each
    tried_ideas: list[str] = Field(default_factory=list)  # every node's idea key (``meta["idea"]``), if its coder keys ideas


def build_memory(journal: Journal, operator: Operator, parents: list[int], max_good: int = 5) -> Memory:
    if operator == Operator.DRAFT:
        siblings = journal.drafts
    else:
        siblings = [n for n in journal if n.parents == parents and n.operator == operator]
    bugs: list[str] = []
    if operator == Operator.DEBUG and parents:
        chain = [journal[parents[0]], *journal.ancestors(parents[0])]
        for node in reversed(chain):
            if node.status.needs_debug and node.error:
                bugs.append(f"node {node.id} ({node.status.value}): {node.error}")
    good = [
        f"node {n.id} [{n.family or '?'}] search {n.search_score:.5g}: {n.plan.splitlines()[0] if n.plan else ''}"
        for n in journal.ranked()[:max_good]
    ]
    return Memory(
        sibling_plans=[n.plan for n in siblings if n.plan],
        sibling_families=[n.family for n in siblings if n.family],
        ancestral_bugs=bugs,
        good_summaries=good,
        tried_ideas=[str(n.meta["idea"]) for n in journal if n.meta.get("idea")],
    )
