"""Structured logs, written through the host (bounded per step: past the budget
records are dropped and the log ends with a truncation marker). Never log a secret.

    from weft_sdk import log
    log.info("fetched page", page=2, items=50)
"""

from __future__ import annotations

import enum
from typing import Any


class Level(enum.IntEnum):
    """Severity of a record."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


def write(level: Level, message: str, **fields: Any) -> None:
    """Write one record; keyword arguments become string fields."""
    from wit_world.imports import log as wit

    wit.write(wit.Level(int(level)), message, [(k, str(v)) for k, v in fields.items()])


def trace(message: str, **fields: Any) -> None:
    """Write a ``trace`` record."""
    write(Level.TRACE, message, **fields)


def debug(message: str, **fields: Any) -> None:
    """Write a ``debug`` record."""
    write(Level.DEBUG, message, **fields)


def info(message: str, **fields: Any) -> None:
    """Write an ``info`` record."""
    write(Level.INFO, message, **fields)


def warn(message: str, **fields: Any) -> None:
    """Write a ``warn`` record."""
    write(Level.WARN, message, **fields)


def error(message: str, **fields: Any) -> None:
    """Write an ``error`` record."""
    write(Level.ERROR, message, **fields)
