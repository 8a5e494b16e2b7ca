"""Prediction tasks: a table with a target; the artefact is submission.csv."""
