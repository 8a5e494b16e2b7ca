"""Errors raised by the ranking package.

Both derive from :class:`airlab.errors.AirlabError`, so the CLI prints their message without a
traceback. The message always says what to change (a column name, a flag, a method name).
"""

from __future__ import annotations

from airlab.errors import AirlabError


class RankingInputError(AirlabError):
    """The results table, a flag or a method option cannot be used as given."""


class DegenerateDataError(AirlabError):
    """A method cannot produce a ranking from this data (e.g. fewer than two agents with data).

    Bootstrap resamples that raise it are skipped and counted instead of failing the run.
    """
