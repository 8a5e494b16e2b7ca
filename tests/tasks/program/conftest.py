"""The program-task modules need nothing from ``airlab.tasks``' package init, which imports the
prediction modules being moved; while that init cannot import, load the package without it."""

from __future__ import annotations

import sys
import types
from pathlib import Path

try:
    import airlab.tasks
except ImportError:  # pragma: no cover - only while the package init is broken
    import airlab

    _package = types.ModuleType("airlab.tasks")
    _package.__path__ = [str(Path(airlab.__file__).parent / "tasks")]
    sys.modules["airlab.tasks"] = _package
