"""Waiting on a queue of status messages (filled by a subscription) for the first one that says what we wait for."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any


def first_status(statuses: queue.Queue, accept: Callable[[Any], bool], timeout_s: float) -> Any | None:
    """The first status ``accept`` takes within ``timeout_s`` (the others are dropped); None if none did."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            status = statuses.get(timeout=left)
        except queue.Empty:
            return None
        if accept(status):
            return status
    return None
