"""A loop on a daemon thread of its own, stopped on request (the driver's control loop, the master watch)."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Runs ``_run`` on a daemon thread from ``start`` until ``stop``; ``_run`` ends when ``_stopped`` is set."""

    def __init__(self, name: str) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        raise NotImplementedError
