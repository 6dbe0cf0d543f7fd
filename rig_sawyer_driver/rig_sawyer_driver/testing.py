"""Test helpers for real ROS 1 between real processes (needs pytest; imported by test suites only; no rospy here).

* `ros1_env` (fixture): a real ``rosmaster --core`` on a free port of its own, ROS_MASTER_URI/ROS_HOSTNAME for
  loopback, ROS_HOME and ROS_LOG_DIR in tmp_path; child processes inherit them. Yields the `RosMaster`.
* `RosMaster`: that master process; ``kill()`` (SIGKILL, a crash) and ``start()`` again on the same port.
* `Ros1Peer` (and the ``ros1_peer`` fixture that starts them): a `rig_sawyer_driver.ros1_peer` process, with a
  `Listener` per subscribed topic and ``publish``/``stream``/``stop`` commands.

Skip a module that needs ROS 1 with ``pytest.importorskip("rig_sawyer_driver.ros1")`` (the reason names the apt
packages), before importing anything ROS 1.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from rig_transport.testing import TIMEOUT_S, Listener


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RosMaster:
    """A ``rosmaster --core`` process on a fixed port, answering once ``start`` returns."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port, self.log_path = port, log_path
        self.uri = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the master and wait until it answers (its own pid: not a previous master's)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(["rosmaster", "--core", "-p", str(self.port)], stdout=log,
                                            stderr=subprocess.STDOUT)  # fmt: skip
        master = xmlrpc.client.ServerProxy(self.uri)
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"rosmaster exited ({self.process.returncode}); log:\n{self.log_path.read_text()}")
            with suppress(OSError):
                if master.getPid("/test")[2] == self.process.pid:
                    return
            time.sleep(0.1)
        pytest.fail(f"rosmaster on port {self.port} did not answer within {TIMEOUT_S} s")

    def kill(self) -> None:
        """SIGKILL: the master dies without a word to anyone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def ros1_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RosMaster]:
    """A master of this test's own and the environment pointing at it (inherited by every child process)."""
    if shutil.which("rosmaster") is None:
        pytest.skip("rosmaster is not installed (apt-get install python3-rosmaster)")
    master = RosMaster(free_port(), tmp_path / "rosmaster.log")
    monkeypatch.setenv("ROS_MASTER_URI", master.uri)
    monkeypatch.setenv("ROS_HOSTNAME", "127.0.0.1")
    monkeypatch.setenv("ROS_HOME", str(tmp_path / "ros_home"))
    monkeypatch.setenv("ROS_LOG_DIR", str(tmp_path / "ros_log"))
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    master.start()
    yield master
    master.kill()


class Ros1Peer:
    """A `rig_sawyer_driver.ros1_peer` process: ``listeners[topic]`` collects what it receives; stderr goes to a log.

    Quacks like `rig_transport.testing.NodeProcess` (``alive``, ``log``, ``log_path``) for `Listener.wait_for`.
    """

    def __init__(self, name: str, subscriptions: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.listeners = {topic: Listener() for topic in subscriptions}
        command = [sys.executable, "-m", "rig_sawyer_driver.ros1_peer", "--name", name]
        for topic, type_name in subscriptions.items():
            command += ["--subscribe", f"{topic}={type_name}"]
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                            cwd=log_path.parent)  # `-m`: not the repository root (its folders shadow)
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + TIMEOUT_S
        while not self._ready.wait(0.2) and time.monotonic() < deadline:
            if not self.alive():
                pytest.fail(f"{log_path.name}: exited ({self.process.returncode}) at start; log:\n{self.log()}")
        if not self._ready.is_set():
            pytest.fail(f"{log_path.name}: not ready within {TIMEOUT_S} s; log:\n{self.log()}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            data = json.loads(line)
            if data.get("ready"):
                self._ready.set()
            else:
                self.listeners[data["topic"]].messages.put(data["msg"])

    def _send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def publish(self, topic: str, type_name: str, fields: dict[str, Any], *, latch: bool = False) -> None:
        """Publish one message (after the first subscriber connected, unless latched)."""
        self._send({"op": "publish", "topic": topic, "type": type_name, "fields": fields, "latch": latch})

    def stream(self, topic: str, type_name: str, fields: dict[str, Any], rate_hz: float) -> None:
        """Publish the message at ``rate_hz`` until `stop` (or another command on the topic)."""
        self._send({"op": "stream", "topic": topic, "type": type_name, "fields": fields, "rate_hz": rate_hz})

    def stop(self, topic: str) -> None:
        self._send({"op": "stop", "topic": topic})

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, without unregistering from the master."""
        if self.alive():
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Close stdin (the peer shuts down and exits); killed if it has not exited within the limit."""
        if self.alive():
            with suppress(OSError):
                self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def ros1_peer(ros1_env: RosMaster, tmp_path: Path) -> Iterator[Callable[..., Ros1Peer]]:
    """``ros1_peer(name, {topic: type})`` starts a `Ros1Peer` (logging to tmp_path); all are closed at teardown."""
    peers: list[Ros1Peer] = []

    def start(name: str, subscriptions: dict[str, str] | None = None) -> Ros1Peer:
        peers.append(Ros1Peer(name, subscriptions or {}, tmp_path / f"{name}_{len(peers)}.log"))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()
