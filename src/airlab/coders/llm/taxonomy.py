"""The model family of an idea, read from its code (or its plan) with no extra LLM call.

Labels are the ones the offline coder uses (:mod:`airlab.coders.offline.families`), so ideation
diversity is comparable across coders. The code is searched first because it names the model
it really fits; the plan is a fallback. The first matching rule wins, so more specific families
(boosting) come before broader ones (trees).
"""

from __future__ import annotations

import re

RULES: tuple[tuple[str, str], ...] = (
    ("boosting", r"\b(LGBM\w*|lightgbm|XGB\w*|xgboost|CatBoost\w*|catboost|HistGradientBoosting\w*|"
                 r"GradientBoosting\w*|AdaBoost\w*|gradient[- ]boost\w*|boosted trees?)\b"),
    ("trees", r"\b(RandomForest\w*|ExtraTrees\w*|DecisionTree\w*|random forests?|extra trees|decision trees?)\b"),
    ("svm", r"\b(SVC|SVR|LinearSVC|LinearSVR|NuSVC|NuSVR|support vector\w*|svm)\b"),
    ("knn", r"\b(KNeighbors\w*|k-?nearest|knn|nearest neighbou?rs?)\b"),
    ("naive_bayes", r"\b(GaussianNB|MultinomialNB|BernoulliNB|ComplementNB|naive bayes)\b"),
    ("neural_net", r"\b(MLP\w*|torch|tensorflow|keras|neural net\w*|multi-?layer perceptron)\b"),
    ("arima", r"\b(SARIMAX|ARIMA|AutoReg|auto_arima|arima|autoregress\w*)\b"),
    ("exponential_smoothing", r"\b(ExponentialSmoothing|Holt\w*|ETSModel|ThetaModel|exponential smoothing|theta method)\b"),
    ("linear", r"\b(LogisticRegression\w*|LinearRegression|Ridge\w*|Lasso\w*|ElasticNet\w*|SGD\w*|"
               r"BayesianRidge|HuberRegressor|PoissonRegressor|logistic regression|linear regression|"
               r"ridge regression|lasso)\b"),
    ("naive", r"\b(DummyClassifier|DummyRegressor|seasonal[ _]naive|naive forecast|last value)\b"),
)
LABELS: tuple[str, ...] = tuple(label for label, _ in RULES)
_COMPILED = tuple((label, re.compile(pattern, re.IGNORECASE)) for label, pattern in RULES)
_COMMENT = re.compile(r"#.*$", re.MULTILINE)


def _match(text: str) -> str | None:
    for label, pattern in _COMPILED:
        if pattern.search(text):
            return label
    return None


def family_of(plan: str, code: str) -> str | None:
    """The family label of an idea, or None when neither the code nor the plan names a model."""
    return _match(_COMMENT.sub("", code)) or _match(plan)
