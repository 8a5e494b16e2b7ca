"""The offline coder's data-dependent draft settings against the families' defaults.

    .venv/bin/python benchmarks/draft_settings.py [--seeds 0,...,19] [--tasks ...] [--write]
    .venv/bin/python benchmarks/draft_settings.py --seeds 100,...,119 --scored-on test   # a check, not a choice

The offline coder drafts some families with settings other than their defaults, depending on the
data (`_size_params` in `airlab.coders.offline`): LightGBM with small trees on small, narrow data,
and smaller leaves still for a regression on few rows; forests with larger leaves and more columns
per split on few columns. This measures each rule with fixed models, outside any search: for every
tabular task and split seed, the family as the coder renders it, once with its defaults (or, for a
rule that refines another on smaller data, with that rule's settings) and once with the rule's
settings. A rule is chosen on tuning seeds (0-19), where the models train on train + search rows and are
scored on the val rows (``--scored-on val``, the default); the test rows of report seeds (100 and up,
``--scored-on test``, trained on train + search + val) only check a choice already made. The
preprocessing is the same for both (median imputation, ordinal categories). It
prints, per rule and task, the mean score of both and the paired difference with a 95% t interval,
and says whether the rule applies to the task's data; `--write` puts the table into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, paired_ci, seed_note, seed_role, write_section
from vs_automl import cell_view, model_submission, tabular_tasks

from airlab.coders.offline import (
    FEW_FEATURES_TREES,
    FEW_ROWS_REGRESSION_BOOSTING,
    SMALL_TREES_BOOSTING,
    _size_params,
)
from airlab.coders.offline.families import family
from airlab.tasks.prediction.preview import make_preview
from airlab.tasks.prediction.splits import HiddenSplits, make_splits
from airlab.tasks.prediction.submission import ID, Grader
from airlab.tasks.prediction.task import PredictionTask, prediction_task

SECTION = "## Draft settings on small data"

# (rule, family, problems it is measured on): every family a rule sets, on every problem it may set it
RULES: list[tuple[str, str, tuple[str, ...]]] = [
    *(("small trees", name, ("classification", "regression")) for name in SMALL_TREES_BOOSTING),
    # measured on classification too, where it does not apply, to show why it does not
    *(("few rows", name, ("classification", "regression")) for name in FEW_ROWS_REGRESSION_BOOSTING),
    *(("few columns", name, ("classification",)) for name in FEW_FEATURES_TREES),
]
RULE_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "small trees": SMALL_TREES_BOOSTING, "few rows": FEW_ROWS_REGRESSION_BOOSTING, "few columns": FEW_FEATURES_TREES}
# a rule that refines another on smaller data is measured against that rule, the rest against the defaults
REFINES: dict[str, str] = {"few rows": "small trees"}


def baseline_settings(rule: str, name: str) -> dict[str, Any]:
    return dict(RULE_SETTINGS[REFINES[rule]][name]) if rule in REFINES else {}


def _score(task: PredictionTask, view: HiddenSplits, seed: int, problem: str, name: str, params: dict[str, Any],
           scored_on: str) -> float:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    target = task.spec.target
    X = view.train.drop(columns=[target])
    y = view.train[target].astype(str) if task.spec.kind.is_classification else view.train[target].to_numpy(float)
    Xp = view.predict.drop(columns=[ID])
    numeric = X.select_dtypes(include="number").columns.tolist()
    categorical = [c for c in X.columns if c not in numeric]
    X, Xp = X.astype({c: str for c in categorical}), Xp.astype({c: str for c in categorical})
    prep = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)), categorical),
    ])
    model = make_pipeline(prep, family(problem, name).build(params, seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        sub = model_submission(task, model, Xp, view.predict[ID])
    grade = Grader(task, view).grade_frame(sub, roles=(scored_on,))  # type: ignore[arg-type]
    return grade.scores[scored_on] if grade.valid else float("nan")


def cells(task_ids: list[str], seeds: list[int]) -> list[dict[str, Any]]:
    out = []
    for task_id in task_ids:
        task = prediction_task(task_id)
        problem = "classification" if task.spec.kind.is_classification else "regression"
        preview = make_preview(task, make_splits(task, 0))
        for rule, name, problems in RULES:
            if problem not in problems:
                continue
            drafted = _size_params(problem, name, {}, preview)
            applies = all(drafted.get(knob) == value for knob, value in RULE_SETTINGS[rule][name].items())
            for seed in seeds:
                out.append({"task": task_id, "seed": seed, "rule": rule, "family": name, "problem": problem,
                            "applies": applies, "rows": preview.n_train, "columns": len(preview.columns)})
    return out


def table(frame: pd.DataFrame, command: str, seeds: list[int], scored_on: str) -> str:
    rows = "train and search" if scored_on == "val" else "train, search and val"
    lines = [
        SECTION, "",
        f"Machine: {machine()}. Command: `{command}`. {seed_note(seeds, scored_on)} "
        "The rules were first chosen by an earlier version of this script on the test rows of these seeds; "
        "this table checks them again on val rows, as a rule is chosen now. "
        "Fixed models, no search: each family as the offline coder "
        "renders it, with its defaults ("
        + "; ".join(f"the {rule} rule: with the {base} rule's settings it refines" for rule, base in REFINES.items())
        + f") and with the settings a draft rule gives it, trained on the {rows} rows "
        f"of each split seed and scored on the hidden {scored_on} rows; same preprocessing for "
        "both. Rows and columns are those an agent's train file has at split seed 0 (what the rule looks at).",
        "",
        "| rule | family | task | metric | rows / columns | rule applies | seeds | baseline | rule's settings "
        "| rule − baseline (95% CI, + = rule better) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, group in frame.groupby(["rule", "family", "task"]):
        rule, name, task_id = (str(part) for part in key)
        spec = prediction_task(task_id).spec
        sign = 1.0 if spec.metric_info.higher_is_better else -1.0
        mean, lo, hi = paired_ci(sign * (group["rule_score"] - group["default_score"]).to_numpy())
        settings = ", ".join(f"{k}={v}" for k, v in RULE_SETTINGS[rule][name].items())
        lines.append(
            f"| {rule} ({settings}) | {name} | {task_id} | {spec.metric} {'↑' if sign > 0 else '↓'} "
            f"| {group['rows'].iloc[0]} / {group['columns'].iloc[0]} | {'yes' if group['applies'].iloc[0] else 'no'} "
            f"| {len(group)} | {group['default_score'].mean():.4g} | {group['rule_score'].mean():.4g} "
            f"| {mean:+.4g} [{lo:+.4g}, {hi:+.4g}] |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default=",".join(str(s) for s in range(20)))
    parser.add_argument("--tasks", default=None, help="comma-separated; default: every tabular task")
    parser.add_argument("--records", type=Path, default=Path("benchmarks/draft_settings_records.jsonl"))
    parser.add_argument("--scored-on", choices=("val", "test"), default="val",
                        help="val: tuning seeds, where a rule is chosen; test: report seeds, a check only")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    task_ids = args.tasks.split(",") if args.tasks else tabular_tasks()
    seeds = [int(s) for s in args.seeds.split(",")]
    if (seed_role(seeds) == "tuning") != (args.scored_on == "val"):
        raise SystemExit("tuning seeds are scored on val rows, report seeds on test rows")
    records = [json.loads(ln) for ln in args.records.read_text().splitlines()] if args.records.exists() else []
    # records written before the roles were scored on test
    records = [r for r in records if r.get("scored_on", "test") == args.scored_on]
    have = {(r["task"], r["seed"], r["rule"], r["family"]) for r in records}
    planned = cells(task_ids, seeds)
    todo = [c for c in planned if (c["task"], c["seed"], c["rule"], c["family"]) not in have]
    with Progress() as progress, args.records.open("a") as sink:
        bar = progress.add_task("draft settings", total=len(todo))
        for cell in todo:
            task = prediction_task(cell["task"])
            start = time.time()
            view = cell_view(task, cell["seed"], args.scored_on)
            cell["scored_on"] = args.scored_on
            cell["default_score"] = _score(task, view, cell["seed"], cell["problem"], cell["family"],
                                           baseline_settings(cell["rule"], cell["family"]), args.scored_on)
            cell["rule_score"] = _score(task, view, cell["seed"], cell["problem"], cell["family"],
                                        dict(RULE_SETTINGS[cell["rule"]][cell["family"]]), args.scored_on)
            cell["seconds"] = time.time() - start
            sink.write(json.dumps(cell) + "\n")
            sink.flush()
            records.append(cell)
            progress.advance(bar)
    # whether a rule applies is the current code's answer, not the one recorded with an older rule set
    applies = {(c["task"], c["rule"], c["family"]): c["applies"] for c in planned}
    frame = pd.DataFrame([{**r, "applies": applies[(r["task"], r["rule"], r["family"])]}
                          for r in records if r["task"] in task_ids and r["seed"] in seeds])
    command = f".venv/bin/python benchmarks/draft_settings.py --seeds {args.seeds} --scored-on {args.scored_on}"
    text = table(frame, command + (f" --tasks {args.tasks}" if args.tasks else ""), seeds, args.scored_on)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
