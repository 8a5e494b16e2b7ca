import numpy as np
import pandas as pd

from airlab.tasks import load_task
from airlab.tasks.prediction.splits import assign_roles, make_splits


def test_splits_are_deterministic_and_seeded() -> None:
    task = load_task("wine")
    a, b = make_splits(task, 0), make_splits(task, 0)
    pd.testing.assert_frame_equal(a.predict, b.predict)
    pd.testing.assert_frame_equal(a.answers, b.answers)
    c = make_splits(task, 1)
    assert set(c.predict["id"]) != set(a.predict["id"])


def test_stratified_classification() -> None:
    task = load_task("breast-cancer")
    roles = assign_roles(task, 0)
    y = task.frame[task.spec.target]
    overall = (y == "malignant").mean()
    for role in ("train", "search", "val", "test"):
        share = (y[roles == role] == "malignant").mean()
        assert abs(share - overall) < 0.03, role


def test_predict_file_is_shuffled_with_opaque_ids() -> None:
    task = load_task("iris")
    s = make_splits(task, 0)
    ids = s.predict["id"]
    assert ids.is_unique and ids.str.fullmatch(r"[0-9a-f]{10}").all()
    # roles are interleaved in the predict file, not in blocks
    role_of = s.answers.set_index("id")["role"]
    seq = role_of.loc[ids].to_numpy()
    changes = (seq[1:] != seq[:-1]).sum()
    assert changes > len(seq) / 4


def test_temporal_split_for_forecasting() -> None:
    task = load_task("co2")
    s = make_splits(task, 0)
    last_train = pd.to_datetime(s.train["month"]).max()
    held = pd.to_datetime(s.predict["month"])
    assert (held > last_train).all()
    roles = s.answers.set_index("id")["role"]
    # search, val and test all span the same horizon
    for role in ("search", "val", "test"):
        months = pd.to_datetime(s.predict.set_index("id").loc[roles[roles == role].index, "month"])
        assert months.min() < held.quantile(0.25) and months.max() > held.quantile(0.75)


def test_grouped_split_keeps_groups_together() -> None:
    task = load_task("exam-scores")
    roles = assign_roles(task, 0)
    groups = task.frame["school"].to_numpy()
    for g in np.unique(groups):
        assert len(set(roles[groups == g])) == 1
    assert set(roles) == {"train", "search", "val", "test"}


def test_no_hidden_label_in_agent_files() -> None:
    task = load_task("diabetes")
    s = make_splits(task, 0)
    assert "progression" not in s.predict.columns
    assert len(set(s.train.index)) == len(s.train)
    # train rows and held-out rows are disjoint
    feats = [c for c in s.predict.columns if c != "id"]
    merged = s.train[feats].merge(s.predict[feats], how="inner")
    assert len(merged) == 0
