"""airlab: run AI research agents on ML tasks, evaluate them honestly, rank them across tasks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("airlab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
