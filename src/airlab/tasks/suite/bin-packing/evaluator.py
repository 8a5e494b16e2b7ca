"""Online bin packing with a candidate's priority function (FunSearch's Weibull benchmark).

Each instance is a sequence of items drawn from a seed: sizes ~ Weibull(shape 3, scale 45),
rounded, clipped to [1, 100]; bin capacity 100 (as the Weibull instances of Romera-Paredes et al.,
2023, with fewer items). Items arrive one at a time; for each, the harness calls the candidate's
``priority(item, bins)`` with the remaining capacities of the open bins the item fits into and
puts the item into the bin with the highest priority (the first of equal ones); when no open bin
can hold it a new bin is opened, without a call. Bins never close.

The score of an instance is the excess of the bins used over the L1 lower bound
ceil(sum(items) / capacity), in percent; a role's score is the mean over its instances (lower is
better; 0 is the bound, which is not always reachable).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from airlab.tasks.program.harness import Candidate, Rejected, RoleSet

CAPACITY = 100.0
DEFAULTS: dict[str, Any] = {"items": 250, "shape": 3.0, "scale": 45.0}


def items_for(instance: int, role_seed: int, settings: dict[str, Any]) -> list[float]:
    """The item sizes of one instance: seeded by the instance and the role's seed."""
    rng = np.random.default_rng([int(role_seed), int(instance)])
    sizes = np.clip(np.round(float(settings["scale"]) * rng.weibull(float(settings["shape"]), int(settings["items"]))),
                    1.0, CAPACITY)
    return [float(v) for v in sizes]


def _best(scores: Any, n: int) -> int:
    """The index of the highest score, after checking the answer is n finite numbers."""
    if not isinstance(scores, list):
        raise Rejected(f"priority() returned {type(scores).__name__} {str(scores)[:80]}; it must return a list "
                       "with one number per bin")
    if len(scores) != n:
        raise Rejected(f"priority() returned {len(scores)} scores for {n} bins; it must return one number per bin")
    best, best_score = 0, -math.inf
    for k, value in enumerate(scores):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
            raise Rejected(f"priority() returned {str(value)[:40]!s} as a score; each score must be a finite number")
        if float(value) > best_score:
            best, best_score = k, float(value)
    return best


def pack(session: Any, items: list[float]) -> int:
    """Pack the items online with the candidate's priority function; the number of bins used."""
    bins: list[float] = []
    for item in items:
        fits = [i for i, room in enumerate(bins) if room >= item]
        if not fits:
            bins.append(CAPACITY - item)
            continue
        scores = session.call("priority", item, [bins[i] for i in fits])
        bins[fits[_best(scores, len(fits))]] -= item
    return len(bins)


def evaluate(candidate: Candidate, role: RoleSet) -> float:
    """Mean percentage of bins above the L1 lower bound over the role's instances."""
    unknown = set(role.settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown bin-packing settings: {', '.join(sorted(unknown))}")
    settings = DEFAULTS | role.settings
    excess = []
    with candidate.connect("heuristic.py") as session:
        for instance in role.instances:
            items = items_for(instance, role.seed, settings)
            bound = math.ceil(sum(items) / CAPACITY)
            excess.append(100.0 * (pack(session, items) / bound - 1.0))
    return round(float(np.mean(excess)), 4)
