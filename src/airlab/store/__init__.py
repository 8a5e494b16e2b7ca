"""Durable storage: the SQLite journal of a run."""

from airlab.store.run_store import RunStore

__all__ = ["RunStore"]
