"""The project's error types.

Every failure a user can cause (a bad path, a damaged cache, a bad option)
raises a subclass of :class:`BlocksError` whose message is one line.  The CLI
prints that line, never a traceback, and picks the exit code from the type.
"""

from __future__ import annotations


class BlocksError(Exception):
    """A failure with a one-line message meant for the user (exit code 1)."""

    exit_code = 1


class UsageError(BlocksError):
    """The command line asked for something that cannot work (exit code 2)."""

    exit_code = 2


class CacheError(BlocksError):
    """A cache file is missing, damaged, incomplete or of an unknown version."""
