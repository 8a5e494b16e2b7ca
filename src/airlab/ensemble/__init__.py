"""Ensembles of a run's nodes: chosen on hidden search rows, written out as one script."""

from airlab.ensemble.script import ensemble_script
from airlab.ensemble.selection import Ensemble, build_ensemble, score_matrix, to_matrix

__all__ = ["Ensemble", "build_ensemble", "ensemble_script", "score_matrix", "to_matrix"]
