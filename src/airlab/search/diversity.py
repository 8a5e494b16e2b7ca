"""Ideation diversity: Shannon entropy over the model families of the drafts."""

from __future__ import annotations

import math
from collections import Counter

from airlab.search.journal import Journal


def draft_families(journal: Journal) -> list[str]:
    return [n.family or "unknown" for n in journal.drafts]


def shannon_entropy(labels: list[str]) -> float:
    """Entropy in bits; 0 for no labels or a single family."""
    if not labels:
        return 0.0
    counts = Counter(labels)
    total = len(labels)
    return -sum((c / total) * math.log2(c / total) for c in counts.values())
