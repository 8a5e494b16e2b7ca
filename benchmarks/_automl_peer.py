"""One AutoML peer (FLAML or AutoGluon) on one prepared table, run by ``vs_automl.py`` inside the peers'
own virtual environment (``.venv-peers``: their pins clash with airlab's), so nothing of airlab is
imported here.

    .venv-peers/bin/python benchmarks/_automl_peer.py SYSTEM FOLDER BUDGET SEED

FOLDER holds ``X.parquet`` (training features), ``y.parquet`` (column ``y``), ``Xp.parquet`` (rows to
predict) and ``meta.json`` (``problem``: classification / regression, ``metric``: airlab's metric name,
``classes``). It writes ``pred.parquet`` (column ``value``, or one probability column per class) and
prints one JSON line: the seconds spent fitting and predicting.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

FLAML_METRIC = {"accuracy": "accuracy", "roc_auc": "roc_auc", "log_loss": "log_loss", "macro_f1": "macro_f1",
                "rmse": "rmse", "mae": "mae", "r2": "r2"}
AUTOGLUON_METRIC = {"accuracy": "accuracy", "roc_auc": "roc_auc", "log_loss": "log_loss", "macro_f1": "f1_macro",
                    "rmse": "root_mean_squared_error", "mae": "mean_absolute_error", "r2": "r2"}


def _categorical(X: pd.DataFrame, Xp: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    X, Xp = X.copy(), Xp.copy()
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype(str).astype("category")
            Xp[col] = pd.Categorical(Xp[col].astype(str), categories=X[col].cat.categories)
    return X, Xp


def flaml(X: pd.DataFrame, y: pd.Series, Xp: pd.DataFrame, meta: dict, budget: float, seed: int) -> pd.DataFrame:
    from flaml import AutoML

    X, Xp = _categorical(X, Xp)
    automl = AutoML()
    automl.fit(X, y, task=meta["problem"], time_budget=budget, metric=FLAML_METRIC[meta["metric"]], seed=seed,
               verbose=0, n_jobs=1)
    if meta["problem"] == "regression":
        return pd.DataFrame({"value": automl.predict(Xp)})
    return pd.DataFrame(automl.predict_proba(Xp), columns=[str(c) for c in automl.classes_])


def autogluon(X: pd.DataFrame, y: pd.Series, Xp: pd.DataFrame, meta: dict, budget: float, seed: int) -> pd.DataFrame:
    from autogluon.tabular import TabularPredictor

    label = "__target__"
    problem = "regression" if meta["problem"] == "regression" else (
        "binary" if len(meta["classes"]) == 2 else "multiclass")
    with tempfile.TemporaryDirectory(prefix="autogluon-") as folder:
        predictor = TabularPredictor(label=label, problem_type=problem, eval_metric=AUTOGLUON_METRIC[meta["metric"]],
                                     path=folder, verbosity=0)
        # default presets (medium quality): the ones AutoGluon recommends for a short budget
        predictor.fit(X.assign(**{label: y.to_numpy()}), time_limit=budget, num_cpus=1, num_gpus=0,
                      ag_args_fit={"random_seed": seed})
        if problem == "regression":
            return pd.DataFrame({"value": predictor.predict(Xp).to_numpy()})
        proba = predictor.predict_proba(Xp)
        proba.columns = [str(c) for c in proba.columns]
        return proba.reset_index(drop=True)


def main() -> None:
    system, folder_arg, budget, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    folder = Path(folder_arg)
    meta = json.loads((folder / "meta.json").read_text())
    X, Xp = pd.read_parquet(folder / "X.parquet"), pd.read_parquet(folder / "Xp.parquet")
    y = pd.read_parquet(folder / "y.parquet")["y"]
    if meta["problem"] == "classification":
        y = y.astype(str)
    start = time.time()
    pred = {"flaml": flaml, "autogluon": autogluon}[system](X, y, Xp, meta, budget, seed)
    seconds = time.time() - start
    pred.to_parquet(folder / "pred.parquet")
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
