"""The one exception type for problems the user can fix."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or options: the message names the problem and the fix.

    The CLI prints it as one red line and exits with code 2; anything else that escapes is a bug.
    """
