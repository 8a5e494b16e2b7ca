"""Write a recipe out as a readable, self-contained script.

The scripts read ``train.csv`` and ``predict.csv`` from the working directory and write
``submission.csv`` in the columns of ``sample_submission.csv``, so the same file runs in a node's
sandbox, as ``best_solution.py`` on new data, or by hand.
"""

from __future__ import annotations

import json
import textwrap

from airlab.coders.offline.families import family
from airlab.coders.offline.recipe import ModelSpec, Recipe
from airlab.tasks.prediction.preview import DataPreview

# numeric columns with at most this many distinct values also get one-hot "levels" (``discrete_onehot``)
DISCRETE_MAX_UNIQUE = 12


def _docstring(plan: str) -> str:
    body = textwrap.fill(plan.strip().replace('"""', "'''"), width=96, replace_whitespace=False)
    return f'"""{body}\n"""\n'


def render(recipe: Recipe, plan: str, preview: DataPreview, threads: int) -> str:
    if recipe.problem == "forecasting":
        return _forecasting(recipe, plan, preview)
    return _supervised(recipe, plan, preview, threads)


# -- classification, regression and text ---------------------------------------------------------


def _supervised(recipe: Recipe, plan: str, preview: DataPreview, threads: int) -> str:
    problem = recipe.problem
    is_clf = problem in ("classification", "text")
    fams = [family(problem, m.family) for m in recipe.models]
    imports = {
        "import numpy as np",
        "import pandas as pd",
        "from sklearn.compose import ColumnTransformer",
        "from sklearn.impute import SimpleImputer",
        "from sklearn.pipeline import make_pipeline",
    }
    for fam in fams:
        imports.update(fam.imports)
    scale = recipe.scaler
    if scale == "standard":
        imports.add("from sklearn.preprocessing import StandardScaler")
    elif scale == "quantile":
        imports.add("from sklearn.preprocessing import QuantileTransformer")
    if recipe.encoding == "onehot" or recipe.discrete_onehot:
        imports.add("from sklearn.preprocessing import OneHotEncoder")
    if recipe.encoding == "ordinal":
        imports.add("from sklearn.preprocessing import OrdinalEncoder")
    text_cols = preview.names("text")
    if problem == "text":
        imports.add("from sklearn.feature_extraction.text import TfidfVectorizer")
    target_transform = not is_clf and (recipe.log_target or any(f.extra.get("scale_target") for f in fams))
    if target_transform:
        imports.add("from sklearn.compose import TransformedTargetRegressor")
        imports.add("from sklearn.preprocessing import FunctionTransformer, StandardScaler")

    ident = json.dumps(preview.id_column)
    lines: list[str] = [_docstring(plan)]
    lines += sorted(i for i in imports if i.startswith("import ")) + sorted(i for i in imports if i.startswith("from "))
    lines += [
        "",
        f"TARGET = {preview.target!r}",
        f"SEED = {recipe.seed}",
        f"THREADS = {threads}  # matches the CPU limit of a run",
        f"TEXT_COLUMNS = {text_cols!r}",
        "",
        'train = pd.read_csv("train.csv")',
        f"test = pd.read_csv({json.dumps(preview.predict_file)})",
        'required = pd.read_csv("sample_submission.csv", nrows=0).columns.tolist()',
        "y = train.pop(TARGET)" + (".astype(str)" if is_clf else ".astype(float)"),
        f"ids = test.pop({ident})",
        *([f"train = train.drop(columns=[{ident}])"] if preview.train_has_id else []),
        "",
        "numeric = [c for c in train.select_dtypes(include=\"number\").columns if c not in TEXT_COLUMNS]",
        "categorical = [c for c in train.columns if c not in numeric and c not in TEXT_COLUMNS]",
        f"discrete = [c for c in numeric if train[c].nunique() <= {DISCRETE_MAX_UNIQUE}]  # ratings, codes, binned values",
        "for col in categorical:",
        "    train[col] = train[col].astype(str)",
        "    test[col] = test[col].astype(str)",
        "for col in TEXT_COLUMNS:",
        '    train[col] = train[col].fillna("").astype(str)',
        '    test[col] = test[col].fillna("").astype(str)',
        "",
        "",
        "def preprocessing(scale: bool) -> ColumnTransformer:",
        '    """Impute and (optionally) scale numbers, encode categories' + (", vectorise text" if problem == "text" else "") + '."""',
        f"    numeric_steps = [SimpleImputer(strategy=\"median\", add_indicator={recipe.missing_indicators})]",
    ]
    if scale == "standard":
        lines.append("    if scale:\n        numeric_steps.append(StandardScaler())")
    elif scale == "quantile":
        lines.append('    if scale:\n        numeric_steps.append(QuantileTransformer(n_quantiles=min(200, len(train)), output_distribution="normal"))')
    if recipe.encoding == "onehot":
        lines.append('    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=3, sparse_output=True)')
    else:
        lines.append('    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)')
    lines += [
        "    parts = [",
        '        ("num", make_pipeline(*numeric_steps), numeric),',
        '        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), encoder), categorical),',
        "    ]",
    ]
    if recipe.discrete_onehot:
        lines += [
            "    if scale:  # models on scaled inputs also see each level of a discrete column as its own feature",
            '        parts.append(("levels", make_pipeline(SimpleImputer(strategy="most_frequent"), '
            'OneHotEncoder(handle_unknown="ignore")), discrete))',
        ]
    if problem == "text":
        lines += [
            "    for col in TEXT_COLUMNS:",
            f"        parts.append((col, TfidfVectorizer(analyzer={recipe.text_analyzer!r}, ngram_range=(1, {recipe.text_ngrams}), "
            f"min_df=2, max_features={recipe.text_max_features}, sublinear_tf=True), col))",
        ]
    lines += ['    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.3)', "", ""]

    lines.append("models = {")
    for spec, fam in zip(recipe.models, fams, strict=True):
        est = fam.render(spec.params, recipe.seed)
        needs_scale = fam.needs_scaling and scale != "none"
        pipe = f"make_pipeline(preprocessing(scale={needs_scale}), {est})"
        if target_transform:
            pipe = _wrap_target(pipe, recipe, fam.extra.get("scale_target", False))
        lines.append(f"    {spec.family!r}: {pipe},")
    lines.append("}")
    limits = {m.family: family(problem, m.family).slow_rows for m in recipe.models}
    cap = recipe.max_train_rows
    row_caps = {k: (min(v, cap) if (v and cap) else (v or cap)) for k, v in limits.items()}
    lines += [
        f"MAX_ROWS = {row_caps!r}  # slow models are fitted on a random subsample of large data",
        "",
        "predictions = []",
        "for name, model in models.items():",
        "    rows = train.index",
        "    if MAX_ROWS.get(name) and len(train) > MAX_ROWS[name]:",
        "        rows = train.sample(n=MAX_ROWS[name], random_state=SEED).index",
        "    model.fit(train.loc[rows], y.loc[rows])",
    ]
    if is_clf:
        lines += [
            "    proba = model.predict_proba(test)",
            "    predictions.append(pd.DataFrame(proba, columns=[str(c) for c in model.classes_]))",
            '    print(f"fitted {name} on {len(rows)} rows")',
            "",
            "proba = sum(predictions) / len(predictions)",
            "classes = sorted(y.unique())",
            "proba = proba.reindex(columns=classes, fill_value=0.0)",
            "if TARGET in required:  # a class label per row",
            f"    submission = pd.DataFrame({{{ident}: ids, TARGET: proba.idxmax(axis=1)}})",
            "else:  # one probability column per class",
            "    proba = proba.div(proba.sum(axis=1), axis=0)",
            f"    submission = pd.concat([ids.rename({ident}), proba[required[1:]]], axis=1)",
        ]
    else:
        lines += [
            "    # never beyond the labels seen: a linear model extrapolates wildly on an outlying row",
            "    predictions.append(np.clip(model.predict(test), y.min(), y.max()))",
            '    print(f"fitted {name} on {len(rows)} rows")',
            "",
            f"submission = pd.DataFrame({{{ident}: ids, TARGET: np.mean(predictions, axis=0)}})",
        ]
    lines += ['submission.to_csv("submission.csv", index=False)', 'print("wrote submission.csv", submission.shape)', ""]
    return "\n".join(lines)


def _wrap_target(pipe: str, recipe: Recipe, scale_target: bool) -> str:
    steps = []
    if recipe.log_target:
        steps.append("FunctionTransformer(np.log1p, np.expm1, check_inverse=False)")
    if scale_target:
        steps.append("StandardScaler()")
    transformer = steps[0] if len(steps) == 1 else f"make_pipeline({', '.join(steps)})"
    return f"TransformedTargetRegressor(regressor={pipe}, transformer={transformer})"


# -- forecasting ---------------------------------------------------------------------------------

_FORECAST_HEAD = '''
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

TARGET = {target!r}
TIME = {time!r}
PERIOD = {period}  # seasonal period, in steps

train = pd.read_csv("train.csv", parse_dates=[TIME]).sort_values(TIME).reset_index(drop=True)
test = pd.read_csv("predict.csv", parse_dates=[TIME])
y = train[TARGET].astype(float).interpolate().bfill().to_numpy()
start = train[TIME].iloc[0]
gap_days = float(np.median(np.diff(train[TIME].to_numpy()).astype("timedelta64[D]").astype(float)))


def to_steps(times: pd.Series) -> np.ndarray:
    """Position of each timestamp on the regular grid of train.csv (0 = first training row)."""
    if 27 <= gap_days <= 32:  # monthly
        return ((times.dt.year - start.year) * 12 + times.dt.month - start.month).to_numpy()
    if 88 <= gap_days <= 93:  # quarterly
        return (((times.dt.year - start.year) * 12 + times.dt.month - start.month) // 3).to_numpy()
    if 360 <= gap_days <= 367:  # yearly
        return (times.dt.year - start.year).to_numpy()
    return np.round((times - start).dt.total_seconds() / 86400 / gap_days).astype(int).to_numpy()


n = len(y)
ahead = to_steps(test[TIME]) - n  # 0 = the first step after train.csv
horizon = int(ahead.max()) + 1
season = PERIOD if PERIOD > 1 and n >= 2 * PERIOD else 0
'''

_FORECASTERS: dict[str, str] = {
    "holt_winters": '''
def forecast_holt_winters(h: int) -> np.ndarray:
    """Holt-Winters exponential smoothing (trend={trend!r}, damped={damped}, seasonal={seasonal!r})."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = {seasonal!r} if season else None
    if seasonal == "mul" and (y <= 0).any():
        seasonal = "add"
    trend = {trend!r}
    model = ExponentialSmoothing(
        y, trend=trend, damped_trend={damped} if trend else False,
        seasonal=seasonal, seasonal_periods=season or None, initialization_method="estimated",
    )
    return np.asarray(model.fit(optimized=True).forecast(h))
''',
    "trend_fourier": '''
def forecast_trend_fourier(h: int) -> np.ndarray:
    """Ridge regression on a polynomial trend (degree {degree}) and {harmonics} Fourier harmonics."""
    from sklearn.linear_model import Ridge

    def features(t: np.ndarray) -> np.ndarray:
        cols = [(t / n) ** d for d in range(1, {degree} + 1)]
        if season:
            for k in range(1, {harmonics} + 1):
                cols += [np.sin(2 * np.pi * k * t / season), np.cos(2 * np.pi * k * t / season)]
        return np.column_stack(cols)

    window = {window} or n
    t_fit = np.arange(max(0, n - window), n)
    model = Ridge(alpha={alpha} / n).fit(features(t_fit), y[t_fit])
    return model.predict(features(np.arange(n, n + h)))
''',
    "sarimax": '''
def forecast_sarimax(h: int) -> np.ndarray:
    """Seasonal ARIMA({p},{d},{q}) with a seasonal (0,1,1) part when seasonal={seasonal}."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal_order = (0, 1, 1, season) if ({seasonal} and season) else (0, 0, 0, 0)
    model = SARIMAX(y, order=({p}, {d}, {q}), seasonal_order=seasonal_order,
                    trend="t" if {d} == 1 and not seasonal_order[3] else None)
    return np.asarray(model.fit(disp=False, maxiter=200).forecast(h))
''',
    "autoreg": '''
def forecast_autoreg(h: int) -> np.ndarray:
    """Autoregression on the last {lags} values (trend {trend!r}), with seasonal dummies."""
    from statsmodels.tsa.ar_model import AutoReg

    lags = min({lags}, n // 3)
    model = AutoReg(y, lags=lags, trend={trend!r}, seasonal=bool(season), period=season or None)
    return np.asarray(model.fit().predict(start=n, end=n + h - 1))
''',
    "theta": '''
def forecast_theta(h: int) -> np.ndarray:
    """The Theta method (deseasonalize={deseasonalize})."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    model = ThetaModel(y, period=season or 1, deseasonalize={deseasonalize} and bool(season))
    return np.asarray(model.fit().forecast(h))
''',
    "seasonal_naive": '''
def forecast_seasonal_naive(h: int) -> np.ndarray:
    """Repeat the last season, plus the average drift (drift={drift})."""
    period = season or 1
    last = y[-period:]
    steps = np.arange(h)
    out = last[steps % period]
    if {drift}:
        slope = (y[-1] - y[0]) / max(1, n - 1)
        out = out + slope * (steps // period + 1) * period
    return out
''',
}


def _forecasting(recipe: Recipe, plan: str, preview: DataPreview) -> str:
    parts = [_docstring(plan), _FORECAST_HEAD.format(target=preview.target, time=preview.time_column,
                                                     period=preview.seasonal_period)]
    calls = []
    for spec in recipe.models:
        fam = family("forecasting", spec.family)
        params = {**fam.defaults, **spec.params}
        parts.append(_FORECASTERS[spec.family].format(**params))
        calls.append(f"forecast_{spec.family}(horizon)")
    parts.append(
        "\nforecasts = [" + ", ".join(calls) + "]\n"
        "path = np.mean(forecasts, axis=0)\n"
        "path = np.where(np.isfinite(path), path, y[-1])  # never submit NaN\n"
        'submission = pd.DataFrame({"id": test["id"], TARGET: path[np.clip(ahead, 0, horizon - 1)]})\n'
        'submission.to_csv("submission.csv", index=False)\n'
        'print("wrote submission.csv", submission.shape)\n'
    )
    return "".join(parts)


def describe_model(spec: ModelSpec, problem: str) -> str:
    fam = family(problem, spec.family)
    params = {**fam.defaults, **spec.params}
    shown = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{spec.family} ({shown})"
