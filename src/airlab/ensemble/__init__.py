"""Ensembles of a run's nodes: chosen on hidden search rows, written out as one script."""

from airlab.ensemble.script import ensemble_script
from airlab.ensemble.selection import (
    ENSEMBLE_POOL,
    Ensemble,
    build_ensemble,
    ensemble_pool,
    score_matrix,
    to_matrix,
)

__all__ = ["ENSEMBLE_POOL", "Ensemble", "build_ensemble", "ensemble_pool", "ensemble_script", "score_matrix", "to_matrix"]
