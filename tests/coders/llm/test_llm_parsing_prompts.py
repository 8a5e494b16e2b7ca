"""Parsing replies, prompt sections, and model-family labels."""

from __future__ import annotations

import pytest

from airlab.coders.llm.parsing import ParseError, code_blocks, parse_reply
from airlab.coders.llm.prompts import build_prompt
from airlab.coders.llm.taxonomy import LABELS, family_of
from airlab.coders.offline import families
from airlab.search.memory import Memory
from airlab.search.node import Node, NodeStatus, Operator
from tests.coders.llm.conftest import make_request

SCRIPT = "import pandas as pd\ndf = pd.read_csv('train.csv')\ndf.to_csv('submission.csv')"


@pytest.mark.parametrize("reply", [
    f"Plan: use pandas.\n```python\n{SCRIPT}\n```\nDone.",
    f"Plan: use pandas.\n```py\n{SCRIPT}\n```",
    f"Plan: use pandas.\n```\n{SCRIPT}\n```",
    f"Plan: use pandas.\n~~~python\n{SCRIPT}\n~~~",
    f"**Plan:** use pandas.\n  ```Python\n{SCRIPT}\n  ```",
    f"Plan: use pandas.\n```python\n{SCRIPT}",  # cut off by the token limit
    f"Plan: use pandas.\n{SCRIPT}\n",  # no fence at all
])
def test_plan_and_code_from_many_reply_shapes(reply: str) -> None:
    parsed = parse_reply(reply)
    assert parsed.plan == "use pandas." and parsed.code == SCRIPT + "\n"


def test_longest_python_block_wins_and_other_languages_are_ignored() -> None:
    reply = ("Idea: trees.\n```bash\npip install lightgbm\n```\n```python\nimport os\n```\n"
             f"Full script:\n```python\n{SCRIPT}\n```\n```text\noutput\n```")
    parsed = parse_reply(reply)
    assert parsed.code == SCRIPT + "\n" and parsed.plan.startswith("trees.")
    assert [b.lang for b in code_blocks(reply)] == ["bash", "python", "python", "text"]


def test_broken_but_code_like_scripts_are_kept_for_the_debug_operator() -> None:
    broken = "import pandas as pd\ndf = pd.read_csv('train.csv'\nmodel = fit(df)\n"
    assert parse_reply(f"```python\n{broken}```").code == broken


@pytest.mark.parametrize(("reply", "reason"), [
    ("", "empty"),
    ("I would use a random forest because it is robust.", "no ```python code block"),
    ("Plan:\n```python\n# TODO: write the code\n```", "no runnable Python"),
    ("```python\n'just a string'\n```", "no runnable Python"),
])
def test_replies_without_usable_code(reply: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_reply(reply)


@pytest.mark.parametrize(("code", "label"), [
    ("from lightgbm import LGBMClassifier\nm = LGBMClassifier()", "boosting"),
    ("from sklearn.ensemble import HistGradientBoostingRegressor", "boosting"),
    ("from sklearn.ensemble import RandomForestClassifier", "trees"),
    ("from sklearn.linear_model import LogisticRegression", "linear"),
    ("from sklearn.svm import SVC", "svm"),
    ("from sklearn.neighbors import KNeighborsRegressor", "knn"),
    ("from sklearn.naive_bayes import GaussianNB", "naive_bayes"),
    ("from sklearn.neural_network import MLPClassifier", "neural_net"),
    ("from statsmodels.tsa.statespace.sarimax import SARIMAX", "arima"),
    ("from statsmodels.tsa.holtwinters import ExponentialSmoothing", "exponential_smoothing"),
    ("pred = y.iloc[-season:]  # seasonal naive", None),  # comments do not count
])
def test_family_from_code(code: str, label: str | None) -> None:
    assert family_of("", code) == label


def test_family_falls_back_to_the_plan_and_labels_match_the_offline_coder() -> None:
    assert family_of("A gradient boosting model with tuned depth.", "model = make_model()") == "boosting"
    assert family_of("Something clever.", "x = 1") is None
    offline = {f.label for group in (families.CLASSIFICATION, families.REGRESSION, families.TEXT, families.FORECASTING)
               for f in group}
    assert offline <= set(LABELS)


def test_draft_prompt_sections() -> None:
    memory = Memory(sibling_plans=["random forest with 300 trees"], sibling_families=["trees"],
                    good_summaries=["node 0 [trees] search 0.95: random forest"])
    prompt = build_prompt(make_request(memory=memory))
    assert prompt.titles == ["Task", "Data preview", "Limits", "Submission format", "Ideas already tried",
                             "Good solutions so far", "Instructions", "Response format"]
    text = prompt.render()
    assert "random forest with 300 trees" in text and "model families already drafted: trees" in text
    assert "sepal" in prompt.section("Data preview").body.lower()  # type: ignore[union-attr]
    assert "`id, " in prompt.section("Submission format").body  # type: ignore[union-attr]
    limits = make_request().limits
    assert f"{limits.time_seconds:g} s" in prompt.section("Limits").body  # type: ignore[union-attr]


def test_improve_and_crossover_prompts_show_parents_with_search_scores_only() -> None:
    a = Node(id=1, operator=Operator.DRAFT, plan="trees", code="print('a')", status=NodeStatus.OK, search_score=0.91)
    b = Node(id=2, operator=Operator.DRAFT, plan="linear", code="print('b')", status=NodeStatus.OK, search_score=0.88)
    improve = build_prompt(make_request(Operator.IMPROVE, [a], Memory(sibling_plans=["more trees"])))
    assert "search score 0.91" in improve.render() and "more trees" in improve.render()
    assert "Parent solution" in improve.titles
    cross = build_prompt(make_request(Operator.CROSSOVER, [a, b]))
    assert {"Parent A", "Parent B"} <= set(cross.titles) and "print('b')" in cross.render()
    debug = build_prompt(make_request(Operator.DEBUG, [a]))
    assert "Good solutions so far" not in debug.titles
