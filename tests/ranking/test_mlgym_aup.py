"""MLGym's published AUP, reproduced from its published per-task score tables.

Source: facebookresearch/MLGym at commit d1592c3 ("updated plotting code and results for COLM
2025"), files ``results/tables/best_scores_aggregate_results.csv``,
``results/tables/last_scores_aggregate_results.csv`` (per-task best-of-4-runs scores, rounded
to 3 decimals; empty = no valid result) and ``results/tables/aup_scores_aggregate_results.csv``
(the AUP of each agent, rounded to 3 decimals), written by ``scripts/evaluation/get_ranks.py``.
3-SAT (solve time) and Language Modeling (validation loss) are lower-is-better.

The score tables are rounded, MLGym computed AUP from the unrounded scores: the residual is at
most 0.0008 here (see the README), inside the 0.002 tolerance.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from airlab.ranking import rank
from airlab.ranking.profiles import default_grid_end, performance_profiles
from airlab.ranking.table import load_results

BEST_SCORES = """\
Task,baseline,gpt4o2,gpt-o3-mini,gpt-o1,deepseek-r1,llama3-405b-tools,llama4-17b-16,llama4-17b-128,claude-35-sonnet-new,claude-37-sonnet,gemini-15-pro,gemini-20-flash-thinking,gemini-25-pro
House Price,0.88,0.895,,0.931,,0.908,0.892,0.903,0.921,,0.914,0.91,0.9
3-SAT,16.158,13.676,14.244,13.652,12.612,13.793,11.894,12.626,15.728,14.677,14.36,12.383,13.207
CIFAR-10,0.497,0.733,0.1,0.857,,0.548,0.499,0.716,0.895,0.886,0.84,0.76,0.856
Fashion MNIST,0.783,0.927,,0.92,,0.876,0.922,0.896,0.945,0.942,0.916,0.902,0.907
MS-COCO,0.279,0.176,,0.135,0.28,0.294,,0.473,0.298,0.317,0.131,0.327,0.284
Language Modeling,4.673,4.361,,3.966,,,,,4.476,,4.166,4.687,
MNLI,52.511,81.946,,83.627,83.413,77.748,83.647,83.25,83.036,,83.821,83.821,84.249
Battle of Sexes,1.023,1.149,1.15,1.444,1.024,1.261,1.442,1.442,1.442,1.443,1.443,1.445,1.442
Prisoners Dilemma,2.372,2.6,2.386,2.629,2.421,2.632,2.634,2.421,2.567,2.38,2.63,2.534,2.633
Blotto,-0.248,0.047,-0.244,0.248,0.025,0.043,0.023,0.037,0.576,0.246,0.249,0.25,0.176
Breakout,48.817,0.0,,63.518,57.977,58.87,56.5,42.338,35.017,22.515,71.389,36.376,59.77
Meta Maze,15.734,7.823,,34.986,17.3,26.744,0.703,7.877,48.562,22.825,27.859,20.278,48.428
Mountain Car Continuous,33.794,9.137,,61.277,-31167493439488.0,71.726,,-25907695714304.0,,,74.737,36.794,69.99
"""

LAST_SCORES = """\
Task,baseline,gpt4o2,gpt-o3-mini,gpt-o1,deepseek-r1,llama3-405b-tools,llama4-17b-16,llama4-17b-128,claude-35-sonnet-new,claude-37-sonnet,gemini-15-pro,gemini-20-flash-thinking,gemini-25-pro
House Price,0.88,0.895,,0.931,,0.908,0.878,0.903,0.912,,0.908,0.91,0.9
3-SAT,16.158,13.676,14.244,13.83,13.075,13.936,11.894,12.846,15.728,14.677,14.36,12.604,13.326
CIFAR-10,0.497,0.733,0.1,0.854,,0.528,0.499,0.716,0.894,0.886,0.758,0.76,0.856
Fashion MNIST,0.783,0.927,,0.906,,0.876,0.922,0.896,0.945,0.939,0.916,0.902,0.907
MS-COCO,0.279,0.111,,0.135,0.28,0.294,,0.473,0.125,0.317,0.131,0.327,0.284
Language Modeling,4.673,4.361,,3.966,,,,,4.476,,4.166,4.687,
MNLI,52.511,81.946,,83.627,83.413,77.748,83.647,83.25,83.036,,83.821,83.821,83.872
Battle of Sexes,1.023,1.144,1.131,1.439,1.024,1.256,1.442,1.439,1.439,1.442,1.443,1.44,1.442
Prisoners Dilemma,2.372,2.582,2.386,2.571,2.371,2.562,2.634,2.383,2.563,2.38,2.63,2.435,2.632
Blotto,-0.248,0.047,-0.244,0.247,0.02,0.041,0.019,0.037,0.228,0.241,0.088,0.245,0.174
Breakout,48.817,0.0,,63.518,57.977,58.87,56.5,42.338,17.735,22.515,71.389,36.376,59.77
Meta Maze,15.734,7.823,,34.986,17.3,26.744,0.703,7.688,48.562,22.825,22.889,1.553,45.741
Mountain Car Continuous,33.794,9.137,,52.73,-31167493439488.0,71.726,,-30065630904320.0,,,74.588,-0.055,69.99
"""

PUBLISHED_AUP = """\
Model,Best AUP,Last AUP
gpt4o2,1.288,1.317
gpt-o3-mini,1.214,1.236
gpt-o1,1.423,1.444
deepseek-r1,1.249,1.267
llama3-405b-tools,1.33,1.353
llama4-17b-16,1.267,1.288
llama4-17b-128,1.303,1.33
claude-35-sonnet-new,1.426,1.419
claude-37-sonnet,1.35,1.378
gemini-15-pro,1.42,1.405
gemini-20-flash-thinking,1.374,1.385
gemini-25-pro,1.419,1.445
baseline,1.22,1.243
"""

LOWER_IS_BETTER = ("3-SAT", "Language Modeling")


def _long(wide: str) -> pd.DataFrame:
    table = pd.read_csv(io.StringIO(wide)).melt(id_vars="Task", var_name="agent", value_name="score")
    table = table.rename(columns={"Task": "task"}).dropna(subset=["score"])
    return table[["agent", "task", "score"]]


def _grid_end(wide: str) -> float:
    matrix = load_results(_long(wide), lower_is_better=LOWER_IS_BETTER).matrix()
    return performance_profiles(matrix, baseline="baseline").grid_end


def test_grid_is_shared_between_best_and_last_tables() -> None:
    # Blotto decides: best table 0.576 / 0.023 = 25.04 -> ceil(1.05 x 25.04) = 27 -> 1.5;
    # last table 0.247 / 0.019 = 13 -> ceil(13.65) = 14 -> log10 = 1.146 -> 1.2
    assert _grid_end(BEST_SCORES) == pytest.approx(1.5)
    assert _grid_end(LAST_SCORES) == pytest.approx(1.2)
    assert default_grid_end(np.array([26.3, 13.65])) == pytest.approx(1.5)


@pytest.mark.parametrize(("wide", "column"), [(BEST_SCORES, "Best AUP"), (LAST_SCORES, "Last AUP")])
def test_reproduces_published_aup(wide: str, column: str) -> None:
    published = pd.read_csv(io.StringIO(PUBLISHED_AUP)).set_index("Model")[column]
    end = max(_grid_end(BEST_SCORES), _grid_end(LAST_SCORES))
    result = rank(
        _long(wide),
        "aup",
        lower_is_better=LOWER_IS_BETTER,
        baseline="baseline",
        method_options={"aup": {"grid_end": end}},
    )["aup"]
    ours = {row.agent: row.score for row in result.agents}
    assert set(ours) == set(published.index)
    for agent, value in published.items():
        assert ours[agent] == pytest.approx(value, abs=0.002), agent
    # hence MLGym's order, wherever its published values are more than 2 x 0.002 apart
    for a in ours:
        for b in ours:
            if published[a] - published[b] > 0.004:
                assert ours[a] > ours[b], (a, b)
