"""Adapters that read other benchmark suites' on-disk formats as airlab tasks.

Each adapter is registered in :data:`airlab.tasks.loader.SUITES` under its prefix
(``airlab run <prefix>:<id> --suite-dir <dir>``) and returns a :class:`~airlab.tasks.protocol.Task`:

- ``mlebench`` (:mod:`airlab.suites.mlebench`): a competition prepared by MLE-bench.
"""
