"""Does watching the policy's model images slow its control loop? Camera-to-command latency with and without a
subscriber on every model image topic (real node processes, Cyclone DDS on loopback, no ROS installed).

    python benchmarks/model_images.py [--seconds 30]

Writes benchmarks/model_images.csv and benchmarks/model_images.md. The policy acts greedily with a Visual Reacher
agent of the real network sizes (random weights: the same computation as trained ones), its VAE decoder included,
so every image is made. Node logs go to benchmarks/runs/graph/model_images_*/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from graph import RUNS, camera_frames, camera_to_command
from rig_policy_node.model_images import TOPICS, VIEWING_QOS

HERE = Path(__file__).parent
SETTINGS = ((9.7, 10.0, 2.0, False), (9.7, 10.0, 2.0, True), (10.0, 500.0, 2.0, False), (10.0, 500.0, 2.0, True),
            (10.0, 500.0, 10.0, True))  # fmt: skip
"""(camera Hz, policy Hz, model_images_rate_hz, subscribers on every image topic): about the deployed setting (the
policy ticking at the camera's rate; the camera 3 % slower, so the phase between the two timers sweeps through every
value every 3.3 s and runs compare), a policy acting as soon as a frame is in (its own latency), and images of
nearly every frame."""


def policy_weights() -> Path:
    """A Visual Reacher weights file with the default network sizes (random weights), written once."""
    import torch

    from rig_core.agent import RIGAgent
    from rig_core.config import task_config
    from rig_core.weights import pack_policy_weights, write_weights_file

    path = RUNS / "model_images_policy.safetensors"
    torch.manual_seed(0)
    write_weights_file(pack_policy_weights(RIGAgent(task_config("visual-reacher"), 0, 2), version=1), path)
    return path


def measure(camera_hz: float, policy_hz: float, images_hz: float, watched: bool, seconds: float, weights: Path,
            frames: list[Any]) -> dict[str, Any]:  # fmt: skip
    from rig_transport.testing import NodeProcess

    viewers: list[NodeProcess] = []
    part = f"model_images_{images_hz:g}hz_{'watched' if watched else 'unwatched'}"

    def start_viewer(_transport: Any) -> None:  # in the run's DDS domain: a process of its own, as a real viewer is
        log = RUNS / f"{part}_{camera_hz:g}hz_{policy_hz:g}hz" / "viewer.log"
        viewers.append(NodeProcess("", {}, log, args=[sys.executable, __file__, "viewer"]))

    params = {"weights_file": str(weights), "model_images_rate_hz": images_hz}
    row = camera_to_command(camera_hz, policy_hz, seconds, frames, params, start_viewer if watched else None, part)
    counts: dict[str, int] = dict.fromkeys(TOPICS, 0)
    for viewer in viewers:
        viewer.stop(signal.SIGINT)
        counts = json.loads(viewer.log().strip().splitlines()[-1])
    return {"images_hz": images_hz, "subscribers": watched, **row,
            **{f"received_{topic.rsplit('/', 1)[1]}": counts[topic] for topic in TOPICS}}  # fmt: skip


def run_viewer() -> None:
    """A viewer subscribed to every model image topic until SIGINT; then its counts, as JSON, on stdout."""
    from rig_transport.dds_backend import DDSTransport

    transport = DDSTransport("image_viewer", argv=[])
    received: Counter[str] = Counter(dict.fromkeys(TOPICS, 0))
    for topic in TOPICS:
        transport.create_subscription(topic, "sensor_msgs/msg/Image", VIEWING_QOS,
                                      lambda _msg, topic=topic: received.update([topic]))  # fmt: skip
    try:
        transport.spin()
    finally:
        transport.shutdown()
    print(json.dumps(received), flush=True)


def spread(row: dict[str, Any], name: str) -> str:
    """p50 / p99 / max of a measure, in a table cell."""
    return " / ".join(f"{row[f'{name}_{stat}']:.1f}" for stat in ("p50", "p99", "max"))


def write_report(rows: list[dict[str, Any]], command: str, load: tuple[float, float], minutes: float) -> None:
    path = HERE / "model_images.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# Model images and the policy's control loop", "",
        f"Command: `{command}` ({minutes:.1f} min). Machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU, "
        f"shared with other work (1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end).", "",
        "Real processes over Cyclone DDS on loopback: the benchmark is camera (84x84 Visual Reacher frames), driver "
        "(answers resets) and, in the `watched` rows, a viewer process subscribed to every model image topic (/rig/"
        "policy/goal_image_model, /rig/policy/reconstruction, /rig/policy/strip). The policy acts greedily with a Visual "
        "Reacher agent of the real sizes, VAE decoder included. Latency: camera frame stamp to its command's arrival "
        "(the command carries the frame's stamp), DDS both ways and the wait for the policy's tick included. With "
        "nobody subscribed the policy only asks its image writers' matched counts on every tick that acts; watched, "
        "it decodes and publishes the images right after such a tick's command, at most `model_images_rate_hz` times "
        "a second (a tick less than a period after the last images skips them: at 10 Hz, about 7 frames in 10 get "
        "images). Per run: model_images.csv.", "",
        "With the policy ticking at about the camera's rate the latency includes the wait for the next tick, "
        "uniform over 0-100 ms as the two timers' phase sweeps, and a tick without a new frame (3 % of them) sends "
        "no command; with the policy ticking at 500 Hz the latency is the policy's own per-frame latency.", "",
        "| camera / policy Hz | images Hz | subscribers | frames | dropped % | latency p50 / p99 / max (ms) "
        "| images received (goal, reconstruction, strip) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for row in rows:
        lines.append(
            f"| {row['camera_hz']:g} / {row['policy_hz']:g} | {row['images_hz']:g} | {'yes' if row['subscribers'] else 'no'} "
            f"| {row['frames_sent']} | {row['dropped_pct']:.1f} | {spread(row, 'camera_to_command_ms')} "
            f"| {row['received_goal_image_model']}, {row['received_reconstruction']}, {row['received_strip']} |"
        )  # fmt: skip
    (HERE / "model_images.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {path} and {HERE / 'model_images.md'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per run")
    args = parser.parse_args()
    started, load_start = time.monotonic(), os.getloadavg()[0]
    RUNS.mkdir(parents=True, exist_ok=True)
    weights, frames = policy_weights(), camera_frames(64)
    rows = []
    for camera_hz, policy_hz, images_hz, watched in SETTINGS:
        rows.append(measure(camera_hz, policy_hz, images_hz, watched, args.seconds, weights, frames))
        print(json.dumps(rows[-1]), flush=True)
    command = f"python benchmarks/model_images.py --seconds {args.seconds:g}"
    write_report(rows, command, (load_start, os.getloadavg()[0]), (time.monotonic() - started) / 60)


if __name__ == "__main__":
    if sys.argv[1:] == ["viewer"]:
        run_viewer()
    else:
        main()
