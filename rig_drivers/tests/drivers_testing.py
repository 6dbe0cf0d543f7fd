"""Helpers of the rig_drivers tests: node processes, a DDS peer in the test process, generated camera media."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from rig_transport import QoSProfile
from rig_transport.dds_backend import DDSTransport

TIMEOUT_S = 60.0
"""Generous limit for any wait (process start and discovery on a loaded machine); never a timing assertion."""


def script_args(script: str, params: dict[str, Any]) -> list[str]:
    """Command line of an installed console script with ``-p`` parameters (strings and bools YAML-quoted)."""
    args = [str(Path(sys.executable).parent / script), "--ros-args"]
    for name, value in params.items():
        args += ["-p", f"{name}:={json.dumps(value) if isinstance(value, (bool, str)) else value}"]
    return args


class NodeProcess:
    """A node process; stdout and stderr go to a log file."""

    def __init__(self, script: str, params: dict[str, Any], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(script_args(script, params), stdout=log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit code (killed if it does not stop)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


class Listener:
    """Messages of one subscription, in arrival order."""

    def __init__(self) -> None:
        self.messages: queue.Queue[Any] = queue.Queue()

    def clear(self) -> None:
        """Forget the messages received so far."""
        while not self.messages.empty():
            self.messages.get_nowait()

    def poll(self, predicate: Callable[[Any], bool], timeout_s: float) -> Any | None:
        """The first message satisfying ``predicate`` within ``timeout_s``, else None (for resending requests)."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                return None
            if predicate(msg):
                return msg
        return None

    def wait_for(self, predicate: Callable[[Any], bool], what: str, node: NodeProcess | None = None) -> Any:
        """The first message satisfying ``predicate`` (fails after TIMEOUT_S, or at once if ``node`` died)."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if node is not None and not node.alive():
                pytest.fail(f"node exited ({node.process.returncode}) while waiting for {what}; log:\n{node.log()}")
            try:
                msg = self.messages.get(timeout=0.5)
            except queue.Empty:
                continue
            if predicate(msg):
                return msg
        pytest.fail(f"no {what} within {TIMEOUT_S} s" + (f"; node log:\n{node.log()}" if node else ""))


class TestNode:
    """A DDSTransport in the test process, spinning on a background thread once started."""

    __test__ = False

    def __init__(self, name: str) -> None:
        self.transport = DDSTransport(name, argv=[])
        self._thread = threading.Thread(target=self.transport.spin, daemon=True)

    def listen(self, topic: str, type_name: str, qos: QoSProfile) -> Listener:
        listener = Listener()
        self.transport.create_subscription(topic, type_name, qos, listener.messages.put)
        return listener

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.transport.shutdown()
        if self._thread.is_alive():
            self._thread.join(TIMEOUT_S)


def write_folder(folder: Path, count: int, shape: tuple[int, int] = (60, 80)) -> list[np.ndarray]:
    """``count`` PNGs of seeded noise (RGB), named so that their sorted order is their index."""
    folder.mkdir()
    images = [np.random.default_rng(i).integers(0, 256, (*shape, 3), dtype=np.uint8) for i in range(count)]
    for index, rgb in enumerate(images):
        assert cv2.imwrite(str(folder / f"frame_{index:03d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return images


def write_video(path: Path, count: int, size: tuple[int, int] = (128, 96)) -> list[np.ndarray]:
    """An MJPG .avi of ``count`` distinct frames; returns them as OpenCV decodes them (RGB)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    assert writer.isOpened()
    for index in range(count):
        bgr = np.full((size[1], size[0], 3), (20, 60 + 25 * index, 200), np.uint8)
        cv2.rectangle(bgr, (5 + 15 * index, 10), (25 + 15 * index, 40), (255, 255, 255), -1)
        writer.write(bgr)
    writer.release()
    capture, decoded = cv2.VideoCapture(str(path)), []
    while (frame := capture.read())[0]:
        decoded.append(cv2.cvtColor(frame[1], cv2.COLOR_BGR2RGB))
    capture.release()
    assert len(decoded) == count
    return decoded
