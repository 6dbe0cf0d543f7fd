"""Test isolation for real DDS traffic, as in rig_transport/tests/conftest.py: Cyclone DDS on loopback only and
a ROS domain of each test's own (the node topics are fixed names, so tests must not hear each other). The
environment is set before any DomainParticipant exists and is inherited by node processes."""

from __future__ import annotations

import itertools
import json
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rig_transport import QoSProfile
from rig_transport.dds_backend import LOOPBACK_CONFIG, DDSTransport

TIMEOUT_S = 120.0
"""Generous limit for any wait (process start with torch on a loaded machine, discovery); never an assertion on time."""
_DOMAINS = itertools.count(random.SystemRandom().randint(100, 180))


@pytest.fixture(autouse=True)
def isolated_dds(monkeypatch: pytest.MonkeyPatch) -> int:
    """A fresh ROS_DOMAIN_ID (100-232) per test and a loopback-only Cyclone DDS."""
    domain = 100 + (next(_DOMAINS) - 100) % 133
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("CYCLONEDDS_URI", LOOPBACK_CONFIG)
    monkeypatch.delenv("RIG_TRANSPORT", raising=False)
    return domain


class NodeProcess:
    """A node started from its installed console script with ``-p`` parameters; output goes to a log file."""

    def __init__(self, script: str, params: dict[str, Any], log_path: Path) -> None:
        args = [str(Path(sys.executable).parent / script), "--ros-args"]
        for name, value in params.items():
            text = json.dumps(value) if isinstance(value, (bool, str)) else str(value)  # YAML-typed like rcl
            args += ["-p", f"{name}:={text}"]
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit code."""
        if self.alive():
            self.process.send_signal(signum)
        try:
            return self.process.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


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


class Listener:
    """Messages of one subscription, in arrival order."""

    def __init__(self) -> None:
        self.messages: queue.Queue[Any] = queue.Queue()

    def clear(self) -> list[Any]:
        """Take (and forget) the messages received so far."""
        taken = []
        while not self.messages.empty():
            taken.append(self.messages.get_nowait())
        return taken

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


@pytest.fixture
def test_node() -> Iterator[TestNode]:
    node = TestNode("test_peer")
    yield node
    node.stop()


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[[str, dict[str, Any]], NodeProcess]]:
    nodes: list[NodeProcess] = []

    def start(script: str, params: dict[str, Any]) -> NodeProcess:
        nodes.append(NodeProcess(script, params, tmp_path / f"{script}_{len(nodes)}.log"))
        return nodes[-1]

    yield start
    for node in nodes:
        if node.alive():
            node.process.kill()
            node.process.wait()
