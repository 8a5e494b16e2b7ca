"""The offline agent against AutoML (FLAML) at equal data and equal wall-clock budget.

    .venv/bin/pip install 'flaml[automl]'            # benchmark-only dependency
    .venv/bin/python benchmarks/vs_automl.py --budget 60 --seeds 0,1,2,3,4 [--tasks a,b] [--write]

For every built-in tabular task and split seed:
- **airlab**: `airlab run` with the offline coder, hidden K-fold evaluation (`auto`), the given wall
  budget (`--budget-time`), refit of the selected script; its test score is the refit's (or the
  selected node's when the refit failed).
- **FLAML**: `AutoML.fit` on ALL labelled rows airlab may use (train + search + val), `time_budget`
  equal to airlab's budget; its wall time is recorded (FLAML can overrun).
- **random search**: the floor — random model families and settings from the offline coder's
  catalogue, each scored on a hold-out of the same rows, the best refitted on all of them, within the
  same budget.
All three are scored on the same hidden test rows by the harness's grader. Per task: mean over
seeds, the paired difference airlab - FLAML (oriented so positive = airlab better) with a t
interval, and the verdict (win / loss / tie when the interval spans zero).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import track
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section

from airlab import api
from airlab.rundir import RunConfig
from airlab.tasks import known_task_ids, load_task
from airlab.tasks.folds import refit_view
from airlab.tasks.grader import Grader
from airlab.tasks.loader import Task
from airlab.tasks.splits import ID, make_splits

SECTION = "## Offline agent against AutoML (FLAML)"


def tabular_tasks() -> list[str]:
    out = []
    for task_id in known_task_ids():
        task = load_task(task_id)
        if task.spec.modality.value in ("tabular", "image") and task.spec.kind.value != "forecasting":
            out.append(task_id)
    return out


def _frame(task: Task, view_train: pd.DataFrame, predict: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    target = task.spec.target
    X = view_train.drop(columns=[target])
    y = view_train[target]
    Xp = predict.drop(columns=[ID])
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype("category")
            Xp[col] = pd.Categorical(Xp[col], categories=X[col].cat.categories)
    return X, y, Xp


def _submission(task: Task, model: object, Xp: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    metric = task.spec.metric_info
    target = task.spec.target
    if metric.prediction == "value":
        return pd.DataFrame({ID: ids, target: np.asarray(model.predict(Xp), dtype=float)})  # type: ignore[attr-defined]
    proba = pd.DataFrame(model.predict_proba(Xp), columns=[str(c) for c in model.classes_])  # type: ignore[attr-defined]
    proba = proba.reindex(columns=task.classes, fill_value=0.0)
    proba = proba.div(proba.sum(axis=1), axis=0)
    if metric.prediction == "label":
        return pd.DataFrame({ID: ids, target: proba.idxmax(axis=1)})
    return pd.concat([ids.reset_index(drop=True).rename(ID), proba], axis=1)


FLAML_METRIC = {"accuracy": "accuracy", "roc_auc": "roc_auc", "log_loss": "log_loss", "macro_f1": "macro_f1",
                "rmse": "rmse", "mae": "mae", "r2": "r2"}


def run_flaml(task: Task, seed: int, budget: float) -> tuple[float, float]:
    from flaml import AutoML

    view = refit_view(task, make_splits(task, seed))
    X, y, Xp = _frame(task, view.train, view.predict)
    automl = AutoML()
    start = time.time()
    task_type = "classification" if task.spec.kind.is_classification else "regression"
    automl.fit(X, y, task=task_type, time_budget=budget, metric=FLAML_METRIC[task.spec.metric], seed=seed,
               verbose=0, n_jobs=1)
    sub = _submission(task, automl, Xp, view.predict[ID])
    seconds = time.time() - start
    grade = Grader(task, view).grade_frame(sub, roles=("test",))
    return (grade.scores["test"] if grade.valid else float("nan")), seconds


def run_random_search(task: Task, seed: int, budget: float) -> tuple[float, float]:
    """Random families and settings; pick by a hold-out of the usable rows; refit the best."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from airlab.coders.offline.families import CATALOGUE

    rng = random.Random(seed)
    view = refit_view(task, make_splits(task, seed))
    target = task.spec.target
    X = view.train.drop(columns=[target])
    y = view.train[target].astype(str) if task.spec.kind.is_classification else view.train[target]
    Xp = view.predict.drop(columns=[ID])
    numeric = X.select_dtypes(include="number").columns.tolist()
    categorical = [c for c in X.columns if c not in numeric]
    for frame in (X, Xp):
        for c in categorical:
            frame[c] = frame[c].astype(str)
    problem = "classification" if task.spec.kind.is_classification else "regression"
    metric = task.spec.metric_info
    strat = y if task.spec.kind.is_classification else None
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=strat)
    start = time.time()
    best: tuple[float, object] | None = None
    namespace: dict[str, object] = {"THREADS": 1}
    for fam in CATALOGUE[problem]:
        for line in fam.imports:
            exec(line, namespace)
    while time.time() - start < budget * 0.8:
        fam = rng.choice(CATALOGUE[problem])
        params = {k.name: rng.choice(k.values) for k in fam.knobs}
        estimator = eval(fam.render(params, seed), namespace)
        prep = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), categorical),
        ])
        model = make_pipeline(prep, estimator)
        try:
            model.fit(Xa, ya)
            sub = _submission(task, model, Xb.assign(**{ID: range(len(Xb))}).drop(columns=[ID]),
                              pd.Series([str(i) for i in range(len(Xb))]))
            pred = sub.drop(columns=[ID])
            truth = yb.astype(str).to_numpy() if task.spec.kind.is_classification else yb.to_numpy(dtype=float)
            if metric.prediction == "proba":
                value = metric.score(truth, pred[task.classes].to_numpy(), Grader(task, view).context)
            else:
                value = metric.score(truth, pred.iloc[:, 0].to_numpy(), Grader(task, view).context)
        except Exception:
            continue
        if best is None or metric.better(value, best[0]):
            best = (value, model)
    if best is None:
        return float("nan"), time.time() - start
    model = best[1]
    model.fit(X, y)  # type: ignore[attr-defined]
    sub = _submission(task, model, Xp, view.predict[ID])
    grade = Grader(task, view).grade_frame(sub, roles=("test",))
    return (grade.scores["test"] if grade.valid else float("nan")), time.time() - start


def run_airlab(task_id: str, seed: int, budget: float, out: Path) -> tuple[float, float]:
    start = time.time()
    result = api.run(RunConfig(task=task_id, seed=seed, split_seed=seed, budget_nodes=None, budget_time=budget,
                               eval_folds="auto", refit=True), out=out)
    score = result.refit_test_score if result.refit_test_score is not None else result.test_score
    return (float("nan") if score is None else score), time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=60)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--tasks", default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",") if args.tasks else tabular_tasks()
    out = Path(tempfile.mkdtemp(prefix="airlab-vs-automl-"))
    records = []
    for task_id, seed in track([(t, s) for t in tasks for s in seeds], description="airlab vs FLAML"):
        task = load_task(task_id)
        a, a_sec = run_airlab(task_id, seed, args.budget, out)
        f, f_sec = run_flaml(task, seed, args.budget)
        r, r_sec = run_random_search(task, seed, args.budget)
        records.append(dict(task=task_id, seed=seed, airlab=a, flaml=f, random=r, airlab_s=a_sec, flaml_s=f_sec,
                            random_s=r_sec, hib=task.spec.metric_info.higher_is_better, metric=task.spec.metric))
        print(records[-1], flush=True)
    frame = pd.DataFrame(records)
    lines = [
        SECTION, "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/vs_automl.py --budget {args.budget:g} "
        f"--seeds {args.seeds}{' --tasks ' + args.tasks if args.tasks else ''}`. Same wall budget for all three; "
        "FLAML and random search get train + search + val rows; airlab uses hidden K-fold evaluation (auto) and "
        "refits the selected script on the same rows. All scored on the same hidden test rows.",
        "",
        "| task | metric | airlab | FLAML | random search | airlab − FLAML (95% CI, + = airlab better) | verdict | mean seconds airlab / FLAML / random |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = {"win": 0, "tie": 0, "loss": 0}
    for task_id, group in frame.groupby("task", sort=False):
        sign = 1.0 if group["hib"].iloc[0] else -1.0
        diff = sign * (group["airlab"] - group["flaml"]).to_numpy()
        diff = diff[np.isfinite(diff)]
        mean = float(diff.mean()) if len(diff) else float("nan")
        if len(diff) > 1 and diff.std(ddof=1) > 0:
            half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)))
        else:
            half = 0.0
        low, high = mean - half, mean + half
        verdict = "win" if low > 0 else "loss" if high < 0 else "tie"
        verdicts[verdict] += 1
        arrow = "↑" if group["hib"].iloc[0] else "↓"
        lines.append(
            f"| {task_id} | {group['metric'].iloc[0]} {arrow} | {group['airlab'].mean():.4g} | {group['flaml'].mean():.4g} "
            f"| {group['random'].mean():.4g} | {mean:+.4g} [{low:+.4g}, {high:+.4g}] | {verdict} "
            f"| {group['airlab_s'].mean():.0f} / {group['flaml_s'].mean():.0f} / {group['random_s'].mean():.0f} |"
        )
    lines += ["", f"**Summary: {verdicts['win']} wins, {verdicts['tie']} ties, {verdicts['loss']} losses** "
              f"over {frame['task'].nunique()} tasks × {len(seeds)} seeds.", ""]
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section(SECTION, table)


if __name__ == "__main__":
    main()
