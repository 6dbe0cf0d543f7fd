"""Test helpers for real ROS 1 between real processes (needs pytest; imported by test suites only; no rospy here).

* `ros1_env` (fixture): a real ``rosmaster --core`` on a free port of its own, ROS_MASTER_URI/ROS_HOSTNAME for
  loopback, ROS_HOME and ROS_LOG_DIR in tmp_path; child processes inherit them. Yields the `RosMaster`.
* `RosMaster`: that master process; ``kill()`` (SIGKILL, a crash) and ``start()`` again on the same port.
* `Ros1Peer` (and the ``ros1_peer`` fixture that starts them): a `rig_sawyer_driver.ros1_peer` process, with a
  `Listener` per subscribed topic and ``publish``/``stream``/``stop`` commands.
* `driver_graph` / `DriverGraph`: a rosmaster, the simulated Intera arm and the driver as processes, driven from a DDS
  peer in this process (used by the driver's process tests and by benchmarks/driver.py).
* `play_fuzz_streams`: the envelope's fuzz streams (`rig_drivers.envelope_fuzz.STREAMS`) sent to a `DriverGraph`;
  `ArmExtremes`: the worst the arm reported meanwhile (its endpoint and joint states, as plain dicts).

Skip a module that needs ROS 1 with ``pytest.importorskip("rig_sawyer_driver.ros1")`` (the reason names the apt
packages), before importing anything ROS 1; a module that only runs ROS 1 processes, in a suite with rclpy tests, skips
with `require_ros1` instead (it keeps ROS 1's message modules out of the test process).
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rig_drivers.envelope_fuzz import STREAMS
from rig_drivers.safety import CommandGate, EnvelopeConfig
from rig_drivers.sawyer_kinematics import JOINT_NAMES, SAWYER_LIMITS
from rig_transport import COMMAND, LATCHED, SENSOR_DATA, STATUS, Publisher
from rig_transport.scripts import installed_script
from rig_transport.testing import TIMEOUT_S, Listener, NodeProcess, TestNode, isolated_dds_env


def require_ros1() -> None:
    """Skip the calling module, with ROS 1's reason (the apt packages), where ``rig_sawyer_driver.ros1`` does not import,
    probed in a child process: imported here it would hold ROS 1's std_msgs, sensor_msgs and geometry_msgs in this
    process, under the names that a later rclpy test module imports ROS 2's by."""
    probe = subprocess.run([sys.executable, "-c", "import rig_sawyer_driver.ros1"], capture_output=True, text=True,
                           timeout=TIMEOUT_S)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(probe.stderr.strip().splitlines()[-1], allow_module_level=True)


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


@dataclass
class DriverGraph:
    """The driver between the simulated arm (ROS 1) and a DDS peer; the peer's subscriptions and publishers."""

    master: RosMaster
    arm: NodeProcess
    driver: NodeProcess
    peer: TestNode
    robot_id: str
    poses: Listener
    statuses: Listener
    episodes: Listener
    cmd: Publisher
    stop: Publisher
    episode: Publisher

    def new(self, type_name: str, **fields: Any) -> Any:
        return self.peer.transport.new(type_name, **fields)

    def command(self, x: float, y: float = 0.0, z: float = 0.0, angular: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        """One TwistStamped on /rig/cmd_ee_velocity (m/s and rad/s, base frame)."""
        vector = "geometry_msgs/msg/Vector3"
        twist = self.new("geometry_msgs/msg/Twist", linear=self.new(vector, x=x, y=y, z=z),
                         angular=self.new(vector, x=angular[0], y=angular[1], z=angular[2]))  # fmt: skip
        self.cmd.publish(self.new("geometry_msgs/msg/TwistStamped", twist=twist))

    def set_stop(self, stopped: bool) -> None:
        """The operator stop (latched std_msgs/Bool on /rig/driver/stop)."""
        self.stop.publish(self.new("std_msgs/msg/Bool", data=stopped))

    def status(self, predicate: Any = lambda msg: True, what: str = "a driver status") -> Any:
        """The next status of this robot taken after this call that satisfies ``predicate``."""
        self.statuses.clear()
        return self.statuses.wait_for(lambda msg: msg.robot_id == self.robot_id and predicate(msg), what, self.driver,
                                      self.arm)  # fmt: skip

    def position(self) -> np.ndarray:
        self.poses.clear()
        pose = self.poses.wait_for(lambda msg: True, "an ee_pose", self.driver, self.arm).pose.position
        return np.array([pose.x, pose.y, pose.z])

    def move(self, x: float, y: float, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Command (x, y) once a status for ``seconds`` (status_rate_hz 10: 10 Hz); hand before and after."""
        before = self.position()
        for _ in range(int(seconds * 10)):
            self.command(x, y)
            self.status()
        return before, self.position()

    def still(self) -> np.ndarray:
        """The hand's position once it has stopped (three statuses in a row within 0.1 mm)."""
        previous, calm = self.position(), 0
        while calm < 3:
            self.status()
            now = self.position()
            calm, previous = (calm + 1 if np.linalg.norm(now - previous) < 1e-4 else 0), now
        return previous


@contextmanager
def driver_graph(logs: Path, params: dict[str, Any]) -> Iterator[DriverGraph]:
    """A rosmaster on a free port, ``rig_sim_intera_arm`` and ``rig_sawyer_driver`` (``params``: its parameters,
    ``robot_id`` among them) as processes logging to ``logs``, in a DDS domain of their own with the peer; the ROS 1
    environment (ROS_MASTER_URI, ...) is set in this process too for the block, so a ROS 1 node here can join."""
    with isolated_dds_env(), pytest.MonkeyPatch.context() as env:
        master = RosMaster(free_port(), logs / "rosmaster.log")
        for name, value in (("ROS_MASTER_URI", master.uri), ("ROS_HOSTNAME", "127.0.0.1"), ("ROS_HOME", str(logs)),
                            ("ROS_LOG_DIR", str(logs / "ros")), ("PYTHONUNBUFFERED", "1")):  # fmt: skip
            env.setenv(name, value)
        master.start()
        peer = TestNode("driver_test_peer")
        listen, publish = peer.listen, peer.transport.create_publisher
        poses = listen("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA)
        statuses = listen("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS)
        episodes = listen("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        cmd = publish("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
        stop = publish("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED)
        episode = publish("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        peer.start()
        arm = NodeProcess("", {}, logs / "arm.log", args=[installed_script("rig_sim_intera_arm", "rig_sawyer_driver")])
        driver = NodeProcess("rig_sawyer_driver", params, logs / "driver.log")
        try:
            yield DriverGraph(master, arm, driver, peer, str(params["robot_id"]), poses, statuses, episodes, cmd, stop,
                              episode)  # fmt: skip
        finally:
            driver.stop()
            arm.stop()
            peer.stop()
            master.kill()


@dataclass
class PlayedStreams:
    """What `play_fuzz_streams` sent."""

    streams: int = 0
    ticks: int = 0
    commands: int = 0
    bad_commands: int = 0
    """Commands the envelope's gate rejects (non-finite, absurd): each one the driver receives is counted rejected."""
    stop_toggles: int = 0


def play_fuzz_streams(graph: DriverGraph, count: int, seed: int, ticks: tuple[int, int] = (100, 200),
                      rate_hz: float = 100.0, envelope: EnvelopeConfig | None = None) -> PlayedStreams:  # fmt: skip
    """``count`` streams of `rig_drivers.envelope_fuzz.STREAMS`, every kind in turn, of ``ticks`` (low, high) ticks
    at ``rate_hz`` each: a tick's commands (a burst may be many; COMMAND is keep-last-1, so the driver may see only
    the newest) and operator stop toggles go to the driver over DDS. The stop is released after each stream."""
    envelope = envelope or EnvelopeConfig()
    rng, kinds, period_s = np.random.default_rng(seed), list(STREAMS.values()), 1.0 / rate_hz
    played, due = PlayedStreams(), time.monotonic()
    for index in range(count):
        stopped = False
        for commands, stop in kinds[index % len(kinds)](rng, int(rng.integers(ticks[0], ticks[1] + 1)), envelope):
            if stop is not None:
                graph.set_stop(stop)
                stopped, played.stop_toggles = stop, played.stop_toggles + 1
            for linear, angular in commands:
                graph.command(*linear, angular=angular)
                played.commands += 1
                played.bad_commands += int(not CommandGate(envelope).submit(linear, angular, 0.0))
            played.ticks += 1
            due = max(due + period_s, time.monotonic())  # a late tick is not made up for by bunching
            time.sleep(max(0.0, due - time.monotonic()))
        if stopped:
            graph.set_stop(False)
        played.streams += 1
    return played


@dataclass
class ArmExtremes:
    """The worst of what the arm reported (plain dicts: `Ros1Peer` messages, `ros1_peer.to_plain`) against the
    envelope: hand outside the box (m, 0 if never), joints past their limits (rad, negative: the closest they
    came), joint speeds over ``joint_speed_fraction`` x rated (ratio) and hand speed (m/s, the reported twist)."""

    envelope: EnvelopeConfig = field(default_factory=EnvelopeConfig)
    box_excursion: float = 0.0
    joint_limit_excursion: float = -math.inf
    joint_speed_ratio: float = 0.0
    hand_speed: float = 0.0
    endpoint_states: int = 0
    joint_states: int = 0

    def add_endpoint_state(self, msg: dict[str, Any]) -> None:
        """An intera_core_msgs/EndpointState."""
        position = np.array([msg["pose"]["position"][axis] for axis in "xyz"])
        linear = np.array([msg["twist"]["linear"][axis] for axis in "xyz"])
        low, high = np.asarray(self.envelope.box_low), np.asarray(self.envelope.box_high)
        self.box_excursion = max(self.box_excursion, float(np.max(np.maximum(low - position, position - high))))
        self.hand_speed = max(self.hand_speed, float(np.linalg.norm(linear)))
        self.endpoint_states += 1

    def add_joint_state(self, msg: dict[str, Any]) -> None:
        """A sensor_msgs/JointState of /robot/joint_states (the arm's joints picked by name)."""
        index = [msg["name"].index(name) for name in JOINT_NAMES]
        q, qdot = np.array(msg["position"])[index], np.array(msg["velocity"])[index]
        excursion = float(np.max(np.maximum(SAWYER_LIMITS.lower - q, q - SAWYER_LIMITS.upper)))
        self.joint_limit_excursion = max(self.joint_limit_excursion, excursion)
        ratio = float(np.max(np.abs(qdot) / (SAWYER_LIMITS.velocity * self.envelope.joint_speed_fraction)))
        self.joint_speed_ratio = max(self.joint_speed_ratio, ratio)
        self.joint_states += 1
