"""Errors that are the user's to fix, each with its documented exit code.

The CLI prints a :class:`CmooeError` as one paragraph and exits with its
``exit_code``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "CmooeError",
    "ConfigError",
    "ContractError",
    "InputDataError",
    "StateError",
]


class CmooeError(Exception):
    """Base class for errors caused by the user's input, files or environment.

    Parameters
    ----------
    message : str
        One paragraph that says what is wrong and, where possible, how to fix it.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CmooeError):
    """The workspace configuration or an option is invalid (exit code 3)."""

    exit_code = 3


class InputDataError(CmooeError):
    """An input file is missing, unreadable or has the wrong shape (exit code 4)."""

    exit_code = 4


class ContractError(InputDataError):
    """An extract breaks its data contract as a whole: a missing column, a wrong type."""


class StateError(CmooeError):
    """The workspace is not in a state the command can work from (exit code 5).

    For example: nothing ingested yet, no champion model registered, or another
    run holding the lock.
    """

    exit_code = 5
