"""Errors the user can act on.

Every error the program expects carries one sentence naming the problem and the fix. The CLI prints
it on one line and exits with ``exit_code``; nothing else is printed (no traceback).
"""

from __future__ import annotations


class WizardError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message."""

    exit_code = 1


class UsageError(WizardError):
    """Bad input: an impossible choice, a malformed file, an unusable path. Exit code 2."""

    exit_code = 2


class RunError(WizardError):
    """A step of a plan failed, was killed, or was cancelled."""

    exit_code = 1
