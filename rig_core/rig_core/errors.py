"""The one exception type the command line turns into a clear error line."""


class RigError(Exception):
    """A user-facing problem: bad arguments, a missing or corrupt checkpoint, an unreadable image."""


def wraps_interrupt(error: BaseException) -> bool:
    """Whether a ctypes error is an interrupt in disguise: a signal whose handler raised while a ctypes call (MuJoCo's
    EGL renderer) converted its arguments comes out as ctypes.ArgumentError naming the interrupt's class."""
    return any(name in str(error) for name in ("KeyboardInterrupt", "_Terminated"))
