"""Digits training speedrun: reach the target accuracy on hidden rows in the least CPU time.

``prepare`` writes the public ``train.csv``: 1,000 of scikit-learn's 1,797 8x8 digit images, drawn
by a fixed permutation. The other 797 rows stay here, in eight blocks of about 100 rows (block k
is rows 1000 + 100k ... of the permutation); a role's instances are block numbers.

``evaluate`` runs ``python train.py`` once per grading in a fresh sandbox (cached across the
roles), takes the ``model.npz`` it wrote, loads it without pickle, checks its arrays and computes
the predictions itself; candidate code is never imported here. The score is the run's CPU time
(user + system of the whole process tree), lower is better. A model below the target accuracy on
the role's rows is refused on search and scored as the run's time limit on val and test.

The CPU time is the kernel's count for the sandbox's whole process tree, taken by the harness
when the run ends (:attr:`airlab.execution.sandbox.RunResult.cpu_seconds`): the candidate cannot
touch it, and work handed to a detached process counts too, since the sandbox ends only when every
process in it has.
"""

from __future__ import annotations

import os
import stat
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from airlab.tasks.program.harness import Candidate, Rejected, RoleSet

PERMUTATION_SEED = 20240611
N_PUBLIC = 1000
BLOCK_ROWS = 100
N_PIXELS = 64
N_CLASSES = 10
MAX_HIDDEN = 1024
MAX_MODEL_BYTES = 16 * 1024**2
DEFAULT_TARGET = 0.93
LAYOUTS = {"mlp": ("W1", "b1", "W2", "b2"), "linear": ("W", "b")}
@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits in the fixed order: the first N_PUBLIC rows are public."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(PERMUTATION_SEED).permutation(len(data.target))
    return data.data[order].astype(np.int64), data.target[order].astype(np.int64)


def _block(index: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    start = N_PUBLIC + BLOCK_ROWS * int(index)
    if int(index) < 0 or start >= len(y):
        raise ValueError(f"no hidden block {index}: there are {(len(y) - N_PUBLIC + BLOCK_ROWS - 1) // BLOCK_ROWS}")
    return x[start:start + BLOCK_ROWS], y[start:start + BLOCK_ROWS]


def prepare(folder: Path) -> None:
    """Write the public train.csv: 64 pixel columns (0-16) and the digit."""
    x, y = _digits()
    header = ",".join([f"pixel_{r}_{c}" for r in range(8) for c in range(8)] + ["digit"])
    rows = np.column_stack([x[:N_PUBLIC], y[:N_PUBLIC]])
    lines = [header, *(",".join(str(int(v)) for v in row) for row in rows)]
    (folder / "train.csv").write_text("\n".join(lines) + "\n")


def _read_model(path: Path) -> dict[str, np.ndarray]:
    """The model's arrays, checked: a regular file, a zip of .npy members, no pickle, right shapes."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise Rejected("train.py ran but wrote no model.npz (save it with numpy.savez('model.npz', ...))") from None
    if not stat.S_ISREG(info.st_mode):
        raise Rejected("model.npz is not a regular file")
    if info.st_size > MAX_MODEL_BYTES:
        raise Rejected(f"model.npz is {info.st_size:,} bytes, over the limit of {MAX_MODEL_BYTES:,}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise Rejected("model.npz is not a numpy .npz archive (write it with numpy.savez)") from None
    if sum(m.file_size for m in members) > 4 * MAX_MODEL_BYTES:
        raise Rejected("model.npz unpacks to more than 64 MB")
    names = sorted(m.filename.removesuffix(".npy") for m in members)
    layout = next((k for k, v in LAYOUTS.items() if sorted(v) == names), None)
    if layout is None or any(not m.filename.endswith(".npy") for m in members):
        raise Rejected(f"model.npz holds the arrays {', '.join(names) or 'none'}; expected W1, b1, W2, b2 "
                       "(one hidden ReLU layer) or W, b (a linear model)")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in LAYOUTS[layout]:
                arrays[name] = npz[name]
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise Rejected("model.npz holds an object array (pickled data), which is refused; save float arrays") from None
        raise Rejected(f"model.npz cannot be read: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise Rejected(f"model.npz cannot be read: {type(exc).__name__}: {exc}") from None
    for name, array in arrays.items():
        if array.dtype.kind not in "fiu":
            raise Rejected(f"model.npz: {name} has dtype {array.dtype}; the arrays must be numbers (float)")
    if layout == "mlp":
        w1 = arrays["W1"]
        hidden = w1.shape[1] if w1.ndim == 2 else -1
        expected = {"W1": (N_PIXELS, hidden), "b1": (hidden,), "W2": (hidden, N_CLASSES), "b2": (N_CLASSES,)}
        if not 1 <= hidden <= MAX_HIDDEN:
            raise Rejected(f"model.npz: W1 has shape {w1.shape}; expected (64, H) with 1 <= H <= {MAX_HIDDEN}")
    else:
        expected = {"W": (N_PIXELS, N_CLASSES), "b": (N_CLASSES,)}
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise Rejected(f"model.npz: {name} has shape {arrays[name].shape}; expected {shape}")
    for name, array in arrays.items():
        if not np.isfinite(array).all():
            raise Rejected(f"model.npz: {name} holds values that are not finite (nan or inf)")
    return {name: array.astype(np.float64) for name, array in arrays.items()}


def predict(model: dict[str, np.ndarray], pixels: np.ndarray) -> np.ndarray:
    x = pixels / 16.0
    if "W1" in model:
        logits = np.maximum(x @ model["W1"] + model["b1"], 0.0) @ model["W2"] + model["b2"]
    else:
        logits = x @ model["W"] + model["b"]
    return np.asarray(logits.argmax(axis=1))


def _training(candidate: Candidate) -> dict[str, Any]:
    """Run train.py once per grading: the model and the run's CPU time, or why they are refused."""
    if "training" not in candidate.cache:
        try:
            candidate.cache["training"] = _train(candidate)
        except Rejected as exc:
            candidate.cache["training"] = {"refused": str(exc)}
    outcome: dict[str, Any] = candidate.cache["training"]
    if "refused" in outcome:
        raise Rejected(outcome["refused"])
    return outcome


def _train(candidate: Candidate) -> dict[str, Any]:
    report = candidate.run(["python", "train.py"])
    result = report.result
    if result.limit_hit is not None:
        raise Rejected(f"train.py hit the {result.limit_hit} limit ({result.seconds:.1f} s wall time; "
                       "processes it started count until they end)")
    if result.exit_code != 0:
        tail = result.stderr_tail.strip()[-800:]
        raise Rejected(f"train.py exited with code {result.exit_code}" + (f"; its stderr ends:\n{tail}" if tail else ""))
    if result.cpu_seconds is None:
        raise Rejected("the CPU time of the run could not be measured")
    return {"model": _read_model(report.outputs / "model.npz"), "cpu_seconds": result.cpu_seconds}


def evaluate(candidate: Candidate, role: RoleSet) -> float:
    """The training run's CPU seconds if its model reaches the target accuracy on the role's rows."""
    target = float(role.settings.get("target_accuracy", DEFAULT_TARGET))
    outcome = _training(candidate)
    blocks = [_block(i) for i in role.instances]
    x = np.concatenate([b[0] for b in blocks])
    y = np.concatenate([b[1] for b in blocks])
    accuracy = float((predict(outcome["model"], x) == y).mean())
    if accuracy < target:
        if role.name == "search":
            raise Rejected(f"accuracy {accuracy:.3f} on the hidden rows is below the target {target:.2f}")
        return float(candidate.limits.time_seconds)
    return round(float(outcome["cpu_seconds"]), 3)
