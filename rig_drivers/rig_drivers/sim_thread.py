"""One thread that owns the simulation: an OpenGL context (MuJoCo's EGL renderer) can only be current on one thread,
while transports run callbacks on whichever thread spins (the main thread under rclpy, an executor thread over DDS)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class SimThread:
    """Runs calls one at a time on its own thread and waits for their results (exceptions are re-raised)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim")

    def call(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)``, run on the simulation thread."""
        return self._pool.submit(function, *args).result()

    def close(self) -> None:
        """Finish the calls already submitted and stop the thread."""
        self._pool.shutdown(wait=True)
