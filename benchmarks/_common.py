"""What every benchmark script shares: the machine description and the BENCHMARKS.md writer."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, {platform.system()} {platform.release()}"


def write_section(title: str, text: str, path: Path = BENCHMARKS) -> None:
    """Replace the section headed ``title`` (up to the next ``## ``), or append it at the end.

    ``text`` starts with the heading itself; the other sections are left untouched.
    """
    doc = path.read_text()
    start = doc.find(title + "\n")
    if start < 0:
        path.write_text(doc.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
        return
    end = doc.find("\n## ", start + len(title))
    rest = "" if end < 0 else doc[end + 1:]
    path.write_text(doc[:start] + text.rstrip("\n") + "\n" + ("\n" + rest if rest else ""))
