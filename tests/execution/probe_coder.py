"""A coder for end-to-end tests that must know which sandbox really ran the candidates: the
offline coder's scripts, each starting with a probe that writes what the candidate sees to stderr.

Imported by the ``airlab`` process a test starts (see :data:`PROBED_AIRLAB`), it registers the
coder ``probed``. Under bubblewrap the candidate's host name is ``sandbox`` and the user's home is
not there; a plain subprocess sees the machine's host name and home.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from airlab.coders.base import CodeRequest, Proposal, make_coder, register_coder

REPO = Path(__file__).resolve().parents[2]
PROBED_AIRLAB = [sys.executable, "-c", "import tests.execution.probe_coder; from airlab.cli import main; main()"]
MARK = "SANDBOX-PROBE "
PROBE = (
    "import json as _json, os as _os, socket as _socket, sys as _sys\n"
    "_sys.stderr.write(" + repr(MARK) + " + _json.dumps({'hostname': _socket.gethostname(), "
    "'sees_home': _os.path.exists(HOME)}) + '\\n')\n"
    "_sys.stderr.flush()\n"
)


HOME_FILES = Path.home() / ".cache"  # where the test's model and caches are: on the machine, not in a sandbox
PROBE_CODE = PROBE.replace("HOME", repr(str(HOME_FILES)))


def with_probe(code: str) -> str:
    """The script with the probe first (the offline coder writes no ``from __future__`` import)."""
    assert "from __future__" not in code, "the probe would have to come after it"
    return PROBE_CODE + code


def without_probe(code: str) -> str:
    return code.replace(PROBE_CODE, "")


def probes(stderr: str) -> list[dict[str, Any]]:
    """What each probe in a candidate's stderr reported."""
    return [json.loads(line[len(MARK):]) for line in stderr.splitlines() if line.startswith(MARK)]


class ProbedCoder:
    name = "probed"

    def __init__(self, options: dict[str, Any]):
        self.inner = make_coder("offline", options)

    def write(self, request: CodeRequest) -> Proposal:
        # the offline coder reads its parents' scripts: it gets them as it wrote them
        parents = [p.model_copy(update={"code": without_probe(p.code)}) for p in request.parents]
        proposal = self.inner.write(request.model_copy(update={"parents": parents}))
        return proposal.model_copy(update={"code": with_probe(proposal.code)})


@register_coder("probed")
def _make(model: str, options: dict[str, Any]) -> ProbedCoder:
    return ProbedCoder(options)
