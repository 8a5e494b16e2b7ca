"""Write an ensemble out as one runnable script, so ``best_solution.py`` is the final answer
whether a node or an ensemble of nodes was chosen.

The script runs each member's code in its own sub-folder on the same input files and averages
what they wrote with the ensemble's weights, exactly as the harness blended them.
"""

from __future__ import annotations

from collections.abc import Sequence

_TEMPLATE = '''"""Weighted ensemble of airlab nodes {members}.

Weights {weights} were chosen by greedy ensemble selection on hidden search rows the members never
trained on. Each member runs in its own sub-folder on this folder's input files; their predictions
are averaged ({how}).
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

PREDICTION = {prediction!r}  # proba | label | value
CLASSES = {classes!r}
MEMBERS = [  # (node, weight, code)
{entries}
]

required = pd.read_csv("sample_submission.csv", nrows=0).columns.tolist()
inputs = [name for name in os.listdir(".") if name.endswith(".csv") and name != "submission.csv"]
blend, ids = None, None
for node, weight, code in MEMBERS:
    folder = f"member-{{node}}"
    os.makedirs(folder, exist_ok=True)
    for name in inputs:
        shutil.copyfile(name, os.path.join(folder, name))
    with open(os.path.join(folder, "solution.py"), "w") as handle:
        handle.write(code)
    subprocess.run([sys.executable, "solution.py"], cwd=folder, check=True)
    written = pd.read_csv(os.path.join(folder, "submission.csv"), dtype={{"id": str}}).set_index("id")
    shutil.rmtree(folder, ignore_errors=True)
    ids = written.index if ids is None else ids
    written = written.loc[ids]
    if PREDICTION == "proba":
        matrix = written[CLASSES].to_numpy(dtype=float)
    elif PREDICTION == "label":
        labels = written.iloc[:, 0].astype(str).to_numpy()
        matrix = (labels[:, None] == np.asarray(CLASSES, dtype=object)[None, :]).astype(float)
    else:
        matrix = written.iloc[:, 0].to_numpy(dtype=float)[:, None]
    blend = weight * matrix if blend is None else blend + weight * matrix
    print(f"member node {{node}} (weight {{weight:g}}) done")

assert blend is not None and ids is not None
if PREDICTION == "proba":
    blend = blend / blend.sum(axis=1, keepdims=True)
    submission = pd.DataFrame(blend, columns=CLASSES)[required[1:]]
    submission.insert(0, "id", ids)
elif PREDICTION == "label":
    submission = pd.DataFrame({{"id": ids, required[1]: np.asarray(CLASSES, dtype=object)[blend.argmax(axis=1)]}})
else:
    submission = pd.DataFrame({{"id": ids, required[1]: blend[:, 0]}})
submission.to_csv("submission.csv", index=False)
print("wrote submission.csv", submission.shape)
'''

_HOW = {"proba": "class probabilities", "label": "a weighted vote of the labels", "value": "predicted values"}


def _literal(code: str) -> str:
    """The code as a readable raw triple-quoted string when that is exact, else its repr."""
    if "'''" not in code and not code.endswith(("\\", "'")):
        return "r'''" + code + "'''"
    return repr(code)


def ensemble_script(members: Sequence[tuple[int, float, str]], prediction: str, classes: Sequence[str]) -> str:
    entries = "\n".join(f"    ({node}, {weight!r}, {_literal(code)}),"
                        for node, weight, code in members)
    return _TEMPLATE.format(
        members=", ".join(str(n) for n, _, _ in members), weights=", ".join(f"{w:g}" for _, w, _ in members),
        how=_HOW[prediction], prediction=prediction, classes=list(classes), entries=entries,
    )
