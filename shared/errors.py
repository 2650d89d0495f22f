"""Error types shared by the services."""

from __future__ import annotations


class RegwatchError(Exception):
    """Base class: a problem with a clear, one-line message for users."""


class InputError(RegwatchError):
    """Bad input (file, HTTP body, CLI argument, Kafka message): never retried."""


class TransientError(RegwatchError):
    """A failure worth retrying (database or broker unavailable): the message is redelivered."""
