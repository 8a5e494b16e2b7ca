"""Errors a user can act on. Each carries a message meant to be printed as is."""


class AirlabError(Exception):
    """Base class: the CLI prints the message without a traceback."""


class TaskSpecError(AirlabError):
    """A task file is malformed; the message names the file and the field."""


class UnknownTaskError(AirlabError):
    """A task id that is neither built in nor a folder; the message lists the known ids."""


class RunStateError(AirlabError):
    """A run directory cannot be resumed or read."""


def optional_import_error(module: str, extra: str) -> AirlabError:
    """An install hint for an optional dependency."""
    return AirlabError(
        f"this feature needs the optional package '{module}'. "
        f"Install it with: pip install 'airlab[{extra}]'"
    )
