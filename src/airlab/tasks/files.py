"""Writing a workspace's public files: atomically, and read-only for the candidates."""

from __future__ import annotations

import os
from pathlib import Path


def write_readonly(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` in one rename and leave it read-only (0444)."""
    if path.exists():
        os.chmod(path, 0o644)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data)
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)
    os.chmod(path, 0o444)
