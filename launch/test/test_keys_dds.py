"""DDS Security between real processes: `rig keys` makes the keystore, the MuJoCo Sawyer and the policy run keyed
under ``ROS_SECURITY_STRATEGY=Enforce``, and intruders fail: a participant without keys is not heard (its velocity
commands never reach the arm, its weights never reach the policy; a fellow intruder hears them) and hears nothing
of the graph (no camera frame; on the loopback wire the keyed command's value never appears, the unkeyed one's
does); one with the operator's keys may not even create a command or weights writer. The keyed graph keeps running.

Needs the security-capable binding (cyclonedds 0.10.2 built against Debian's libddsc, README "Keys (DDS Security)")
in the directory ``RIG_SECURE_DDS_PATH`` names; skips, saying so, without it. Intruders without keys run on the
plain wheel, as a stranger's machine would.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
from graph_params import TRAINED_POLICY

from rig_launch.access import ACCESS, COMMAND, WEIGHTS
from rig_transport.probe import read_records
from rig_transport.scripts import installed_script
from rig_transport.testing import TIMEOUT_S, NodeProcess, ProbeFile, script_args

PEER = Path(__file__).with_name("keyed_peer.py")
INTRUDER_COMMAND, KEYED_COMMAND = 666.0, 777.0
"""Velocity commands far over the envelope's rejection limit: the sim logs each one it receives, with its value."""
INTRUDER_VERSION, KEYED_VERSION = 900001, 424242


@pytest.fixture
def keyed_env(tmp_path: Path, isolated_dds: int) -> dict[str, str]:
    """A keystore from `rig keys` for this test's domain; the environment of a keyed process on the secure binding."""
    binding = str(Path(os.environ.get("RIG_SECURE_DDS_PATH", "")).resolve())  # the nodes run in tmp_path
    if not os.environ.get("RIG_SECURE_DDS_PATH") or not (Path(binding) / "cyclonedds").is_dir():
        pytest.skip("RIG_SECURE_DDS_PATH does not name a directory with the security-capable cyclonedds binding "
                    "(README: Keys (DDS Security); .ci/run builds it)")  # fmt: skip
    keystore = tmp_path / "keystore"
    done = subprocess.run([installed_script("rig"), "keys", str(keystore)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"(domain {isolated_dds})" in done.stdout
    python_path = os.pathsep.join(filter(None, [binding, os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": python_path, "ROS_SECURITY_KEYSTORE": str(keystore), "ROS_SECURITY_ENABLE": "true",
            "ROS_SECURITY_STRATEGY": "Enforce"}  # fmt: skip


class LoopbackCapture:
    """Every frame on the loopback interface while it runs (a raw packet socket: root only), to look for payloads."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))  # ETH_P_ALL
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.frames: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.frames.append(self.sock.recv(65535))
            except TimeoutError:
                continue

    def seen(self, payload: bytes) -> bool:
        return any(payload in frame for frame in list(self.frames))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT_S)
        self.sock.close()


@pytest.fixture
def loopback_capture() -> Iterator[LoopbackCapture | None]:
    """A LoopbackCapture, or None where raw sockets are not allowed (not root): the check is then left out."""
    try:
        capture = LoopbackCapture()
    except PermissionError:
        yield None
        return
    yield capture
    capture.stop()


def peer(start_node: Callable[..., NodeProcess], env: dict[str, str], *args: str, enclave: str = "") -> NodeProcess:
    """A keyed_peer.py process; ``enclave``: its keys (ROS_SECURITY_ENCLAVE_OVERRIDE), none: no security at all."""
    if enclave:
        env = {**env, "ROS_SECURITY_ENCLAVE_OVERRIDE": enclave}
    else:
        env = {"ROS_SECURITY_ENABLE": "false"}
    return start_node(f"peer_{args[0]}_{enclave.strip('/') or 'unkeyed'}", {}, [sys.executable, str(PEER), *args], env)


def granted_topics(permissions: Path) -> tuple[list[str], list[str]]:
    """The DDS topics a permissions.xml allows to publish and to subscribe to."""
    rule = ET.parse(permissions).getroot().find("permissions/grant/allow_rule")
    assert rule is not None
    publish, subscribe = (rule.iterfind(f"{kind}/topics/topic") for kind in ("publish", "subscribe"))
    return [topic.text or "" for topic in publish], [topic.text or "" for topic in subscribe]


def last_count(process: NodeProcess, word: str) -> int:
    """The last ``<word> N`` a keyed_peer printed (0 before the first)."""
    counts = [int(line.split()[1]) for line in process.log().splitlines() if line.startswith(f"{word} ")]
    return counts[-1] if counts else 0


def next_report(process: NodeProcess, word: str) -> int:
    """The count in the next ``<word> N`` line the peer prints from now on."""
    seen = process.log().count(f"{word} ")
    while process.log().count(f"{word} ") <= seen:
        process.wait_for_log(f"{word} ")  # fails with the log if the peer exits
    return last_count(process, word)


def wait_for_count(process: NodeProcess, word: str, at_least: int) -> None:
    """Until the peer has printed ``<word> N`` with N >= at_least (fails with its log if it exits first)."""
    while last_count(process, word) < at_least:
        process.wait_for_log(f"{word} {last_count(process, word) + 1}")


def test_rig_keys_writes_an_sros2_keystore_whose_permissions_follow_the_access_table(keyed_env):
    enclaves = Path(keyed_env["ROS_SECURITY_KEYSTORE"]) / "enclaves"
    for name in ACCESS:
        files = {path.name for path in (enclaves / name).iterdir()}
        assert files == {"cert.pem", "key.pem", "identity_ca.cert.pem", "permissions_ca.cert.pem", "governance.p7s",
                         "permissions.xml", "permissions.p7s"}  # fmt: skip
        assert f"<subject_name>CN=/{name}</subject_name>" in (enclaves / name / "permissions.xml").read_text()
    granted = {name: granted_topics(enclaves / name / "permissions.xml") for name in ACCESS}
    publishers = {topic: sorted(name for name, (publish, _) in granted.items()
                                if any(fnmatch(f"rt{topic}", pattern) for pattern in publish))
                  for topic in (COMMAND, WEIGHTS)}  # fmt: skip
    assert publishers == {COMMAND: ["policy_node"], WEIGHTS: ["trainer_node"]}
    operator_publish, operator_subscribe = granted["operator"]
    assert not [topic for topic in operator_publish if topic.startswith("rt/rig")] and "rt/rig/*" in operator_subscribe


def test_a_node_on_the_plain_wheel_refuses_to_start_under_enforce(start_node, tmp_path):
    keystore = tmp_path / "keystore"
    assert subprocess.run([installed_script("rig"), "keys", str(keystore), "--enclaves", "sim_sawyer_node"],
                          capture_output=True, check=False).returncode == 0  # fmt: skip
    env = {"ROS_SECURITY_KEYSTORE": str(keystore), "ROS_SECURITY_ENABLE": "true", "ROS_SECURITY_STRATEGY": "Enforce"}
    sim = start_node("rig_sim_sawyer_node", {}, script_args("rig_sim_sawyer_node", {}), env)
    assert sim.process.wait(TIMEOUT_S) == 1
    assert "has no DDS Security" in sim.log() and "Traceback" not in sim.log()


@pytest.mark.parametrize("domain", ["231", "232"])
def test_rig_keys_refuses_a_domain_dds_security_cannot_name_and_writes_nothing(tmp_path, domain):
    keystore = tmp_path / "keystore"
    done = subprocess.run([installed_script("rig"), "keys", str(keystore), "--domain", domain],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 1
    assert "must be in 0..230 for DDS Security" in done.stderr and domain in done.stderr
    assert not keystore.exists()


def test_a_node_without_keys_of_its_enclave_refuses_to_start_under_enforce(keyed_env, start_node):
    env = {**keyed_env, "ROS_SECURITY_ENCLAVE_OVERRIDE": "/nobody"}
    sim = start_node("rig_sim_sawyer_node", {}, script_args("rig_sim_sawyer_node", {}), env)
    assert sim.process.wait(TIMEOUT_S) == 1
    assert "no keys for enclave /nobody" in sim.log() and "Traceback" not in sim.log()


def test_intruders_cannot_move_the_arm_replace_weights_or_read_frames_and_the_keyed_graph_runs_on(
        keyed_env, start_node, tmp_path, loopback_capture):  # fmt: skip
    probe_path = tmp_path / "probe.jsonl"
    start_node("rig_probe", {}, [sys.executable, "-m", "rig_transport.probe", str(probe_path),
                                 "/rig/camera/image_raw=sensor_msgs/msg/Image:sensor_data",
                                 "/rig/cmd_ee_velocity=geometry_msgs/msg/TwistStamped:command"], keyed_env)  # fmt: skip
    probe = ProbeFile(probe_path)
    frames, commands = probe.listen("/rig/camera/image_raw"), probe.listen("/rig/cmd_ee_velocity")
    probe.start()
    sim = start_node("rig_sim_sawyer_node", {}, script_args("rig_sim_sawyer_node", {}), keyed_env)
    policy_params = {"weights_file": str(TRAINED_POLICY), "status_rate_hz": 5.0}
    policy = start_node("rig_policy_node", {}, script_args("rig_policy_node", policy_params), keyed_env)
    try:
        frames.wait_for(lambda r: r["width"] == 84, "a keyed camera frame at the operator's probe", sim)
        commands.wait_for(lambda r: abs(r["twist.linear.x"]) < 1.0, "a policy command at the probe", policy)

        # intruders: no keys at all (the plain wheel), and the operator's keys (read-only)
        unkeyed_command = peer(start_node, keyed_env, "command", str(INTRUDER_COMMAND))
        unkeyed_weights = peer(start_node, keyed_env, "weights", str(INTRUDER_VERSION))
        unkeyed_listener = peer(start_node, keyed_env, "listen")
        for role, value in (("command", INTRUDER_COMMAND), ("weights", INTRUDER_VERSION)):
            operator = peer(start_node, keyed_env, role, str(value), enclave="/operator")
            assert operator.process.wait(TIMEOUT_S) == 3, operator.log()
            assert "refused: enclave /operator may not publish" in operator.log()
        wait_for_count(unkeyed_command, "sent", 40)
        unkeyed_weights.wait_for_log("sent 1")

        # the keyed senders, after the intruders: once theirs arrived, the intruders' (sent all along) had had the time
        keyed_command = peer(start_node, keyed_env, "command", str(KEYED_COMMAND), enclave="/policy_node")
        peer(start_node, keyed_env, "weights", str(KEYED_VERSION), enclave="/trainer_node")
        sim.wait_for_log(f"over the rejection limits: [{KEYED_COMMAND}")
        keyed_command.stop()
        policy.wait_for_log(f"weights version {KEYED_VERSION} loaded")
        assert str(INTRUDER_COMMAND) not in sim.log()
        assert str(INTRUDER_VERSION) not in policy.log()
        assert next_report(unkeyed_listener, "frames") == 0 and frames.clear()  # keyed frames flowed meanwhile
        assert last_count(unkeyed_listener, "commands") > 0  # the intruders hear each other: only the keyed do not
        if loopback_capture is not None:  # on the wire: the unkeyed command in clear, the keyed one encrypted
            assert loopback_capture.seen(struct.pack("<d", INTRUDER_COMMAND))
            assert not loopback_capture.seen(struct.pack("<d", KEYED_COMMAND))

        # the graph runs on: frames and the policy's commands still flow, every keyed node alive
        frames.wait_for(lambda r: True, "a frame after the intrusions", sim, policy)
        commands.clear()
        commands.wait_for(lambda r: abs(r["twist.linear.x"]) < 1.0, "a policy command after the intrusions", policy)
        assert sim.alive() and policy.alive() and unkeyed_command.alive()
        assert read_records(probe_path, "/rig/camera/image_raw")
    finally:
        probe.stop()
