"""The offline agent against AutoML (FLAML) at equal data and equal wall-clock budget.

    .venv/bin/pip install 'flaml[automl]'            # benchmark-only dependency
    .venv/bin/python benchmarks/vs_automl.py --budget 30 --seeds 0,1,2,3,4 [--tasks a,b] [--jobs 2] [--write]

Every (system, task, seed) cell runs in its own interpreter on one core, ``--jobs`` cells at a time;
finished cells are appended to ``--records`` so an interrupted grid resumes where it stopped.
For every built-in tabular task and split seed:
- **airlab**: `airlab run` with the offline coder and its defaults (warm workers, greedy search,
  ensemble of nodes), hidden K-fold evaluation (`auto`), the given wall budget (`--budget-time`),
  and the default `--refit auto`; the final answer's test score and the unrefitted one are recorded.
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
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, paired_ci, run_isolated, write_section

from airlab import api
from airlab.coders.offline.families import CATALOGUE
from airlab.rundir import RefitMode, RunConfig
from airlab.tasks import known_task_ids
from airlab.tasks.loader import task_card
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.submission import ID, Grader
from airlab.tasks.prediction.task import PredictionTask, prediction_task
from airlab.tasks.prediction.views import refit_view

SECTION = "## Offline agent against AutoML (FLAML)"


def prediction_task_ids() -> list[str]:
    """The built-in prediction tasks (``known_task_ids`` also lists program tasks), read from their files."""
    return [task_id for task_id in known_task_ids() if task_card(task_id)["kind"] != "program"]


def tabular_tasks() -> list[str]:
    out = []
    for task_id in prediction_task_ids():
        task = prediction_task(task_id)
        if task.spec.modality.value in ("tabular", "image") and task.spec.kind.value != "forecasting":
            out.append(task_id)
    return out


def _frame(task: PredictionTask, view_train: pd.DataFrame, predict: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    target = task.spec.target
    X = view_train.drop(columns=[target])
    y = view_train[target]
    Xp = predict.drop(columns=[ID])
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype("category")
            Xp[col] = pd.Categorical(Xp[col], categories=X[col].cat.categories)
    return X, y, Xp


def _submission(task: PredictionTask, model: object, Xp: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    metric = task.spec.metric_info
    target = task.spec.target
    if metric.prediction == "value":
        return pd.DataFrame({ID: ids, target: np.asarray(model.predict(Xp), dtype=np.float64)})  # type: ignore[attr-defined]
    proba = pd.DataFrame(model.predict_proba(Xp), columns=[str(c) for c in model.classes_])  # type: ignore[attr-defined]
    proba = proba.reindex(columns=task.classes, fill_value=0.0)
    proba = proba.div(proba.sum(axis=1), axis=0)
    if metric.prediction == "label":
        return pd.DataFrame({ID: ids, target: proba.idxmax(axis=1)})
    return pd.concat([ids.reset_index(drop=True).rename(ID), proba], axis=1)


FLAML_METRIC = {"accuracy": "accuracy", "roc_auc": "roc_auc", "log_loss": "log_loss", "macro_f1": "macro_f1",
                "rmse": "rmse", "mae": "mae", "r2": "r2"}


def run_flaml(task: PredictionTask, seed: int, budget: float) -> tuple[float, float]:
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


def run_random_search(task: PredictionTask, seed: int, budget: float) -> tuple[float, float]:
    """Random families and settings; pick by a hold-out of the usable rows; refit the best."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

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
    while time.time() - start < budget * 0.8:
        fam = rng.choice(CATALOGUE[problem])
        params = {k.name: rng.choice(k.values) for k in fam.knobs}
        estimator = fam.build(params, seed)
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


def run_airlab(task_id: str, seed: int, budget: float, out: Path,
               refit: RefitMode = "auto") -> dict[str, object]:
    start = time.time()
    result = api.run(RunConfig(task=task_id, seed=seed, split_seed=seed, budget_nodes=None, budget_time=budget,
                               eval_folds="auto", refit=refit, cpus=1, workers=1), out=out)
    answer = result.refit_test_score if result.refit_test_score is not None else result.test_score
    return {"airlab_plain": result.test_score, "airlab_refit": answer, "refitted": result.refit_test_score is not None,
            "final": result.final, "nodes": result.n_nodes, "airlab_s": time.time() - start}


def run_one(system: str, task_id: str, seed: int, budget: float) -> dict[str, object]:
    """One (system, task, seed) cell, on one core."""
    task = prediction_task(task_id)
    if system == "airlab":
        with tempfile.TemporaryDirectory(prefix="airlab-vs-automl-") as out:
            return run_airlab(task_id, seed, budget, Path(out))
    if system == "flaml":
        score, seconds = run_flaml(task, seed, budget)
        return {"flaml": score, "flaml_s": seconds}
    score, seconds = run_random_search(task, seed, budget)
    return {"random": score, "random_s": seconds}


def _cell(args: tuple[str, str, int, float]) -> tuple[str, int, dict[str, object]]:
    system, task_id, seed, budget = args
    return task_id, seed, run_isolated(__file__, [system, task_id, str(seed), str(budget)]) or {}


def table(frame: pd.DataFrame, command: str, budget: float) -> str:
    lines = [
        SECTION, "",
        f"Machine: {machine()}. Command: `{command}`. Every (system, task, seed) cell runs alone on one core "
        f"(two cells at a time on the two cores) with the same {budget:g} s wall budget. FLAML and random search "
        "get train + search + val rows; airlab searches with hidden K-fold evaluation (`auto`), builds its "
        "ensemble, refits the final answer on the same rows (`--refit auto`: unless the answer is already a vote "
        "of K fold runs on a label metric), and counts the refit in its wall time. "
        "All are scored on the same hidden test rows.",
        "",
        "| task | metric | seeds | airlab | airlab without refit | FLAML | random search "
        "| airlab − FLAML (95% CI, + = airlab better) | verdict | ensemble chosen | mean seconds airlab / FLAML / random |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = {"win": 0, "tie": 0, "loss": 0}
    refit_gain = []
    for task_id, group in frame.groupby("task", sort=False):
        sign = 1.0 if group["hib"].iloc[0] else -1.0
        mean, low, high = paired_ci(sign * (group["airlab_refit"] - group["flaml"]).to_numpy(dtype=float))
        verdict = "win" if low > 0 else "loss" if high < 0 else "tie"
        verdicts[verdict] += 1
        refitted = group[group["refitted"]]
        if len(refitted) > 1:
            refit_gain.append(paired_ci(sign * (refitted["airlab_refit"] - refitted["airlab_plain"]).to_numpy(dtype=float)))
        arrow = "↑" if group["hib"].iloc[0] else "↓"
        lines.append(
            f"| {task_id} | {group['metric'].iloc[0]} {arrow} | {len(group)} | {group['airlab_refit'].mean():.4g} "
            f"| {group['airlab_plain'].mean():.4g} | {group['flaml'].mean():.4g} | {group['random'].mean():.4g} "
            f"| {mean:+.4g} [{low:+.4g}, {high:+.4g}] | {verdict} | {(group['final'] == 'ensemble').sum()}/{len(group)} "
            f"| {group['airlab_s'].mean():.0f} / {group['flaml_s'].mean():.0f} / {group['random_s'].mean():.0f} |"
        )
    better = sum(1 for m, lo, _ in refit_gain if lo > 0)
    worse = sum(1 for m, _, hi in refit_gain if hi < 0)
    lines += [
        "", f"**Summary: {verdicts['win']} wins, {verdicts['tie']} ties, {verdicts['loss']} losses** over "
        f"{frame['task'].nunique()} tasks, {len(frame)} (task, seed) pairs.",
        "", f"Refit against averaging the K fold runs (same runs, on the {len(refit_gain)} tasks whose runs refit): "
        f"the refit is better on {better} tasks, worse on "
        f"{worse}, and within noise on {len(refit_gain) - better - worse} (paired 95% t intervals per task); it "
        f"improves the mean score on {sum(1 for m, _, _ in refit_gain if m > 0)} of {len(refit_gain)} tasks.", "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=30)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--tasks", default=None)
    parser.add_argument("--jobs", type=int, default=2, help="cells run at once, one core each")
    parser.add_argument("--records", type=Path, default=Path("benchmarks/vs_automl_records.jsonl"),
                        help="one JSON line per finished cell; cells already there are not run again")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-run", action="store_true", help="only tabulate the cells already in --records")
    parser.add_argument("--one", nargs=4, metavar=("SYSTEM", "TASK", "SEED", "BUDGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        system, task_id, seed, budget = args.one
        print(json.dumps(run_one(system, task_id, int(seed), float(budget))))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",") if args.tasks else tabular_tasks()
    done: dict[tuple[str, int, str], dict[str, object]] = {}
    if args.records.exists():
        for line in args.records.read_text().splitlines():
            rec = json.loads(line)
            if rec["budget"] == args.budget:
                done[(rec["task"], rec["seed"], rec["system"])] = rec["values"]
    # seed by seed, so a grid stopped part-way still has every task at the seeds it finished
    cells = [(system, t, s, args.budget) for s in seeds for t in tasks for system in ("airlab", "flaml", "random")
             if (t, s, system) not in done and not args.no_run]
    with Progress() as progress, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        bar = progress.add_task("airlab vs FLAML vs random search", total=len(cells))
        futures = {pool.submit(_cell, cell): cell for cell in cells}
        for future in futures:
            task_id, seed, values = future.result()
            system = futures[future][0]
            progress.advance(bar)
            if not values:
                continue
            done[(task_id, seed, system)] = values
            with args.records.open("a") as handle:
                handle.write(json.dumps({"task": task_id, "seed": seed, "system": system, "budget": args.budget,
                                         "values": values}) + "\n")
    rows = []
    for t in tasks:
        task = prediction_task(t)
        for seed in seeds:
            parts = [done.get((t, seed, system)) for system in ("airlab", "flaml", "random")]
            if all(parts):
                rows.append({"task": t, "seed": seed, **{k: v for p in parts for k, v in p.items()},  # type: ignore[union-attr]
                             "hib": task.spec.metric_info.higher_is_better, "metric": task.spec.metric})
    frame = pd.DataFrame(rows).astype({"airlab_refit": float, "airlab_plain": float, "flaml": float, "random": float})
    # cells recorded before `--refit auto` always refitted
    frame["refitted"] = frame["refitted"].fillna(True).astype(bool) if "refitted" in frame else True
    command = (f".venv/bin/python benchmarks/vs_automl.py --budget {args.budget:g} --seeds {args.seeds}"
               + (f" --tasks {args.tasks}" if args.tasks else ""))
    text = table(frame, command, args.budget)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
