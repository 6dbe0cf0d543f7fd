"""Hand a value to a thread of its own to send, newest first, so the training thread never waits on the network."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSender(Generic[T]):
    """Sends each value handed over with `put` from one background thread; a value not sent yet is replaced by a
    newer one. A send that blocks (Cyclone DDS's reliable writer waits for a peer behind a cut link to acknowledge
    a large sample such as a weights bundle) then holds up only this thread, and once it returns the newest value
    goes out."""

    def __init__(self, send: Callable[[T], None], on_error: Callable[[str], None], name: str) -> None:
        self._send, self._on_error, self._name = send, on_error, name
        self._pending: list[T] = []  # at most one: the newest value not sent yet
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, value: T) -> None:
        """Send ``value`` soon (never blocks); replaces a value still waiting."""
        with self._wake:
            self._pending[:] = [value]
            self._wake.notify()

    def close(self, timeout_s: float) -> None:
        """Send what is waiting, then stop (a send still blocked after ``timeout_s`` is left to the daemon thread)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                value = self._pending.pop()
            try:
                self._send(value)
            except Exception as error:  # the sender must outlive a failed send (the next value may go through)
                self._on_error(f"{self._name}: sending failed: {error}")
