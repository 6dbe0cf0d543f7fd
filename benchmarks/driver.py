"""Sawyer driver benchmark: rig_sawyer_driver on the simulated Intera arm, every part a real process.

    python benchmarks/driver.py [--latency-samples 200] [--rate-seconds 20] [--episodes 5] [--process-streams 21]
                                [--campaign-streams 10000] [--seed 12345]

A rosmaster, rig_sim_intera_arm and rig_sawyer_driver run as processes; this process is the DDS peer that
commands the driver (/rig/cmd_ee_velocity) and a ROS 1 node (rospy) that watches the arm's topics. Measured:

* command-to-joint-command latency: one TwistStamped after the arm has been held still past the watchdog (the
  driver streams zeros then), until the first joint_command with a non-zero velocity arrives here;
* the joint command rate and its jitter (intervals between joint_command arrivals);
* hand velocity tracking: constant commands, the hand's velocity from the arm's endpoint_state;
* the hand's drift out of its plane over 50-step episodes of random planar commands at 10 Hz;
* the envelope's fuzz streams through the processes, and the envelope's fuzz campaign in this process.

Writes benchmarks/driver.md, benchmarks/driver_latency.csv (per sample) and benchmarks/driver.png. Node logs go
to benchmarks/runs/driver/.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shlex
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rig_sawyer_driver.testing import ArmExtremes, DriverGraph, driver_graph, play_fuzz_streams

from rig_drivers.envelope_fuzz import BOX_TOLERANCE, run_campaign
from rig_drivers.safety import EnvelopeConfig

HERE = Path(__file__).parent
RUNS = HERE / "runs" / "driver"
ROBOT = "bench_sawyer"
PARAMS = {"robot_id": ROBOT, "status_rate_hz": 10.0}  # the envelope's and the controller's defaults otherwise
LIMB = "/robot/limb/right"
ENVELOPE = EnvelopeConfig()
SPEED = 0.05  # m/s, the latency and tracking commands
RAMP_S = 0.25
"""Tracking windows start this long after the first command (latency and the acceleration ramp: 0.05 s at 1 m/s^2)."""
WINDOW_S = 0.1
EPISODE_STEPS, POLICY_HZ, ACTION_SPEED = 50, 10.0, 0.1
"""The reacher's episodes: 50 steps at 10 Hz, actions up to 1 cm/step (0.1 m/s) per axis."""
WAIT_S = 30.0


def percentiles(values: np.ndarray) -> dict[str, float]:
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)), "max": float(values.max())}


class Ros1Watch:
    """This process as a ROS 1 node: the driver's joint commands and the arm's endpoint and joint states."""

    def __init__(self) -> None:
        from rig_sawyer_driver.intera_msgs import EndpointState, JointCommand
        from rig_sawyer_driver.ros1 import rospy, sensor_msgs
        from rig_sawyer_driver.ros1_peer import to_plain

        self._rospy, self._to_plain = rospy, to_plain
        rospy.init_node("driver_benchmark", disable_signals=True)
        self.commands: list[tuple[float, bool]] = []  # (arrival, any joint velocity non-zero)
        self.endpoints: list[tuple[float, float, np.ndarray, np.ndarray]] = []  # (arrival, stamp, position, quaternion)
        self.extremes: ArmExtremes | None = None  # fed while set (the process-level fuzz streams)
        self._moving, self._armed, self.first_moving = threading.Event(), False, 0.0
        rospy.Subscriber(f"{LIMB}/joint_command", JointCommand, self._on_command, tcp_nodelay=True)
        rospy.Subscriber(f"{LIMB}/endpoint_state", EndpointState, self._on_endpoint, tcp_nodelay=True)
        rospy.Subscriber("/robot/joint_states", sensor_msgs.msg.JointState, self._on_joints, tcp_nodelay=True)

    def _on_command(self, msg: Any) -> None:
        arrival, moving = time.monotonic(), any(v != 0 for v in msg.velocity)
        self.commands.append((arrival, moving))
        if moving and self._armed:
            self._armed, self.first_moving = False, arrival
            self._moving.set()

    def _on_endpoint(self, msg: Any) -> None:
        position, orientation = msg.pose.position, msg.pose.orientation
        self.endpoints.append((time.monotonic(), msg.header.stamp.to_sec(), np.array([position.x, position.y, position.z]),
                               np.array([orientation.x, orientation.y, orientation.z, orientation.w])))  # fmt: skip
        if (extremes := self.extremes) is not None:
            extremes.add_endpoint_state(self._to_plain(msg))

    def _on_joints(self, msg: Any) -> None:
        if (extremes := self.extremes) is not None:
            extremes.add_joint_state(self._to_plain(msg))

    def expect_motion(self) -> None:
        """The next joint command with a non-zero velocity sets `first_moving` and `wait_moving` returns."""
        self._moving.clear()
        self._armed = True

    def wait_moving(self) -> float:
        if not self._moving.wait(WAIT_S):
            raise RuntimeError(f"no moving joint command within {WAIT_S} s")
        return self.first_moving

    def endpoints_between(self, begin: float, end: float) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """(stamp, position, quaternion) of the endpoint states that arrived between ``begin`` and ``end``."""
        return [(stamp, p, q) for arrival, stamp, p, q in list(self.endpoints) if begin <= arrival <= end]

    def close(self) -> None:
        self._rospy.signal_shutdown("benchmark done")


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {WAIT_S} s")
        time.sleep(0.05)


def paced(count: int, rate_hz: float) -> Any:
    """Yields ``count`` times at ``rate_hz`` (a late tick is not made up for)."""
    due = time.monotonic()
    for index in range(count):
        yield index
        due = max(due + 1.0 / rate_hz, time.monotonic())
        time.sleep(max(0.0, due - time.monotonic()))


# ----- the parts ----------------------------------------------------------------------------------------------
def measure_latency(graph: DriverGraph, watch: Ros1Watch, samples: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per sample: held past the watchdog (plus 50-150 ms, a random phase to the 100 Hz control tick), one command
    (+x and -x in turn, so the hand stays put), the latency to the first moving joint command, then a zero command."""
    rows = []
    for sample in range(samples):
        held = ENVELOPE.command_timeout_s + rng.uniform(0.05, 0.15)
        time.sleep(held)
        wait_until(lambda: not watch.commands[-1][1], "zero joint command (held)")
        direction = 1.0 if sample % 2 == 0 else -1.0
        watch.expect_motion()
        sent = time.monotonic()
        graph.command(direction * SPEED)
        latency = watch.wait_moving() - sent
        graph.command(0.0)
        rows.append({"sample": sample, "command_x_m_s": direction * SPEED, "held_s": round(held, 4),
                     "latency_ms": round(latency * 1e3, 4)})  # fmt: skip
    return rows


def measure_rate(watch: Ros1Watch, seconds: float) -> np.ndarray:
    """Arrival times of the joint commands over ``seconds`` (the driver streams zeros while nothing is commanded)."""
    first = len(watch.commands)
    time.sleep(seconds)
    return np.array([arrival for arrival, _ in watch.commands[first:]])


def measure_tracking(graph: DriverGraph, watch: Ros1Watch, name: str, velocity: np.ndarray, seconds: float) -> dict[str, Any]:
    """``velocity`` at 10 Hz for ``seconds``; the hand's velocity over consecutive WINDOW_S windows of its endpoint
    states (from RAMP_S after the first command to the last), against the command."""
    graph.still()
    begin = time.monotonic()
    for _ in paced(int(seconds * POLICY_HZ), POLICY_HZ):
        graph.command(*velocity)
    end = time.monotonic()
    graph.command(0.0)
    samples = watch.endpoints_between(begin + RAMP_S, end)
    errors, directions = [], []
    start = 0
    for index, (stamp, position, _) in enumerate(samples):
        if stamp - samples[start][0] >= WINDOW_S:
            hand = (position - samples[start][1]) / (stamp - samples[start][0])
            errors.append(float(np.linalg.norm(hand - velocity)))
            cosine = np.dot(hand, velocity) / (np.linalg.norm(hand) * np.linalg.norm(velocity))
            directions.append(float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))))
            start = index
    speed = float(np.linalg.norm(velocity))
    return {"command": name, "speed": speed, "windows": len(errors), "mean_error": float(np.mean(errors)),
            "max_error": float(np.max(errors)), "mean_direction_deg": float(np.mean(directions)),
            "max_direction_deg": float(np.max(directions))}  # fmt: skip


def reset(graph: DriverGraph, episode_id: int) -> float:
    """The reset handshake (RESET_REQUEST, RESET_DONE once home); its duration (s)."""
    event = type(graph.new("rig_msgs/msg/EpisodeEvent"))
    graph.episodes.clear()
    begin = time.monotonic()
    graph.episode.publish(graph.new("rig_msgs/msg/EpisodeEvent", robot_id=ROBOT, episode_id=episode_id,
                                    event=event.RESET_REQUEST))  # fmt: skip
    graph.episodes.wait_for(lambda msg: msg.robot_id == ROBOT and msg.event == event.RESET_DONE, "RESET_DONE",
                            graph.driver, graph.arm)  # fmt: skip
    return time.monotonic() - begin


def measure_drift(graph: DriverGraph, watch: Ros1Watch, episode: int, rng: np.random.Generator) -> dict[str, Any]:
    """After a reset, 50 steps of random planar commands at 10 Hz; the hand's height and orientation change."""
    reset_s = reset(graph, episode)
    graph.still()
    begin = time.monotonic()
    for _ in paced(EPISODE_STEPS, POLICY_HZ):
        graph.command(*rng.uniform(-ACTION_SPEED, ACTION_SPEED, 2))
    graph.command(0.0)
    time.sleep(ENVELOPE.command_timeout_s)
    samples = watch.endpoints_between(begin, time.monotonic())
    _, start, orientation = samples[0]
    heights = np.array([position[2] - start[2] for _, position, _ in samples])
    turns = np.array([2 * np.arccos(min(1.0, abs(float(np.dot(q, orientation))))) for _, _, q in samples])
    planar = np.array([position[:2] for _, position, _ in samples])
    return {"episode": episode, "reset_s": reset_s, "max_dz_mm": float(np.abs(heights).max() * 1e3),
            "max_turn_deg": float(np.degrees(turns.max())),
            "path_m": float(np.linalg.norm(np.diff(planar, axis=0), axis=1).sum())}  # fmt: skip


@dataclass
class ProcessCampaign:
    streams: int
    ticks: int
    commands: int
    bad_commands: int
    stop_toggles: int
    accepted: int
    rejected: int
    extremes: ArmExtremes
    seconds: float


def process_campaign(graph: DriverGraph, watch: Ros1Watch, streams: int, seed: int) -> ProcessCampaign:
    """The envelope's fuzz streams (1-2 s at 100 Hz each) through the processes, the arm watched meanwhile."""
    graph.still()
    before = graph.status()
    watch.extremes, begin = ArmExtremes(ENVELOPE), time.monotonic()
    played = play_fuzz_streams(graph, streams, seed, ticks=(100, 200))
    seconds = time.monotonic() - begin
    after = graph.status(lambda msg: msg.commands_rejected > before.commands_rejected, "rejections counted")
    graph.still()
    extremes, watch.extremes = watch.extremes, None
    return ProcessCampaign(played.streams, played.ticks, played.commands, played.bad_commands, played.stop_toggles,
                           after.commands_accepted - before.commands_accepted,
                           after.commands_rejected - before.commands_rejected, extremes, seconds)  # fmt: skip


# ----- outputs ------------------------------------------------------------------------------------------------
def write_png(latencies_ms: np.ndarray, intervals_ms: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist(latencies_ms, bins=40, color="tab:blue")
    left.set(xlabel="command to joint command (ms)", ylabel="samples",
             title=f"Latency ({len(latencies_ms)} commands)")  # fmt: skip
    right.hist(intervals_ms, bins=60, color="tab:orange", log=True)
    right.set(xlabel="interval between joint commands (ms)", ylabel="intervals (log)",
              title=f"Joint command intervals ({len(intervals_ms)})")  # fmt: skip
    figure.tight_layout()
    figure.savefig(HERE / "driver.png", dpi=120)
    plt.close(figure)


def report(args: argparse.Namespace, machine: str, latency_rows: list[dict[str, Any]], arrivals: np.ndarray,
           tracking: list[dict[str, Any]], drift: list[dict[str, Any]], process: ProcessCampaign, campaign: Any,
           campaign_s: float, wall_s: float) -> str:  # fmt: skip
    latency = percentiles(np.array([row["latency_ms"] for row in latency_rows]))
    intervals = np.diff(arrivals) * 1e3
    gaps = percentiles(intervals)
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    extremes = process.extremes
    speed_limit = ENVELOPE.max_linear_speed
    lines = ["# Sawyer driver on the simulated Intera arm", "",
             f"Command: `{args.command}` ({wall_s / 60:.1f} min). Machine: {machine}.", "",
             "Every part is a real process: rosmaster, rig_sim_intera_arm (kinematic, 100 Hz joint and endpoint states) "
             "and rig_sawyer_driver (100 Hz VELOCITY_MODE control loop, envelope and controller defaults: watchdog "
             f"{ENVELOPE.command_timeout_s} s, {speed_limit} m/s, {ENVELOPE.max_linear_accel} m/s^2); the benchmark "
             "process is the DDS peer (Cyclone DDS on loopback) that commands /rig/cmd_ee_velocity and a ROS 1 node "
             "(rospy, TCPROS on loopback) that watches the arm's topics.", "",
             "## Command to joint command", "",
             f"{len(latency_rows)} samples: the arm held still for the watchdog plus 50-150 ms (the driver streams zeros "
             f"then), one TwistStamped ({SPEED} m/s along +x and -x in turn), the time until the first joint_command "
             "with a non-zero velocity arrives at the benchmark's ROS 1 subscriber: DDS in, the wait for the next "
             "control tick (up to 10 ms), the controller and TCPROS out. Per sample: driver_latency.csv.", "",
             "| p50 (ms) | p99 (ms) | max (ms) | mean (ms) |", "| --- | --- | --- | --- |",
             f"| {latency['p50']:.1f} | {latency['p99']:.1f} | {latency['max']:.1f} | "
             f"{np.mean([row['latency_ms'] for row in latency_rows]):.1f} |", "",
             "## Joint command rate and jitter", "",
             f"Arrivals of /robot/limb/right/joint_command at the benchmark over {args.rate_seconds:.0f} s while "
             "nothing is commanded (zeros stream).", "",
             "| commands | rate (Hz) | interval mean (ms) | std (ms) | p50 (ms) | p99 (ms) | max (ms) |",
             "| --- | --- | --- | --- | --- | --- | --- |",
             f"| {len(arrivals)} | {rate:.2f} | {intervals.mean():.2f} | {intervals.std():.2f} | {gaps['p50']:.2f} | "
             f"{gaps['p99']:.2f} | {gaps['max']:.2f} |", "",
             "## Hand velocity tracking", "",
             f"Constant commands at 10 Hz for 2 s each; the hand's velocity from the arm's endpoint_state by finite "
             f"differences over consecutive {WINDOW_S} s windows (header stamps), from {RAMP_S} s after the first "
             "command (latency and acceleration ramp) to the last; error = |v_hand - v_cmd| (3D, so height changes "
             "count), direction error = the angle between them.", "",
             "| command | speed (m/s) | windows | mean error (mm/s) | max error (mm/s) | mean error (%) | max error (%) "
             "| mean direction error (deg) | max direction error (deg) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in tracking:
        lines.append(f"| {row['command']} | {row['speed']:.3f} | {row['windows']} | {row['mean_error'] * 1e3:.3f} | "
                     f"{row['max_error'] * 1e3:.3f} | {100 * row['mean_error'] / row['speed']:.2f} | "
                     f"{100 * row['max_error'] / row['speed']:.2f} | {row['mean_direction_deg']:.3f} | "
                     f"{row['max_direction_deg']:.3f} |")  # fmt: skip
    lines += ["", "## Drift out of the plane over an episode", "",
              f"{len(drift)} episodes, each after a reset to home (RESET_REQUEST until RESET_DONE): {EPISODE_STEPS} steps "
              f"at {POLICY_HZ:.0f} Hz of random planar commands, uniform in ±{ACTION_SPEED} m/s per axis (the policy's "
              "actions at the reacher's 1 cm/step), z = 0 and no rotation commanded; over the episode and the "
              "watchdog after it: the largest |z - z0| and the largest rotation of the hand from its start.", "",
              "| episode | reset (s) | planar path (m) | max \\|z - z0\\| (mm) | max orientation change (deg) |",
              "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in drift:
        lines.append(f"| {row['episode']} | {row['reset_s']:.2f} | {row['path_m']:.3f} | {row['max_dz_mm']:.4f} | "
                     f"{row['max_turn_deg']:.5f} |")  # fmt: skip
    lines += ["", "## Fuzz campaigns", "",
              f"Process level: {process.streams} streams of rig_drivers.envelope_fuzz.STREAMS (every kind in turn, "
              f"100-200 ticks at 100 Hz, {process.seconds:.0f} s) published over DDS to the driver, the operator stop "
              "toggled on /rig/driver/stop (latched); the arm's endpoint and joint states watched over ROS 1. "
              "/rig/cmd_ee_velocity is reliable keep-last-1, so of a burst the driver may receive only the newest: "
              "rejected (the driver's status) <= bad sent; its violations: how many of the checks of "
              "rig_sawyer_driver/tests/test_driver_fuzz_process.py (box, joint limits, joint speeds) failed. In this "
              "process: `run_campaign(streams, seed)` on the "
              "kinematic model (the envelope, a perfect arm), as in rig_drivers' tests.", "",
              "| campaign | streams | ticks | commands | bad commands | rejected (counted) | violations | worst box "
              f"excursion (mm, tolerance {BOX_TOLERANCE * 1e3:.0f}) | worst joint-limit distance (rad; < 0: inside) "
              "| worst joint speed / limit | worst hand speed (m/s) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
              f"| processes (seed {args.seed}) | {process.streams} | {process.ticks} | {process.commands} | "
              f"{process.bad_commands} | {process.rejected} (accepted {process.accepted}) | "
              f"{process_violations(extremes)} | {extremes.box_excursion * 1e3:.2f} | "
              f"{extremes.joint_limit_excursion:.3f} | {extremes.joint_speed_ratio:.3f} | {extremes.hand_speed:.3f} |",
              f"| run_campaign ({campaign_s:.0f} s, seed {args.seed}) | {campaign.streams} | {campaign.ticks} | "
              f"{campaign.commands} | {campaign.bad_commands} | {campaign.rejected_counted} | {len(campaign.violations)} | "
              f"{campaign.worst_box_excursion * 1e3:.2f} | {campaign.worst_joint_limit_excursion:.3f} | "
              f"{campaign.worst_joint_speed_ratio:.3f} | {campaign.worst_hand_speed:.3f} |", "",
              f"Process level: {process.stop_toggles} operator stop toggles; {extremes.endpoint_states} endpoint and "
              f"{extremes.joint_states} joint states watched. Joint speed limit: joint_speed_fraction "
              f"{ENVELOPE.joint_speed_fraction} x rated; hand speed limit {speed_limit} m/s (process level: the arm's "
              "reported twist; run_campaign: finite differences per tick).", "",
              "![latency and joint command intervals](driver.png)", ""]  # fmt: skip
    return "\n".join(lines)


def process_violations(extremes: ArmExtremes) -> int:
    """The process-level checks of the envelope that failed (the test's: box, joint limits, joint speeds)."""
    return sum((extremes.box_excursion > BOX_TOLERANCE, extremes.joint_limit_excursion >= 0,
                extremes.joint_speed_ratio > 1 + 1e-6))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--process-streams", type=int, default=21)
    parser.add_argument("--campaign-streams", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    args.command = shlex.join(["python", "benchmarks/driver.py", *sys.argv[1:]])
    load_before, started = os.getloadavg(), time.monotonic()
    rng = np.random.default_rng(args.seed)
    RUNS.mkdir(parents=True, exist_ok=True)
    with driver_graph(RUNS, PARAMS) as graph:
        graph.status(lambda msg: msg.mode == "ready", "mode ready")
        watch = Ros1Watch()
        try:
            wait_until(lambda: watch.commands and watch.endpoints, "joint commands and endpoint states")
            arrivals = measure_rate(watch, args.rate_seconds)
            print(f"rate: {len(arrivals)} joint commands in {args.rate_seconds} s", flush=True)
            latency_rows = measure_latency(graph, watch, args.latency_samples, rng)
            print(f"latency: p50 {np.median([row['latency_ms'] for row in latency_rows]):.1f} ms", flush=True)
            legs = {"+x": np.array([SPEED, 0.0, 0.0]), "+y": np.array([0.0, SPEED, 0.0]),
                    "-x-y diagonal": np.array([-1.0, -1.0, 0.0]) * SPEED / np.sqrt(2)}  # fmt: skip
            tracking = [measure_tracking(graph, watch, name, velocity, 2.0) for name, velocity in legs.items()]
            print(f"tracking: {tracking}", flush=True)
            drift = [measure_drift(graph, watch, episode, rng) for episode in range(1, args.episodes + 1)]
            print(f"drift: {drift}", flush=True)
            process = process_campaign(graph, watch, args.process_streams, args.seed)
            print(f"process campaign: {process.rejected} of {process.bad_commands} bad commands counted", flush=True)
        finally:
            watch.close()
    begin = time.monotonic()
    campaign = run_campaign(args.campaign_streams, args.seed)
    campaign_s = time.monotonic() - begin
    load = f"{load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU; 1-minute load "
               f"average {load} (other work shared the cores: the figures include its interference)")  # fmt: skip
    with (HERE / "driver_latency.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(latency_rows[0]))
        writer.writeheader()
        writer.writerows(latency_rows)
    write_png(np.array([row["latency_ms"] for row in latency_rows]), np.diff(arrivals) * 1e3)
    text = report(args, machine, latency_rows, arrivals, tracking, drift, process, campaign, campaign_s,
                  time.monotonic() - started)  # fmt: skip
    (HERE / "driver.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
