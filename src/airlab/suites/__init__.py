"""Adapters that read other benchmark suites' tasks from their own on-disk formats."""
