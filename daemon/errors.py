"""One small exception hierarchy, so callers catch by meaning.

Every error a user can cause carries a one-line message that names what was wrong and where;
the command line prints that line (never a traceback) and exits with the error's status.
"""

from __future__ import annotations


class AftersaleError(Exception):
    """Root of every error Aftersale raises on purpose."""

    exit_status: int = 1


class ConfigError(AftersaleError):
    """The configuration file, or an environment variable it names, is wrong."""

    exit_status = 2


class UsageError(AftersaleError):
    """A command-line argument or an input file given on the command line is wrong."""

    exit_status = 2


class MailboxError(AftersaleError):
    """The mailbox could not be reached, read or written."""


class MailboxAuthError(MailboxError):
    """The server refused the credentials: retrying will not help."""

    exit_status = 2


class OutboxError(AftersaleError):
    """A reply could not be filed or sent."""


class StoreError(AftersaleError):
    """The state store is unreadable, locked by another process, or could not be written."""


class StoreLockedError(StoreError):
    """Another Aftersale process holds the store's writer lock."""


class TemplateError(AftersaleError):
    """A reply template is missing, broken, or uses a name the context does not have."""


class ClassifierError(AftersaleError):
    """A keyword file or classifier setting is wrong."""

    exit_status = 2
