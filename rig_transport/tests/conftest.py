"""Test isolation for real DDS traffic: a random ROS domain per run, Cyclone DDS on loopback only.

The environment is set before any DomainParticipant exists and is inherited by peer processes.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from peer import TIMEOUT_S

from rig_transport.dds_backend import LOOPBACK_CONFIG, DDSTransport

PEER = Path(__file__).with_name("peer.py")


@pytest.fixture(scope="session", autouse=True)
def isolated_dds() -> Iterator[int]:
    """Own ROS_DOMAIN_ID (100-200) and a loopback-only Cyclone DDS for the whole run."""
    with pytest.MonkeyPatch.context() as patch:
        domain = random.SystemRandom().randint(100, 200)
        patch.setenv("ROS_DOMAIN_ID", str(domain))
        patch.setenv("CYCLONEDDS_URI", LOOPBACK_CONFIG)
        patch.delenv("RIG_TRANSPORT", raising=False)
        yield domain


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A topic namespace of this test alone, so that no other test's traffic reaches it."""
    return f"/test_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}_{os.getpid()}"


class SpinningNode:
    """A DDSTransport in this process, spinning on a background thread."""

    def __init__(self, name: str, argv: list[str] | None = None) -> None:
        self.transport = DDSTransport(name, argv=argv or [])
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.transport.spin, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.transport.shutdown()
        if self._thread is not None:
            self._thread.join(TIMEOUT_S)
            assert not self._thread.is_alive(), "spin() did not return after shutdown()"


@pytest.fixture
def make_node() -> Iterator[Callable[..., SpinningNode]]:
    nodes: list[SpinningNode] = []

    def make(name: str, argv: list[str] | None = None) -> SpinningNode:
        nodes.append(SpinningNode(name, argv))
        return nodes[-1]

    yield make
    for node in nodes:
        node.stop()


class Peer:
    """A ``peer.py`` process; its stdout lines are collected on a thread."""

    def __init__(self, role: str, prefix: str, log_dir: Path) -> None:
        self.stderr_path = log_dir / f"{role}.stderr"
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(PEER), role, prefix], stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, predicate: Callable[[str], bool]) -> str:
        """The first stdout line satisfying ``predicate`` (fails after TIMEOUT_S)."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT_S)
            except queue.Empty:
                pytest.fail(f"peer printed no expected line; stderr:\n{self.stderr_path.read_text()}")
            if predicate(line):
                return line

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def start_peer(tmp_path: Path) -> Iterator[Callable[[str, str], Peer]]:
    peers: list[Peer] = []

    def start(role: str, prefix: str) -> Peer:
        peers.append(Peer(role, prefix, tmp_path))
        return peers[-1]

    yield start
    for peer in peers:
        if peer.process.poll() is None:
            peer.process.kill()
            peer.process.wait()
