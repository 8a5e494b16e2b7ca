"""The held-out suite: ten tabular tasks from package data, disjoint from the built-in suite."""

from __future__ import annotations

import pytest

from airlab.errors import UnknownTaskError
from airlab.tasks.loader import heldout_task_ids, known_task_ids, load_task, task_card

# fixed before airlab ran on any of them; a change here changes what every held-out table means
HELDOUT = ["carseats", "computers", "cpus", "credit-card", "glass", "hitters", "oj", "pima", "salaries", "womenlf"]


def test_the_held_out_list_is_the_fixed_one_and_shares_nothing_with_the_built_in_suite() -> None:
    assert heldout_task_ids() == [f"heldout:{t}" for t in HELDOUT]
    assert not set(HELDOUT) & set(known_task_ids())


@pytest.mark.parametrize("ref", [f"heldout:{t}" for t in HELDOUT])
def test_every_held_out_task_loads_from_package_data(ref: str) -> None:
    task = load_task(ref)
    card = task_card(ref)
    assert card["id"] == ref.partition(":")[2] and task.kind == card["kind"]
    assert task.kind in ("regression", "binary", "multiclass")
    assert task.frame[task.spec.target].notna().all() and len(task.frame) >= 200  # type: ignore[attr-defined]


def test_an_unknown_held_out_id_names_the_suite() -> None:
    with pytest.raises(UnknownTaskError, match="held-out suite has: heldout:carseats"):
        load_task("heldout:boston")
