"""Runs an MLGym Python-submission evaluation script on the hidden side, for one role.

MLGym's ``evaluate.py`` of a game task imports the agent's function (``from strategy import
row_strategy``) and its opponent (``from target import target_column_strategy``), plays, and prints
one JSON line of metrics. Here it runs in a harness process of its own (``python -m
airlab.suites._mlgym_game``, a JSON request on stdin), beside the hidden modules it imports, never
in the candidate's sandbox. The module it imports for the candidate is a proxy: each call goes
through a :class:`~airlab.execution.channel.Session` to the candidate's code, which runs in its own
sandbox behind a small shim (:data:`SHIM`) that turns the JSON lists of the call back into the
tuples MLGym's histories hold.

The role's seed seeds ``random`` and ``numpy.random`` on both sides (the script's opponents and
the candidate's module), so the same artefacts and role give the same score. The answer is one
JSON line on stdout: ``{"metrics": {...}}`` or ``{"rejected": reason}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import runpy
import shutil
import sys
import traceback
import types
from pathlib import Path
from typing import Any

SHIM_FILE = "_airlab_mlgym_shim.py"
BRIDGE = "_airlab_mlgym_bridge"

SHIM = r'''
import importlib.util, random, sys

_spec = importlib.util.spec_from_file_location(ENTRY_MODULE, ENTRY_FILE)
_module = importlib.util.module_from_spec(_spec)
sys.modules[ENTRY_MODULE] = _module
_spec.loader.exec_module(_module)


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _airlab_seed(seed):
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed % 2**32)
    return True


def _airlab_call(name, args):
    fn = getattr(_module, name, None)
    if not callable(fn):
        raise AttributeError("%s defines no function %s()" % (ENTRY_FILE, name))
    args = [[_tuples(v) for v in a] if isinstance(a, list) else a for a in args]
    return fn(*args)
'''


def shim_source(entry_module: str, entry_file: str) -> str:
    return f"ENTRY_MODULE = {entry_module!r}\nENTRY_FILE = {entry_file!r}\n" + SHIM


def _proxy_source(functions: list[str]) -> str:
    lines = [f"import {BRIDGE} as _bridge", ""]
    for name in functions:
        lines += [f"def {name}(*args):", f"    return _bridge.call({name!r}, args)", ""]
    return "\n".join(lines)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    with contextlib.suppress(ImportError):
        import numpy as np

        np.random.seed(seed % 2**32)


def run(request: dict[str, Any]) -> dict[str, Any]:
    from airlab.execution.channel import CandidateError, Session
    from airlab.tasks.spec import Limits

    scratch = Path(request["scratch"])
    work = scratch / f"mlgym-eval-{request['role']}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    script = Path(request["script"])
    shutil.copyfile(script, work / script.name)
    for name, path in request["hidden"].items():
        shutil.copyfile(path, work / name)
    (work / f"{request['entry_module']}.py").write_text(_proxy_source(request["functions"]))
    files = {name: Path(path) for name, path in request["files"].items()}
    limits = Limits.model_validate(request["limits"])
    failures: list[str] = []
    session = Session(files, SHIM_FILE, scratch, limits, call_timeout=float(request["call_timeout"]),
                      sandbox=request["sandbox"])
    try:
        session.call("_airlab_seed", int(request["seed"]))

        def call(name: str, args: tuple[Any, ...]) -> Any:
            try:
                return session.call("_airlab_call", name, list(args))
            except CandidateError as exc:
                failures.append(str(exc))
                raise

        bridge = types.ModuleType(BRIDGE)
        bridge.call = call  # type: ignore[attr-defined]
        sys.modules[BRIDGE] = bridge
        sys.path.insert(0, str(work))
        _seed_everything(int(request["seed"]))
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(str(work / script.name), run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (None, 0):
                return {"rejected": f"MLGym's {script.name} exited with {exc.code}"}
        except Exception as exc:
            if failures:
                return {"rejected": failures[0]}
            frames = traceback.format_exception_only(type(exc), exc)
            return {"rejected": f"MLGym's {script.name} failed on the candidate's answers: {''.join(frames).strip()}"}
    finally:
        session.close()
    if failures:
        return {"rejected": failures[0]}
    printed = [line.strip() for line in out.getvalue().splitlines() if line.strip().startswith("{")]
    if not printed:
        return {"rejected": f"MLGym's {script.name} printed no JSON line of metrics"}
    try:
        metrics = json.loads(printed[-1])
    except ValueError:
        return {"rejected": f"MLGym's {script.name} printed a line that is not JSON: {printed[-1][:200]}"}
    return {"metrics": metrics}


def main() -> None:
    request = json.loads(sys.stdin.read())
    channel = sys.stdout
    try:
        answer = run(request)
    except Exception as exc:  # the candidate failed to start (an import error, a crash): its reason
        answer = {"rejected": f"{type(exc).__name__}: {exc}" if type(exc).__name__ != "CandidateError" else str(exc)}
    channel.write(json.dumps(answer) + "\n")
    channel.flush()


if __name__ == "__main__":
    main()
