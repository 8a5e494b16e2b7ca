"""The model families the offline coder knows: default settings, how to tune them, and the code
that builds each one. Families are grouped by the labels used for ideation diversity."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Knob:
    """One tunable hyper-parameter: a grid of sensible values around the default."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Family:
    name: str
    label: str  # the model-family label for ideation diversity (linear, knn, trees, ...)
    problems: tuple[str, ...]
    imports: tuple[str, ...]
    template: str  # a Python expression; {params} are substituted
    defaults: dict[str, Any]
    knobs: tuple[Knob, ...] = ()
    needs_scaling: bool = False
    slow_rows: int | None = None  # above this many rows, subsample for the fit
    proba_ok: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def render(self, params: dict[str, Any], seed: int) -> str:
        merged = {**self.defaults, **params, "seed": seed}
        return self.template.format(**{k: repr(v) if isinstance(v, str) else v for k, v in merged.items()})

    def build(self, params: dict[str, Any], seed: int, threads: int = 1) -> Any:
        """The model exactly as a rendered script constructs it (for measuring a family outside a run)."""
        namespace: dict[str, Any] = {"THREADS": threads}
        for line in self.imports:
            exec(line, namespace)
        return eval(self.render(params, seed), namespace)


F = Family
# At most this many leaves per forest tree (grown best leaf first), the last step without a cap: on a
# few thousand rows of a few columns, 128-512 leaves smooth a forest's probabilities where a minimum
# leaf size alone does not (see FEW_FEATURES_TREES in this package).
LEAF_NODES = Knob("max_leaf_nodes", (32, 64, 128, 256, 512, None))
CLASSIFICATION: list[Family] = [
    F("lightgbm", "boosting", ("classification",), ("from lightgbm import LGBMClassifier",),
      "LGBMClassifier(n_estimators={n_estimators}, learning_rate={learning_rate}, num_leaves={num_leaves}, "
      "min_child_samples={min_child_samples}, subsample={subsample}, subsample_freq=1, colsample_bytree={colsample_bytree}, "
      "reg_lambda={reg_lambda}, random_state={seed}, n_jobs=THREADS, verbose=-1)",
      dict(n_estimators=400, learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=0.8,
           colsample_bytree=0.8, reg_lambda=1.0),
      (Knob("n_estimators", (200, 400, 800, 1200)), Knob("learning_rate", (0.02, 0.03, 0.05, 0.1)),
       Knob("num_leaves", (7, 15, 31, 63)), Knob("min_child_samples", (5, 10, 20, 40)),
       Knob("colsample_bytree", (0.5, 0.7, 0.8, 1.0)), Knob("reg_lambda", (0.0, 1.0, 5.0)))),
    F("catboost", "boosting", ("classification",), ("from catboost import CatBoostClassifier",),
      "CatBoostClassifier(iterations={iterations}, learning_rate={learning_rate}, depth={depth}, l2_leaf_reg={l2}, "
      "random_seed={seed}, thread_count=THREADS, verbose=0, allow_writing_files=False)",
      dict(iterations=400, learning_rate=0.08, depth=6, l2=3.0),
      (Knob("iterations", (200, 400, 800)), Knob("learning_rate", (0.03, 0.05, 0.08, 0.15)),
       Knob("depth", (4, 6, 8)), Knob("l2", (1.0, 3.0, 10.0)))),
    F("hist_gb", "boosting", ("classification",), ("from sklearn.ensemble import HistGradientBoostingClassifier",),
      "HistGradientBoostingClassifier(learning_rate={learning_rate}, max_iter={max_iter}, max_leaf_nodes={max_leaf_nodes}, "
      "l2_regularization={l2}, random_state={seed})",
      dict(learning_rate=0.06, max_iter=300, max_leaf_nodes=31, l2=0.0),
      (Knob("learning_rate", (0.03, 0.06, 0.1)), Knob("max_iter", (150, 300, 600)),
       Knob("max_leaf_nodes", (15, 31, 63)), Knob("l2", (0.0, 0.1, 1.0)))),
    F("random_forest", "trees", ("classification",), ("from sklearn.ensemble import RandomForestClassifier",),
      "RandomForestClassifier(n_estimators={n_estimators}, max_features={max_features}, min_samples_leaf={min_samples_leaf}, "
      "max_leaf_nodes={max_leaf_nodes}, random_state={seed}, n_jobs=THREADS)",
      dict(n_estimators=400, max_features="sqrt", min_samples_leaf=1, max_leaf_nodes=None),
      (Knob("n_estimators", (200, 400, 800)), Knob("max_features", ("sqrt", 0.3, 0.5, 0.8)),
       Knob("min_samples_leaf", (1, 2, 4, 8, 16)), LEAF_NODES)),
    F("extra_trees", "trees", ("classification",), ("from sklearn.ensemble import ExtraTreesClassifier",),
      "ExtraTreesClassifier(n_estimators={n_estimators}, max_features={max_features}, min_samples_leaf={min_samples_leaf}, "
      "max_leaf_nodes={max_leaf_nodes}, random_state={seed}, n_jobs=THREADS)",
      dict(n_estimators=500, max_features="sqrt", min_samples_leaf=1, max_leaf_nodes=None),
      (Knob("n_estimators", (300, 500, 1000)), Knob("max_features", ("sqrt", 0.3, 0.6, 1.0)),
       Knob("min_samples_leaf", (1, 2, 3, 5, 10)), LEAF_NODES)),
    F("logistic", "linear", ("classification",), ("from sklearn.linear_model import LogisticRegression",),
      "LogisticRegression(C={C}, max_iter=5000)",
      dict(C=1.0), (Knob("C", (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)),), needs_scaling=True),
    F("svm", "svm", ("classification",), ("from sklearn.svm import SVC", "from sklearn.calibration import CalibratedClassifierCV"),
      "CalibratedClassifierCV(SVC(C={C}, gamma={gamma}, random_state={seed}), ensemble=False)",
      dict(C=3.0, gamma="scale"), (Knob("C", (0.3, 1.0, 3.0, 10.0, 30.0)), Knob("gamma", ("scale", 0.01, 0.03, 0.1))),
      needs_scaling=True, slow_rows=6000),
    F("knn", "knn", ("classification",), ("from sklearn.neighbors import KNeighborsClassifier",),
      "KNeighborsClassifier(n_neighbors={n_neighbors}, weights={weights})",
      dict(n_neighbors=15, weights="distance"),
      (Knob("n_neighbors", (3, 5, 9, 15, 25, 41)), Knob("weights", ("uniform", "distance"))),
      needs_scaling=True, slow_rows=20000),
    F("mlp", "neural_net", ("classification",), ("from sklearn.neural_network import MLPClassifier",),
      "MLPClassifier(hidden_layer_sizes={hidden}, alpha={alpha}, learning_rate_init=0.001, max_iter={max_iter}, "
      "early_stopping=True, random_state={seed})",
      dict(hidden=(128, 64), alpha=1e-3, max_iter=400),
      (Knob("hidden", ((64,), (128, 64), (256, 128))), Knob("alpha", (1e-4, 1e-3, 1e-2, 1e-1))),
      needs_scaling=True, slow_rows=20000),
]

REGRESSION: list[Family] = [
    F("lightgbm", "boosting", ("regression",), ("from lightgbm import LGBMRegressor",),
      "LGBMRegressor(n_estimators={n_estimators}, learning_rate={learning_rate}, num_leaves={num_leaves}, "
      "min_child_samples={min_child_samples}, subsample={subsample}, subsample_freq=1, colsample_bytree={colsample_bytree}, "
      "reg_lambda={reg_lambda}, random_state={seed}, n_jobs=THREADS, verbose=-1)",
      dict(n_estimators=500, learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=0.8,
           colsample_bytree=0.8, reg_lambda=1.0),
      (Knob("n_estimators", (250, 500, 1000, 1500)), Knob("learning_rate", (0.02, 0.03, 0.05, 0.1)),
       Knob("num_leaves", (7, 15, 31, 63)), Knob("min_child_samples", (2, 5, 10, 20, 40)),
       Knob("colsample_bytree", (0.5, 0.7, 0.8, 1.0)), Knob("reg_lambda", (0.0, 1.0, 5.0)))),
    F("catboost", "boosting", ("regression",), ("from catboost import CatBoostRegressor",),
      "CatBoostRegressor(iterations={iterations}, learning_rate={learning_rate}, depth={depth}, l2_leaf_reg={l2}, "
      "random_seed={seed}, thread_count=THREADS, verbose=0, allow_writing_files=False)",
      dict(iterations=500, learning_rate=0.08, depth=6, l2=3.0),
      (Knob("iterations", (250, 500, 1000)), Knob("learning_rate", (0.03, 0.05, 0.08, 0.15)),
       Knob("depth", (4, 6, 8)), Knob("l2", (1.0, 3.0, 10.0)))),
    F("hist_gb", "boosting", ("regression",), ("from sklearn.ensemble import HistGradientBoostingRegressor",),
      "HistGradientBoostingRegressor(learning_rate={learning_rate}, max_iter={max_iter}, max_leaf_nodes={max_leaf_nodes}, "
      "l2_regularization={l2}, random_state={seed})",
      dict(learning_rate=0.06, max_iter=300, max_leaf_nodes=31, l2=0.0),
      (Knob("learning_rate", (0.03, 0.06, 0.1)), Knob("max_iter", (150, 300, 600)),
       Knob("max_leaf_nodes", (15, 31, 63)), Knob("l2", (0.0, 0.1, 1.0)))),
    F("random_forest", "trees", ("regression",), ("from sklearn.ensemble import RandomForestRegressor",),
      "RandomForestRegressor(n_estimators={n_estimators}, max_features={max_features}, min_samples_leaf={min_samples_leaf}, "
      "max_leaf_nodes={max_leaf_nodes}, random_state={seed}, n_jobs=THREADS)",
      dict(n_estimators=400, max_features=0.5, min_samples_leaf=2, max_leaf_nodes=None),
      (Knob("n_estimators", (200, 400, 800)), Knob("max_features", (0.3, 0.5, 1.0)),
       Knob("min_samples_leaf", (1, 2, 5, 10)), LEAF_NODES)),
    F("extra_trees", "trees", ("regression",), ("from sklearn.ensemble import ExtraTreesRegressor",),
      "ExtraTreesRegressor(n_estimators={n_estimators}, max_features={max_features}, min_samples_leaf={min_samples_leaf}, "
      "max_leaf_nodes={max_leaf_nodes}, random_state={seed}, n_jobs=THREADS)",
      dict(n_estimators=500, max_features=0.7, min_samples_leaf=2, max_leaf_nodes=None),
      (Knob("n_estimators", (300, 500, 1000)), Knob("max_features", (0.5, 0.7, 1.0)),
       Knob("min_samples_leaf", (1, 2, 5, 10)), LEAF_NODES)),
    F("ridge", "linear", ("regression",), ("from sklearn.linear_model import Ridge",),
      "Ridge(alpha={alpha})", dict(alpha=1.0),
      (Knob("alpha", (0.01, 0.1, 1.0, 3.0, 10.0, 30.0, 100.0)),), needs_scaling=True),
    F("svr", "svm", ("regression",), ("from sklearn.svm import SVR",),
      "SVR(C={C}, epsilon={epsilon}, gamma={gamma})",
      dict(C=10.0, epsilon=0.05, gamma="scale"),
      (Knob("C", (1.0, 3.0, 10.0, 30.0, 100.0)), Knob("epsilon", (0.01, 0.05, 0.1)), Knob("gamma", ("scale", 0.01, 0.05))),
      needs_scaling=True, slow_rows=6000, extra={"scale_target": True}),
    F("knn", "knn", ("regression",), ("from sklearn.neighbors import KNeighborsRegressor",),
      "KNeighborsRegressor(n_neighbors={n_neighbors}, weights={weights})",
      dict(n_neighbors=10, weights="distance"),
      (Knob("n_neighbors", (3, 5, 10, 20, 40)), Knob("weights", ("uniform", "distance"))),
      needs_scaling=True, slow_rows=20000),
    F("mlp", "neural_net", ("regression",), ("from sklearn.neural_network import MLPRegressor",),
      "MLPRegressor(hidden_layer_sizes={hidden}, alpha={alpha}, learning_rate_init=0.001, max_iter={max_iter}, "
      "early_stopping=True, random_state={seed})",
      dict(hidden=(128, 64), alpha=1e-3, max_iter=500),
      (Knob("hidden", ((64,), (128, 64), (256, 128))), Knob("alpha", (1e-4, 1e-3, 1e-2, 1e-1))),
      needs_scaling=True, slow_rows=20000, extra={"scale_target": True}),
]

TEXT: list[Family] = [
    F("logistic", "linear", ("text",), ("from sklearn.linear_model import LogisticRegression",),
      "LogisticRegression(C={C}, max_iter=3000)", dict(C=4.0), (Knob("C", (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)),)),
    F("linear_svm", "svm", ("text",), ("from sklearn.svm import LinearSVC", "from sklearn.calibration import CalibratedClassifierCV"),
      "CalibratedClassifierCV(LinearSVC(C={C}), cv=3)", dict(C=0.5), (Knob("C", (0.1, 0.25, 0.5, 1.0, 2.0)),)),
    F("naive_bayes", "naive_bayes", ("text",), ("from sklearn.naive_bayes import ComplementNB",),
      "ComplementNB(alpha={alpha})", dict(alpha=0.3), (Knob("alpha", (0.03, 0.1, 0.3, 1.0)),)),
    F("sgd", "linear", ("text",), ("from sklearn.linear_model import SGDClassifier",),
      "SGDClassifier(loss='modified_huber', alpha={alpha}, max_iter=50, random_state={seed})",
      dict(alpha=1e-4), (Knob("alpha", (1e-5, 3e-5, 1e-4, 3e-4)),)),
    F("lightgbm", "boosting", ("text",), ("from lightgbm import LGBMClassifier",),
      "LGBMClassifier(n_estimators={n_estimators}, learning_rate={learning_rate}, num_leaves={num_leaves}, "
      "colsample_bytree=0.3, random_state={seed}, n_jobs=THREADS, verbose=-1)",
      dict(n_estimators=400, learning_rate=0.08, num_leaves=31),
      (Knob("n_estimators", (200, 400, 800)), Knob("num_leaves", (15, 31, 63)))),
]

FORECASTING: list[Family] = [
    F("holt_winters", "exponential_smoothing", ("forecasting",), (), "", dict(trend="add", damped=True, seasonal="add"),
      (Knob("trend", ("add", None)), Knob("damped", (True, False)), Knob("seasonal", ("add", "mul", None)))),
    F("trend_fourier", "linear", ("forecasting",), (), "", dict(degree=1, harmonics=3, window=0, alpha=1.0),
      (Knob("degree", (1, 2)), Knob("harmonics", (1, 2, 3, 4, 6)), Knob("window", (0, 120, 240)), Knob("alpha", (0.1, 1.0, 10.0)))),
    F("sarimax", "arima", ("forecasting",), (), "", dict(p=1, d=1, q=1, seasonal=True),
      (Knob("p", (0, 1, 2)), Knob("q", (0, 1, 2)), Knob("seasonal", (True, False)))),
    F("autoreg", "arima", ("forecasting",), (), "", dict(lags=12, trend="c"),
      (Knob("lags", (2, 4, 6, 9, 12, 18, 24)), Knob("trend", ("c", "ct")))),
    F("theta", "exponential_smoothing", ("forecasting",), (), "", dict(deseasonalize=True),
      (Knob("deseasonalize", (True, False)),)),
    F("seasonal_naive", "naive", ("forecasting",), (), "", dict(drift=True), (Knob("drift", (True, False)),)),
]

CATALOGUE: dict[str, list[Family]] = {
    "classification": CLASSIFICATION,
    "regression": REGRESSION,
    "text": TEXT,
    "forecasting": FORECASTING,
}

# Draft order of preference: strong, cheap ideas first, the rest after; a seed rotates within tiers.
TIERS: dict[str, list[list[str]]] = {
    "classification": [["lightgbm", "catboost", "logistic", "extra_trees", "svm"], ["random_forest", "hist_gb", "knn", "mlp"]],
    "regression": [["lightgbm", "catboost", "ridge", "extra_trees", "svr"], ["random_forest", "hist_gb", "knn", "mlp"]],
    "text": [["logistic", "linear_svm", "naive_bayes"], ["sgd", "lightgbm"]],
    "forecasting": [["holt_winters", "trend_fourier", "autoreg"], ["sarimax", "theta", "seasonal_naive"]],
}


def family(problem: str, name: str) -> Family:
    for fam in CATALOGUE[problem]:
        if fam.name == name:
            return fam
    raise KeyError(f"no family {name!r} for {problem}")


# Above this many train rows, bagged trees cost several times a boosted model (on one core), and
# kernel, neighbour and neural models (the families that subsample large data) more still: on
# large data the drafts go from cheap to dear, each tier's order kept.
LARGE_ROWS = 10_000


def large_data_cost(fam: Family) -> int:
    if fam.slow_rows is not None:
        return 2
    return 1 if fam.label == "trees" else 0


def draft_order(problem: str, rng: random.Random, n_rows: int = 0) -> list[str]:
    order: list[str] = []
    for tier in TIERS[problem]:
        tier = list(tier)
        rng.shuffle(tier)
        order += tier
    if n_rows > LARGE_ROWS:
        order.sort(key=lambda name: large_data_cost(family(problem, name)))
    return order
