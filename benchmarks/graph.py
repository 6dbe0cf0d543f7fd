"""Node-graph benchmark: the ROS 2 graph over Cyclone DDS on loopback, real node processes, no ROS installed.

    python benchmarks/graph.py latency                 # policy latency per frame; camera-to-command; dropped frames
    python benchmarks/graph.py ingest --vae-from RUN   # trainer ingest, 1 and 4 simulated robots
    python benchmarks/graph.py weights                 # a weights update: published -> in use by the policy
    python benchmarks/graph.py learning --vae-from RUN # Visual Reacher trained through the graph
    python benchmarks/graph.py report                  # benchmarks/graph.md (+ graph_learning.png) from the CSVs

Each part writes benchmarks/graph_<part>.csv and then the report. RUN is a `rig train` run directory: its
vae_pretrained.safetensors spares the trainer its VAE pretraining. The graph's learning curve is drawn beside
the single-process RIG run of the same seed in benchmarks/visual_reacher_learning.csv (benchmarks/learning.py),
whose VAE RUN should be. Node logs go to benchmarks/runs/graph/<part>/.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
RUNS = HERE / "runs" / "graph"
FIXTURE_WEIGHTS = HERE.parent / "launch" / "test" / "data" / "reacher_policy.safetensors"
"""A Visual Reacher policy (`rig export` of a 10K-step run): real network sizes for latency and weights."""
HORIZON, LATENT_DIM, IMAGE = 50, 16, 84


# ----- shared -------------------------------------------------------------------------------------------------
@contextmanager
def graph(part: str) -> Iterator[tuple[Any, Callable[..., Any]]]:
    """A DDS domain of its own on loopback, a peer transport spinning in this process and a node starter."""
    from rig_transport.testing import NodeProcess, TestNode, isolated_dds_env

    log_dir = RUNS / part
    log_dir.mkdir(parents=True, exist_ok=True)
    nodes: list[NodeProcess] = []

    def start(script: str, params: dict[str, Any], args: list[str] | None = None) -> NodeProcess:
        nodes.append(NodeProcess(script, params, log_dir / f"{script}_{len(nodes)}.log", args=args))
        return nodes[-1]

    with isolated_dds_env():
        peer = TestNode("graph_benchmark")
        try:
            yield peer, start
        finally:
            for node in nodes:
                node.stop(signal.SIGINT)
            peer.stop()


def answer_resets(transport: Any, robot_ids: set[str] | None = None) -> list[float]:
    """Play the driver's side of the reset handshake (RESET_DONE at once); returns the list of request times."""
    from rig_transport import STATUS

    events = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))
    requests: list[float] = []

    def on_event(msg: Any) -> None:
        if msg.event == event_cls.RESET_REQUEST and (robot_ids is None or msg.robot_id in robot_ids):
            requests.append(time.monotonic())
            events.publish(transport.new("rig_msgs/msg/EpisodeEvent", robot_id=msg.robot_id, episode_id=msg.episode_id,
                                         event=event_cls.RESET_DONE))  # fmt: skip

    transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, on_event)
    return requests


def stamp_seconds(stamp: Any) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, np.float64)
    return {"p50": float(np.percentile(array, 50)), "p99": float(np.percentile(array, 99)), "max": float(array.max())}


def write_rows(name: str, rows: list[dict[str, Any]]) -> None:
    path = HERE / f"graph_{name}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")


def camera_frames(count: int) -> list[np.ndarray]:
    """Rendered Visual Reacher frames (what the policy sees), hand at random places."""
    from rig_core.envs import make_task

    env = make_task("visual-reacher", IMAGE, seed=0)
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(count):
        env.reset(seed=int(rng.integers(2**31)))
        frames.append(env.render_state(env.sample_goal_state(rng)))
    return frames


# ----- latency and dropped frames ----------------------------------------------------------------------------
def camera_to_command(rate_hz: float, policy_rate_hz: float, seconds: float, frames: list[np.ndarray],
                      policy_params: dict[str, Any] | None = None, peer_setup: Callable[[Any], None] | None = None,
                      part: str = "latency") -> dict[str, Any]:  # fmt: skip
    """The benchmark is camera (at ``rate_hz``) and driver; the policy node ticks at ``policy_rate_hz`` and acts
    greedily with the fixture weights (or ``policy_params``' over them) on the newest frame. ``peer_setup(transport)``
    may add the benchmark's own subscriptions before it starts; node logs go to ``part``_<rates>."""
    from rig_transport import COMMAND, SENSOR_DATA
    from rig_transport.images import rgb_to_image

    with graph(f"{part}_{rate_hz:g}hz_{policy_rate_hz:g}hz") as (peer, start):
        transport = peer.transport
        camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
        resets = answer_resets(transport, {"bench"})
        commands: list[tuple[float, float]] = []  # (arrival, stamp of the frame answered)
        transport.create_subscription("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND,
                                      lambda m: commands.append((time.time(), stamp_seconds(m.header.stamp))))  # fmt: skip
        sent: list[float] = []
        counter = iter(range(10**9))

        def publish_frame() -> None:
            stamp = transport.now()
            sent.append(stamp_seconds(stamp))
            camera.publish(rgb_to_image(transport, frames[next(counter) % len(frames)], stamp, "camera"))

        transport.create_timer(1.0 / rate_hz, publish_frame)
        if peer_setup is not None:
            peer_setup(transport)
        peer.start()
        params = {"robot_id": "bench", "rate_hz": policy_rate_hz, "explore": False, "weights_file": str(FIXTURE_WEIGHTS)}
        policy = start("rig_policy_node", params | (policy_params or {}))
        while not commands:
            if not policy.alive():
                raise RuntimeError(f"policy node exited:\n{policy.log()}")
            time.sleep(0.2)
        time.sleep(2.0)  # settle
        first, resets_before = len(sent), len(resets)
        commands.clear()
        time.sleep(seconds)
        window = set(sent[first:len(sent)])
        answered = [(arrival, stamp) for arrival, stamp in list(commands) if stamp in window]
    latencies = [(arrival - stamp) * 1e3 for arrival, stamp in answered]
    frames_sent, answered_frames = len(window), len({stamp for _, stamp in answered})
    return {"camera_hz": rate_hz, "policy_hz": policy_rate_hz, "seconds": seconds, "frames_sent": frames_sent,
            "frames_answered": answered_frames, "dropped_pct": 100.0 * (frames_sent - answered_frames) / frames_sent,
            "episode_resets": len(resets) - resets_before,
            **{f"camera_to_command_ms_{k}": v for k, v in percentiles(latencies).items()}}  # fmt: skip


def run_latency(args: argparse.Namespace) -> None:
    frames = camera_frames(64)
    rows = []
    # The deployed setting (the policy ticks at the camera's rate), then a policy that acts as soon as a frame is
    # in (ticking at 500 Hz): its latency is the policy's own per-frame latency, DDS in and out included.
    for camera_hz, policy_hz in ((10.0, 10.0), (30.0, 30.0), (10.0, 500.0)):
        rows.append(camera_to_command(camera_hz, policy_hz, args.seconds, frames))
        print(json.dumps(rows[-1]))
    write_rows("latency", rows)


# ----- trainer ingest ----------------------------------------------------------------------------------------
def run_feeder(args: argparse.Namespace) -> None:
    """One simulated robot: whole episodes of transitions on the replay topic at ``--hz`` transitions/s."""
    from rig_policy_node.controller import TransitionRecord
    from rig_policy_node.messages import transition_msg
    from rig_transport import REPLAY, make_transport

    transport = make_transport(f"feeder_{args.robot_id}", argv=[])
    replay = transport.create_publisher("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
    rng = np.random.default_rng(abs(hash(args.robot_id)) % 2**32)
    images = list(rng.integers(0, 256, (HORIZON + 1, IMAGE, IMAGE, 3), np.uint8))
    time.sleep(3.0)  # discovery: let the trainer's reader match before the first sample
    sent, episode, deadline = 0, 0, time.monotonic() + args.seconds
    due = time.monotonic()
    while time.monotonic() < deadline:
        goal = rng.normal(size=LATENT_DIM).astype(np.float32)
        for step in range(HORIZON):
            due += 1.0 / args.hz
            time.sleep(max(0.0, due - time.monotonic()))
            record = TransitionRecord(episode, step, images[step], rng.uniform(-1, 1, 2).astype(np.float32),
                                      images[step + 1], goal, step == HORIZON - 1, 0, (0, 0), (0, 0))  # fmt: skip
            replay.publish(transition_msg(transport, record, args.robot_id, "feeder", transport.now(), "camera"))
            sent += 1
        episode += 1
    time.sleep(2.0)  # let the reliable writer deliver what it holds
    transport.shutdown()
    print(json.dumps({"robot_id": args.robot_id, "sent": sent}))


def trainer_ingest(robots: int, robot_hz: float, seconds: float, vae_from: Path) -> dict[str, Any]:
    from rig_transport import STATUS

    out = RUNS / "ingest" / f"trainer_{robots}"
    shutil.rmtree(out, ignore_errors=True)
    with graph("ingest") as (peer, start):
        status = peer.listen("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS)
        peer.start()
        trainer = start("rig_trainer_node", {"out_dir": str(out), "vae_from": str(vae_from), "status_rate_hz": 4.0})
        status.wait_for(lambda m: True, "a trainer status", trainer)
        env = {**os.environ, "RIG_TRANSPORT": "dds"}
        feed = [sys.executable, __file__, "feed", "--seconds", str(seconds), "--hz", str(robot_hz), "--robot-id"]
        feeders = [subprocess.Popen(feed + [f"robot_{i}"], stdout=subprocess.PIPE, text=True, env=env) for i in range(robots)]
        time.sleep(3.0 + 0.2 * seconds)  # discovery, then a fifth of the window to get going
        status.clear()
        first = status.wait_for(lambda m: True, "a trainer status", trainer)
        first_at = time.monotonic()
        time.sleep(0.6 * seconds)
        status.clear()
        last = status.wait_for(lambda m: True, "a trainer status", trainer)
        rate = (last.transitions_received - first.transitions_received) / (time.monotonic() - first_at)
        sent = sum(json.loads(feeder.communicate()[0].strip().splitlines()[-1])["sent"] for feeder in feeders)
        time.sleep(5.0)
        status.clear()
        final = status.wait_for(lambda m: True, "a trainer status", trainer)
    return {"robots": robots, "robot_hz": robot_hz, "seconds": seconds, "accepted_per_s": rate, "sent": sent,
            "accepted": final.transitions_received, "lost_pct": 100.0 * (sent - final.transitions_received) / sent,
            "td3_steps": final.gradient_steps}  # fmt: skip


def run_ingest(args: argparse.Namespace) -> None:
    rows = [trainer_ingest(robots, args.robot_hz, args.seconds, args.vae_from) for robots in (1, 4)]
    for row in rows:
        print(json.dumps(row))
    write_rows("ingest", rows)


# ----- weights update latency ---------------------------------------------------------------------------------
def run_weights(args: argparse.Namespace) -> None:
    from rig_core.weights import read_weights_file
    from rig_trainer_node.messages import weights_msg
    from rig_transport import LATCHED, SENSOR_DATA, STATUS
    from rig_transport.images import rgb_to_image

    bundle = read_weights_file(FIXTURE_WEIGHTS)
    frames = camera_frames(8)
    latencies = []
    with graph("weights") as (peer, start):
        transport = peer.transport
        weights = transport.create_publisher("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED)
        camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
        answer_resets(transport, {"bench"})
        in_use: dict[int, float] = {}
        transport.create_subscription("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS,
                                      lambda m: in_use.setdefault(int(m.weights_version), time.monotonic()))  # fmt: skip
        transport.create_timer(0.1, lambda: camera.publish(rgb_to_image(transport, frames[0], transport.now(), "camera")))
        peer.start()
        policy = start("rig_policy_node", {"robot_id": "bench", "status_rate_hz": 200.0})
        while 0 not in in_use:
            if not policy.alive():
                raise RuntimeError(f"policy node exited:\n{policy.log()}")
            time.sleep(0.1)
        for version in range(1, args.updates + 2):  # version 1 only warms the topic up (discovery, matching)
            sent_at = time.monotonic()
            weights.publish(weights_msg(transport, dataclasses.replace(bundle, version=version), transport.now()))
            while version not in in_use and time.monotonic() - sent_at < 30.0:
                time.sleep(0.001)
            if version > 1:
                latencies.append((in_use[version] - sent_at) * 1e3)
            time.sleep(0.5)
    result = {"updates": args.updates, "bundle_kb": round(len(bundle.data) / 1024, 1), "status_period_ms": 5.0,
              **{f"publish_to_in_use_ms_{k}": v for k, v in percentiles(latencies).items()}}  # fmt: skip
    print(json.dumps(result))
    write_rows("weights", [result])


# ----- learning through the graph -----------------------------------------------------------------------------
def evaluate_bundle(msg: Any, seed: int, env_steps: int, episodes: int) -> dict[str, float]:
    """A policy bundle from /rig/weights evaluated as `rig train` evaluates at ``env_steps`` (same fresh goals)."""
    from rig_core.agent import RIGAgent
    from rig_core.config import RigConfig
    from rig_core.envs import make_task
    from rig_core.evaluation import evaluate
    from rig_core.train import EVAL_SEED_OFFSET
    from rig_core.weights import load_policy_weights
    from rig_policy_node.messages import bundle_from_msg

    bundle = bundle_from_msg(msg)
    config = RigConfig.from_dict(json.loads(bundle.config_json))
    env = make_task(config.task, config.vae.image_size, config.seed)
    agent = RIGAgent(config, env.state_dim, env.action_space.shape[0])
    load_policy_weights(agent, bundle)
    stream = np.random.SeedSequence([seed, EVAL_SEED_OFFSET, env_steps])
    return evaluate(agent, env, episodes, int(stream.generate_state(1)[0]))


def run_learning(args: argparse.Namespace) -> None:
    from rig_transport import LATCHED, STATUS

    out = RUNS / "learning" / "trainer"
    shutil.rmtree(out, ignore_errors=True)
    snapshots: dict[int, Any] = {}
    started = time.monotonic()
    with graph("learning") as (peer, start):
        newest: list[Any] = []
        peer.transport.create_subscription("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED, newest.append)
        status = peer.listen("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS)
        peer.start()
        sim = start("rig_sim_sawyer_node", {"rate_hz": args.rate_hz, "seed": args.seed})
        policy = start("rig_policy_node", {"rate_hz": args.rate_hz})
        trainer = start("rig_trainer_node", {"out_dir": str(out), "vae_from": str(args.vae_from), "seed": args.seed,
                                             "weights_every_s": 2.0})  # fmt: skip
        milestone = args.eval_every
        while milestone <= args.env_steps:
            progress = status.wait_for(lambda m: True, "a trainer status", sim, policy, trainer, timeout_s=600.0)
            if progress.replay_size >= milestone and newest:
                snapshots[milestone] = newest[-1]
                print(f"{milestone} env steps stored: weights v{newest[-1].version}, {time.monotonic() - started:.0f} s",
                      flush=True)  # fmt: skip
                milestone += args.eval_every
    wall = time.monotonic() - started
    rows = []
    for env_steps, msg in sorted(snapshots.items()):
        metrics = evaluate_bundle(msg, args.seed, env_steps, args.eval_episodes)
        rows.append({"source": "graph", "seed": args.seed, "env_steps": env_steps, "weights_version": msg.version,
                     "final_hand_distance": metrics["final_hand_distance"], "wall_time_s": round(wall, 1)})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    write_rows("learning", rows)


# ----- report ---------------------------------------------------------------------------------------------------
def read_rows(name: str) -> list[dict[str, str]]:
    path = HERE / f"graph_{name}.csv"
    return list(csv.DictReader(path.open())) if path.is_file() else []


def number(text: str, digits: int = 1) -> str:
    return f"{float(text):.{digits}f}"


def run_report(_: argparse.Namespace | None = None) -> None:
    lines = ["# Node graph over DDS", "",
             "Command: `python benchmarks/graph.py latency|ingest|weights|learning` (see the script's docstring), then "
             "`report`. Every node is a real process on Cyclone DDS (loopback, a domain of its own).",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, no GPU; torch on the CPU.", ""]  # fmt: skip
    if latency := read_rows("latency"):
        lines += ["## Policy latency, camera-to-command latency, dropped frames", "",
                  "The benchmark publishes rendered 84x84 frames at the camera rate and reads each command's stamp (the "
                  "frame it answers) on arrival: camera-to-command latency, DDS both ways included. The policy node "
                  "acts greedily (fixture weights) on the newest frame at each tick. At the deployed setting (policy "
                  "rate = camera rate) the latency includes the wait for the next tick; with the policy ticking at "
                  "500 Hz it acts as soon as a frame is in, which is the policy's own per-frame latency. Dropped: "
                  "frames no command answered (the frame of each reset handshake included).", "",
                  "| camera (Hz) | policy tick (Hz) | frames | answered | dropped (%) | resets "
                  "| latency p50 / p99 / max (ms) |", "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for row in latency:
            lines.append(f"| {number(row['camera_hz'], 0)} | {number(row['policy_hz'], 0)} | {row['frames_sent']} | "
                         f"{row['frames_answered']} | {number(row['dropped_pct'])} | {row['episode_resets']} | "
                         f"{number(row['camera_to_command_ms_p50'])} / {number(row['camera_to_command_ms_p99'])} / "
                         f"{number(row['camera_to_command_ms_max'])} |")  # fmt: skip
        lines.append("")
    if ingest := read_rows("ingest"):
        lines += ["## Trainer ingest", "",
                  "Simulated robots (one process each) publish whole episodes of 84x84 transitions at a fixed rate each "
                  "(10x a robot's 10 Hz by default); the trainer (VAE from a pretrained run, training TD3 meanwhile) "
                  "accepts them. Rate measured from /rig/trainer/status over the middle of the window; lost = sent "
                  "but never accepted (a reliable keep-last-1000 replay topic drops the oldest when the trainer falls "
                  "behind, and an episode with a gap is dropped whole).", "",
                  "| robots | per robot (transitions/s) | seconds | accepted (transitions/s) | sent | accepted | lost (%) "
                  "| TD3 steps |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for row in ingest:
            lines.append(f"| {row['robots']} | {number(row['robot_hz'], 0)} | {number(row['seconds'], 0)} | "
                         f"{number(row['accepted_per_s'])} | "
                         f"{row['sent']} | {row['accepted']} | {number(row['lost_pct'])} | {row['td3_steps']} |")  # fmt: skip
        lines.append("")
    if weights := read_rows("weights"):
        row = weights[0]
        lines += ["## Weights update to the policy", "",
                  f"{row['updates']} updates of a {row['bundle_kb']} KB Visual Reacher bundle published on /rig/weights; "
                  f"time until the policy's status (every {row['status_period_ms']} ms) shows the version in use "
                  f"(sha256 and shape checks included): p50 {number(row['publish_to_in_use_ms_p50'])} ms, "
                  f"p99 {number(row['publish_to_in_use_ms_p99'])} ms, max {number(row['publish_to_in_use_ms_max'])} ms.",
                  ""]  # fmt: skip
    if learning := read_rows("learning"):
        lines += learning_section(learning)
    (HERE / "graph.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'graph.md'}")


def learning_section(graph_rows: list[dict[str, str]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graph_rows = [row for row in graph_rows if row["source"] == "graph"]
    seed = graph_rows[0]["seed"]
    single_path = HERE / "visual_reacher_learning.csv"
    single_rows = [row for row in csv.DictReader(single_path.open()) if row["variant"] == "rig" and row["seed"] == seed]
    curves = {
        "graph (DDS, 3 node processes)": {int(float(r["env_steps"])): float(r["final_hand_distance"]) for r in graph_rows},
        f"single process (rig train, seed {seed})": {int(float(r["env_steps"])): float(r["final_hand_distance"])
                                                      for r in single_rows},
    }  # fmt: skip
    figure, axis = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        axis.plot(*zip(*sorted(curve.items())), marker="o", label=label)
    table = ["## Visual Reacher trained through the graph", "",
             "sim_sawyer_node + policy_node (exploring, 10 Hz) + trainer_node over DDS, the trainer starting from the "
             f"pretrained VAE of the single-process run with seed {seed} (`vae_from`), with the same config otherwise "
             "(online VAE phases included). The weights the trainer had published when its replay held each 1,000 "
             "env steps are evaluated as `rig train` evaluates (20 fresh goals, the same goals at the same step).",
             "", "| env steps | " + " | ".join(curves) + " |", "| --- |" + " --- |" * len(curves)]  # fmt: skip
    for steps in sorted(set().union(*curves.values())):
        cells = [f"{curve[steps]:.3f}" if steps in curve else "" for curve in curves.values()]
        table.append(f"| {steps} | " + " | ".join(cells) + " |")
    wall = float(graph_rows[0]["wall_time_s"])
    table += ["", f"Graph run: {wall / 60:.0f} min of wall time for 10K env steps at a 10 Hz control rate (the "
              "machine also ran other training runs), then the evaluations.", "",
              "![learning](graph_learning.png)", ""]  # fmt: skip
    axis.set(xlabel="env steps", ylabel="final hand distance (m)", title="Visual Reacher: graph vs single process",
             xlim=(0, 10_000), ylim=(0.0, 0.25))  # fmt: skip
    axis.axhline(0.05, color="grey", linestyle="--", linewidth=1, label="target 0.05 m")
    axis.legend()
    figure.tight_layout()
    figure.savefig(HERE / "graph_learning.png", dpi=120)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    latency = parts.add_parser("latency")
    latency.add_argument("--seconds", type=float, default=60.0)
    ingest = parts.add_parser("ingest")
    ingest.add_argument("--vae-from", type=Path, required=True)
    ingest.add_argument("--seconds", type=float, default=40.0)
    ingest.add_argument("--robot-hz", type=float, default=100.0, help="transitions/s per simulated robot")
    feed = parts.add_parser("feed", help="(internal) one simulated robot for `ingest`")
    feed.add_argument("--robot-id", required=True)
    feed.add_argument("--seconds", type=float, required=True)
    feed.add_argument("--hz", type=float, required=True)
    weights = parts.add_parser("weights")
    weights.add_argument("--updates", type=int, default=30)
    learning = parts.add_parser("learning")
    learning.add_argument("--vae-from", type=Path, required=True)
    learning.add_argument("--seed", type=int, default=0)
    learning.add_argument("--env-steps", type=int, default=10_000)
    learning.add_argument("--eval-every", type=int, default=1000)
    learning.add_argument("--eval-episodes", type=int, default=20)
    learning.add_argument("--rate-hz", type=float, default=10.0)
    parts.add_parser("report")
    args = parser.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    runners = {"latency": run_latency, "ingest": run_ingest, "feed": run_feeder, "weights": run_weights,
               "learning": run_learning, "report": run_report}  # fmt: skip
    runners[args.part](args)
    if args.part not in ("feed", "report"):
        run_report()


if __name__ == "__main__":
    main()
