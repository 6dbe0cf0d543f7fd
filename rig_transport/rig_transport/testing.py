"""Test helpers for real DDS between real processes (needs pytest; imported by the packages' test suites only).

* `isolated_dds_env`: a ROS domain of its own (100-230) and Cyclone DDS on loopback only, set before any
  DomainParticipant exists and inherited by node processes, so parallel runs never hear each other.
* `NodeProcess`: a node started from its installed console script (pip's or colcon's: `rig_transport.scripts`) with
  ``--ros-args`` parameters.
* `TestNode` / `Listener`: a DDS peer in the test process and the messages of its subscriptions.
* fixtures `isolated_dds` (autouse: a domain per test), `test_node` and `start_node`: import them into a conftest.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from rig_transport.interface import QoSProfile
from rig_transport.scripts import installed_script

# A test module that imports these helpers is skipped, with the reason, where the DDS backend is not installed (colcon
# test on a ROS 2 machine without the PyPI packages), instead of failing to import.
pytest.importorskip("cyclonedds", reason="the DDS backend's cyclonedds is not installed (pip install ./rig_transport)")
from rig_transport.dds_backend import LOOPBACK_CONFIG, MAX_SECURE_DOMAIN, DDSTransport  # noqa: E402

TIMEOUT_S = 120.0
"""Generous limit for any wait (process start with torch on a loaded machine, discovery); never an assertion on time."""
_TEST_DOMAINS = range(100, MAX_SECURE_DOMAIN + 1)
"""Ids DDS Security admits too (keyed tests), above the lab's usual low ones."""
_DOMAINS = itertools.count(random.SystemRandom().randrange(len(_TEST_DOMAINS)))


@contextmanager
def isolated_dds_env() -> Iterator[int]:
    """Within the block: a fresh ROS_DOMAIN_ID (100-230), loopback-only Cyclone DDS, the DDS transport."""
    with pytest.MonkeyPatch.context() as patch:
        domain = _TEST_DOMAINS[next(_DOMAINS) % len(_TEST_DOMAINS)]
        patch.setenv("ROS_DOMAIN_ID", str(domain))
        patch.setenv("CYCLONEDDS_URI", LOOPBACK_CONFIG)
        patch.delenv("RIG_TRANSPORT", raising=False)
        yield domain


@pytest.fixture(autouse=True)
def isolated_dds() -> Iterator[int]:
    """Each test in a ROS domain of its own (the node topics are fixed names: tests must not hear each other)."""
    with isolated_dds_env() as domain:
        yield domain


def script_args(script: str, params: dict[str, Any]) -> list[str]:
    """Command line of an installed console script with ``-p`` parameters (strings and bools YAML-quoted, like rcl)."""
    args = [installed_script(script), "--ros-args"]
    for name, value in params.items():
        args += ["-p", f"{name}:={json.dumps(value) if isinstance(value, (bool, str)) else value}"]
    return args


class NodeProcess:
    """A process whose stdout and stderr go to a log file; a node by default (see `script_args`). It runs in the log
    file's directory, so the relative paths of node defaults (the policy's spool, ``runs/...``) stay there too."""

    def __init__(self, script: str, params: dict[str, Any], log_path: Path, *, args: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None) -> None:  # fmt: skip
        self.log_path = log_path
        with log_path.open("ab") as log:
            command = list(args) if args is not None else script_args(script, params)
            environment = {**os.environ, **env} if env is not None else None  # None: this process's environment
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent,
                                            env=environment)  # fmt: skip

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str) -> None:
        """Wait until ``text`` appears in the log (fail with the log if the process exits or TIMEOUT_S passes)."""
        deadline = time.monotonic() + TIMEOUT_S
        while text not in self.log():
            if not self.alive() or time.monotonic() > deadline:
                pytest.fail(f"{text!r} not in the log (alive: {self.alive()}):\n{self.log()}")
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit code (killed, and TimeoutExpired raised, if it does not stop)."""
        if self.alive():
            self.process.send_signal(signum)
        try:
            return self.process.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.alive():
            self.process.kill()
        self.process.wait()


def wait_until_matched(publisher: Any, process: NodeProcess) -> None:
    """Until a reader of ``process`` has matched a DDSPublisher of the test process (volatile delivery starts then;
    for a process that reports nothing to probe with, e.g. `rig record`)."""
    deadline = time.monotonic() + TIMEOUT_S
    while publisher.get_subscription_count() < 1:
        if not process.alive() or time.monotonic() > deadline:
            pytest.fail(f"no reader of {process.log_path.name} matched (alive: {process.alive()}):\n{process.log()}")
        time.sleep(0.05)


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

    def wait_for(self, predicate: Callable[[Any], bool], what: str, *nodes: NodeProcess, timeout_s: float = TIMEOUT_S) -> Any:
        """The first message satisfying ``predicate`` (fails after ``timeout_s``, or at once if one of ``nodes`` died)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for node in nodes:
                if not node.alive():
                    pytest.fail(f"{node.log_path.name}: exited ({node.process.returncode}) while waiting for {what}; "
                                f"log:\n{node.log()}")  # fmt: skip
            try:
                msg = self.messages.get(timeout=0.5)
            except queue.Empty:
                continue
            if predicate(msg):
                return msg
        logs = "".join(f"\n--- {node.log_path.name}:\n{node.log()}" for node in nodes)
        pytest.fail(f"no {what} within {timeout_s} s{logs}")


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


@pytest.fixture
def test_node() -> Iterator[TestNode]:
    """A DDS peer named ``test_peer``, shut down at teardown."""
    node = TestNode("test_peer")
    yield node
    node.stop()


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """``start_node(script, params, args=None, env=None)`` starts a process logging to tmp_path (``env``: variables
    over this process's environment); all are stopped at teardown (SIGTERM, then SIGKILL if one hangs: a SIGKILLed
    `rig up` would leave the nodes it started running)."""
    nodes: list[NodeProcess] = []

    def start(script: str, params: dict[str, Any], args: Sequence[str] | None = None,
              env: Mapping[str, str] | None = None) -> NodeProcess:  # fmt: skip
        nodes.append(NodeProcess(script, params, tmp_path / f"{script}_{len(nodes)}.log", args=args, env=env))
        return nodes[-1]

    yield start
    for node in nodes:
        with suppress(subprocess.TimeoutExpired):
            node.stop()


class ProbeFile:
    """What a `rig_transport.probe` process (a checker on another host) records in ``path``: per topic a Listener
    fed by a reader thread, whose messages are the records (dicts: ``t``, the arrival time, and the fields)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._listeners: dict[str, Listener] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def listen(self, topic: str) -> Listener:
        """Records of ``topic`` from now on (call before `start` to get them all)."""
        return self._listeners.setdefault(topic, Listener())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(TIMEOUT_S)

    def _follow(self) -> None:
        while not self.path.exists():
            if self._stop.wait(0.05):
                return
        with self.path.open() as records:
            pending = ""
            while not self._stop.wait(0.05):
                pending += records.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    record = json.loads(line)
                    if record["topic"] in self._listeners:
                        self._listeners[record["topic"]].messages.put(record)
