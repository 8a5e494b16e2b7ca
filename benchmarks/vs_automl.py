"""The offline agent against AutoML (FLAML, AutoGluon) and a random-search floor, at equal rows and
equal wall-clock budget.

    .venv/bin/python benchmarks/vs_automl.py --suite heldout --seeds 100,101,102 --budget 30 [--write]
    .venv/bin/python benchmarks/vs_automl.py --suite builtin --seeds 100,101,102 --budget 30 [--write]
    .venv/bin/python benchmarks/vs_automl.py --suite builtin --seeds 0,1,2 --scored-on val   # tuning only

Seeds have roles (``_common.TUNING_SEEDS`` / ``REPORT_SEEDS``): a default may be chosen only on tuning
seeds scored on val rows; results are report seeds scored on test rows. The held-out suite
(``heldout:<id>``) is never tuned on: ``--scored-on val`` refuses it. The tuning suite
(``benchmarks/tuning_tasks``: tables from package data outside both suites) is tuned on only.

The peers run in their own virtual environment, ``.venv-peers`` (their pins clash with airlab's), made
on first use from the pinned requirements below. Every (system, task, seed) cell runs in its own
interpreter on one core, ``--jobs`` cells at a time; finished cells are appended to ``--records`` so an
interrupted grid resumes where it stopped. For each task and split seed:
- **airlab**: `airlab run` with the offline coder and its defaults (warm workers, greedy search,
  ensemble of nodes), hidden K-fold evaluation (`auto`), the wall budget (`--budget-time`) and
  ``--refit auto``. On test, the final answer (refitted where airlab refits) is scored; on val the
  run does not refit (a refit would train on val) and the final answer's val score is taken.
- **FLAML** and **AutoGluon** (default presets): fitted on ALL the rows airlab may use (train + search
  + val; train + search when scored on val), ``time_budget`` / ``time_limit`` equal to airlab's budget,
  one core; their wall time is recorded (both can overrun).
- **random search**: the floor: random model families and settings from the offline coder's
  catalogue, each scored on a hold-out of the same rows, the best refitted on all of them, within the
  same budget.
All are scored on the same hidden rows by the harness's grader. Per task: the mean over seeds, and the
paired difference airlab − peer (positive = airlab better) with a 95% t interval: a win or loss when
the interval excludes zero, else a tie.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, paired_ci, run_isolated, seed_note, seed_role, write_section

from airlab import api
from airlab.coders.offline.families import CATALOGUE
from airlab.execution.sandbox import THREAD_VARS
from airlab.rundir import RefitMode, RunConfig
from airlab.tasks import known_task_ids
from airlab.tasks.loader import heldout_task_ids, task_card
from airlab.tasks.prediction.splits import HiddenSplits, make_splits
from airlab.tasks.prediction.submission import ID, Grader
from airlab.tasks.prediction.task import PredictionTask, prediction_task
from airlab.tasks.prediction.views import refit_view, widened_view

SYSTEMS = ("airlab", "flaml", "autogluon", "random")
PEERS = ("flaml", "autogluon")
NAMES = {"airlab": "airlab", "flaml": "FLAML", "autogluon": "AutoGluon", "random": "random search"}
ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / ".venv-peers"
PEER_REQUIREMENTS = ["flaml[automl]==2.8.0", "autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3", "pyarrow"]
PEER_SCRIPT = Path(__file__).resolve().parent / "_automl_peer.py"
DEFAULT_RECORDS = Path("benchmarks/vs_automl_records.jsonl")


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


def tuning_view(task: PredictionTask, base: HiddenSplits) -> HiddenSplits:
    """Train on train + search; predict and score the val rows only (the tuning view of a split)."""
    return widened_view(task, base, ("search",), "val")


def cell_view(task: PredictionTask, seed: int, scored_on: str) -> HiddenSplits:
    base = make_splits(task, seed)
    return refit_view(task, base) if scored_on == "test" else tuning_view(task, base)


def _score(task: PredictionTask, view: HiddenSplits, sub: pd.DataFrame, scored_on: str) -> float:
    grade = Grader(task, view).grade_frame(sub, roles=(scored_on,))  # type: ignore[arg-type]
    return grade.scores[scored_on] if grade.valid else float("nan")


def _submission(task: PredictionTask, pred: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """A submission from a peer's or a model's predictions: a ``value`` column, or one probability
    column per class."""
    metric = task.spec.metric_info
    target = task.spec.target
    ids = ids.reset_index(drop=True)
    if metric.prediction == "value":
        return pd.DataFrame({ID: ids, target: np.asarray(pred["value"], dtype=np.float64)})
    proba = pred.reset_index(drop=True).reindex(columns=task.classes, fill_value=0.0)
    proba = proba.div(proba.sum(axis=1), axis=0)
    if metric.prediction == "label":
        return pd.DataFrame({ID: ids, target: proba.idxmax(axis=1)})
    return pd.concat([ids.rename(ID), proba], axis=1)


def model_predictions(task: PredictionTask, model: object, rows: pd.DataFrame) -> pd.DataFrame:
    """A fitted scikit-learn model's predictions in the form :func:`_submission` takes."""
    if task.spec.metric_info.prediction == "value":
        return pd.DataFrame({"value": model.predict(rows)})  # type: ignore[attr-defined]
    return pd.DataFrame(model.predict_proba(rows), columns=[str(c) for c in model.classes_])  # type: ignore[attr-defined]


def model_submission(task: PredictionTask, model: object, rows: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    return _submission(task, model_predictions(task, model, rows), ids)


def ensure_peers() -> Path:
    """The peers' interpreter, made on first use."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEERS_VENV} for FLAML and AutoGluon (once, a few minutes)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS], check=True)
    return python


def run_peer(system: str, task: PredictionTask, seed: int, budget: float, scored_on: str) -> dict[str, object]:
    """FLAML or AutoGluon on the cell's rows, in the peers' interpreter; graded here."""
    view = cell_view(task, seed, scored_on)
    target = task.spec.target
    with tempfile.TemporaryDirectory(prefix=f"airlab-{system}-") as folder_name:
        folder = Path(folder_name)
        view.train.drop(columns=[target]).to_parquet(folder / "X.parquet")
        view.train[[target]].rename(columns={target: "y"}).to_parquet(folder / "y.parquet")
        view.predict.drop(columns=[ID]).to_parquet(folder / "Xp.parquet")
        problem = "classification" if task.spec.kind.is_classification else "regression"
        (folder / "meta.json").write_text(json.dumps({"problem": problem, "metric": task.spec.metric,
                                                      "classes": task.classes if task.spec.kind.is_classification else []}))
        env = {**os.environ, **{k: "1" for k in THREAD_VARS}}
        start = time.time()
        done = subprocess.run([str(ensure_peers()), str(PEER_SCRIPT), system, str(folder), str(budget), str(seed)],
                              capture_output=True, text=True, env=env)
        wall = time.time() - start
        if done.returncode != 0:
            raise RuntimeError(f"{system} failed:\n{done.stderr[-3000:]}")
        fit_seconds = json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])["seconds"]
        pred = pd.read_parquet(folder / "pred.parquet")
    score = _score(task, view, _submission(task, pred, view.predict[ID]), scored_on)
    return {system: score, f"{system}_s": wall, f"{system}_fit_s": fit_seconds}


def run_random_search(task: PredictionTask, seed: int, budget: float, scored_on: str) -> dict[str, object]:
    """Random families and settings; pick by a hold-out of the usable rows; refit the best."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = random.Random(seed)
    view = cell_view(task, seed, scored_on)
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
    context = Grader(task, view).context
    strat = y if task.spec.kind.is_classification else None
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=strat)
    truth = yb.astype(str).to_numpy() if task.spec.kind.is_classification else yb.to_numpy(dtype=float)

    start = time.time()
    best: tuple[float, object] | None = None
    tried = 0
    while time.time() - start < budget * 0.8:
        fam = rng.choice(CATALOGUE[problem])
        params = {k.name: rng.choice(k.values) for k in fam.knobs}
        prep = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), categorical),
        ])
        model = make_pipeline(prep, fam.build(params, seed))
        tried += 1
        try:
            model.fit(Xa, ya)
            sub = model_submission(task, model, Xb, pd.Series([str(i) for i in range(len(Xb))]))
            pred = sub.drop(columns=[ID])
            values = pred[task.classes].to_numpy() if metric.prediction == "proba" else pred.iloc[:, 0].to_numpy()
            value = metric.score(truth, values, context)
        except Exception:
            continue
        if best is None or metric.better(value, best[0]):
            best = (value, model)
    score = float("nan")
    if best is not None:
        model = best[1]
        model.fit(X, y)  # type: ignore[attr-defined]
        score = _score(task, view, model_submission(task, model, Xp, view.predict[ID]), scored_on)
    return {"random": score, "random_s": time.time() - start, "random_tried": tried}


def run_airlab(task_id: str, seed: int, budget: float, out: Path, scored_on: str,
               refit: RefitMode | None = None) -> dict[str, object]:
    start = time.time()
    if refit is None:
        refit = "auto" if scored_on == "test" else "never"  # a refit trains on the val rows
    result = api.run(RunConfig(task=task_id, seed=seed, split_seed=seed, budget_nodes=None, budget_time=budget,
                               eval_folds="auto", refit=refit, cpus=1, workers=1), out=out)
    if scored_on == "val":
        answer = result.val_score
    else:
        answer = result.refit_test_score if result.refit_test_score is not None else result.test_score
    return {"airlab": answer, "airlab_plain": result.test_score if scored_on == "test" else result.val_score,
            "refitted": result.refit_test_score is not None, "final": result.final, "nodes": result.n_nodes,
            "airlab_s": time.time() - start}


def run_one(system: str, task_id: str, seed: int, budget: float, scored_on: str) -> dict[str, object]:
    """One (system, task, seed) cell, on one core."""
    if system == "airlab":
        with tempfile.TemporaryDirectory(prefix="airlab-vs-automl-") as out:
            return run_airlab(task_id, seed, budget, Path(out), scored_on)
    task = prediction_task(task_id)
    if system in PEERS:
        return run_peer(system, task, seed, budget, scored_on)
    return run_random_search(task, seed, budget, scored_on)


def _cell(args: tuple[str, str, int, float, str]) -> tuple[str, int, dict[str, object]]:
    system, task_id, seed, budget, scored_on = args
    return task_id, seed, run_isolated(__file__, [system, task_id, str(seed), str(budget), scored_on]) or {}


def _mean(values: pd.Series, fmt: str) -> str:
    """A column's mean, or a dash for a system that did not run."""
    return "–" if values.isna().all() else format(values.mean(), fmt)


def section_title(suite: str, role: str, scored_on: str) -> str:
    return f"## Against AutoML and random search: {suite} suite, {role} seeds, scored on {scored_on}"


def table(frame: pd.DataFrame, command: str, budget: float, seeds: list[int], scored_on: str, title: str) -> str:
    rows_used = "train + search + val" if scored_on == "test" else "train + search"
    lines = [
        title, "",
        f"Machine: {machine()}. Command: `{command}`. {seed_note(seeds, scored_on)} Every (system, task, seed) "
        f"cell runs alone on one core (two cells at a time on the two cores) with the same {budget:g} s wall budget. "
        f"FLAML, AutoGluon (default presets) and random search over the offline coder's catalogue fit on "
        f"{rows_used} rows; airlab searches with hidden K-fold evaluation (`auto`), builds its ensemble"
        + (", and refits its final answer on the same rows (`--refit auto`), counting the refit in its wall time."
           if scored_on == "test" else
           " and does not refit (a refit would train on val); its final answer was chosen between the best nodes and "
           "the ensemble by val, so its val score is slightly optimistic.")
        + f" All are scored on the same hidden {scored_on} rows. Differences are airlab − peer, + = airlab better, "
        "with a paired 95% t interval: win or loss when it excludes zero.",
        "",
        "| task | metric | seeds | airlab | FLAML | AutoGluon | random search | airlab − FLAML | airlab − AutoGluon "
        "| airlab − random | airlab nodes | seconds airlab / FLAML / AutoGluon / random |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = {peer: {"win": 0, "tie": 0, "loss": 0} for peer in ("flaml", "autogluon", "random")}
    ahead = {peer: 0 for peer in verdicts}
    for task_id, group in frame.groupby("task", sort=False):
        sign = 1.0 if group["hib"].iloc[0] else -1.0
        cells = []
        for peer in ("flaml", "autogluon", "random"):
            if group[peer].isna().all():
                cells.append("–")
                continue
            mean, low, high = paired_ci(sign * (group["airlab"] - group[peer]).to_numpy(dtype=float))
            verdict = "win" if low > 0 else "loss" if high < 0 else "tie"
            verdicts[peer][verdict] += 1
            ahead[peer] += int(mean > 0)
            cells.append(f"{mean:+.4g} [{low:+.4g}, {high:+.4g}] {verdict}")
        arrow = "↑" if group["hib"].iloc[0] else "↓"
        means = " | ".join(_mean(group[system], ".4g") for system in SYSTEMS)
        seconds = " / ".join(_mean(group[f"{system}_s"], ".0f") for system in SYSTEMS)
        lines.append(f"| {task_id} | {group['metric'].iloc[0]} {arrow} | {len(group)} | {means} "
                     f"| {' | '.join(cells)} | {group['nodes'].mean():.0f} | {seconds} |")
    n_tasks = frame["task"].nunique()
    lines += ["", f"**Summary over {n_tasks} tasks, {len(frame)} (task, seed) pairs** (ahead = a better mean):", ""]
    for peer, counts in verdicts.items():
        if frame[peer].isna().all():
            continue
        lines.append(f"- against {NAMES[peer]}: ahead on {ahead[peer]} of {n_tasks}; {counts['win']} wins, "
                     f"{counts['tie']} ties, {counts['loss']} losses.")
    return "\n".join(lines) + "\n"


TUNING_TASKS = Path(__file__).resolve().parent / "tuning_tasks"


def suite_tasks(suite: str) -> list[str]:
    """``builtin``: airlab's own tabular tasks; ``heldout``: never tuned on; ``tuning``: tasks from package
    data kept for tuning only (``benchmarks/tuning_tasks``), never reported as a result."""
    if suite == "heldout":
        return heldout_task_ids()
    if suite == "tuning":
        return [str(path.relative_to(ROOT)) for path in sorted(TUNING_TASKS.glob("*.yaml"))]
    return tabular_tasks()


def load_records(path: Path, budget: float, scored_on: str) -> dict[tuple[str, int, str], dict[str, object]]:
    done: dict[tuple[str, int, str], dict[str, object]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if rec["budget"] == budget and rec.get("scored_on", "test") == scored_on:
                done[(rec["task"], rec["seed"], rec["system"])] = rec["values"]
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=30)
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--suite", choices=("builtin", "heldout", "tuning"), default="heldout")
    parser.add_argument("--tasks", default=None, help="a subset of the suite's tasks")
    parser.add_argument("--scored-on", choices=("test", "val"), default="test",
                        help="test: a result (report seeds); val: tuning (tuning seeds, never the held-out suite)")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="a subset to run (a table needs all four; a tuning look may need only airlab,random)")
    parser.add_argument("--jobs", type=int, default=2, help="cells run at once, one core each")
    parser.add_argument("--records", type=Path, default=DEFAULT_RECORDS,
                        help="one JSON line per finished cell; cells already there are not run again")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-run", action="store_true", help="only tabulate the cells already in --records")
    parser.add_argument("--one", nargs=5, metavar=("SYSTEM", "TASK", "SEED", "BUDGET", "SCORED_ON"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        system, task_id, seed, budget, scored_on = args.one
        print(json.dumps(run_one(system, task_id, int(seed), float(budget), scored_on)))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    role = seed_role(seeds)
    if args.scored_on == "val" and (role != "tuning" or args.suite == "heldout"):
        raise SystemExit("--scored-on val is tuning: it takes tuning seeds only, and never the held-out suite")
    if args.suite == "tuning" and args.scored_on != "val":
        raise SystemExit("the tuning suite is for tuning only: --scored-on val")
    tasks = args.tasks.split(",") if args.tasks else suite_tasks(args.suite)
    done = load_records(args.records, args.budget, args.scored_on)
    systems = [system for system in args.systems.split(",") if system in SYSTEMS]
    if not args.no_run and any(system in PEERS for system in systems):
        ensure_peers()
    # seed by seed, so a grid stopped part-way still has every task at the seeds it finished
    cells = [(system, t, s, args.budget, args.scored_on) for s in seeds for t in tasks for system in systems
             if (t, s, system) not in done and not args.no_run]
    with Progress() as progress, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        bar = progress.add_task("airlab vs FLAML, AutoGluon and random search", total=len(cells))
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
                                         "scored_on": args.scored_on, "values": values}) + "\n")
    rows = []
    for t in tasks:
        task = prediction_task(t)
        for seed in seeds:
            parts = {system: done.get((t, seed, system)) for system in systems}
            if all(parts.values()):
                rows.append({"task": t, "seed": seed, **{k: v for p in parts.values() for k, v in p.items()},  # type: ignore[union-attr]
                             "hib": task.spec.metric_info.higher_is_better, "metric": task.spec.metric})
    if not rows or "airlab" not in systems:
        raise SystemExit("no (task, seed) has a cell of airlab and of every other system asked for yet")
    frame = pd.DataFrame(rows)
    for system in SYSTEMS:
        frame[system] = frame[system].astype(float) if system in frame else float("nan")
        frame[f"{system}_s"] = frame[f"{system}_s"].astype(float) if f"{system}_s" in frame else float("nan")
    command = (f".venv/bin/python benchmarks/vs_automl.py --suite {args.suite} --budget {args.budget:g} "
               f"--seeds {args.seeds} --scored-on {args.scored_on}" + (f" --tasks {args.tasks}" if args.tasks else "")
               + (f" --systems {args.systems}" if systems != list(SYSTEMS) else "")
               + (f" --records {args.records}" if args.records != DEFAULT_RECORDS else ""))
    title = section_title(args.suite, role, args.scored_on)
    text = table(frame, command, args.budget, seeds, args.scored_on, title)
    print(text)
    if args.write:
        write_section(title, text)


if __name__ == "__main__":
    main()
