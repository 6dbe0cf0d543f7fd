"""The one exception type the command line turns into a clear error line."""


class RigError(Exception):
    """A user-facing problem: bad arguments, a missing or corrupt checkpoint, an unreadable image."""
