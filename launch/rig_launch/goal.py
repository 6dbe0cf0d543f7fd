"""`rig goal`: the operator's side of /rig/goal_image, from a terminal, with or without ROS.

    rig goal my_goal.png      # any image file OpenCV reads, any size: the policy crops and resizes it
    rig goal --capture        # the robot's current camera frame becomes the goal
    rig goal --clear          # back to practising on imagined goals

The request's header stamp identifies it: the policy echoes that header in its status with the answer (taken,
or rejected and why), so the exit code says whether the robot took this request, whatever mode the policy is
in. The file is read before any policy is looked for. The transport is rclpy when ROS 2 is sourced, else
Cyclone DDS (`RIG_TRANSPORT` chooses).
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from rig_core.errors import RigError
from rig_core.files import input_file
from rig_core.images import read_rgb
from rig_launch.status_queue import first_status
from rig_transport import LATCHED, STATUS, Transport, make_transport
from rig_transport.images import rgb_to_image

RESEND_S = 2.0
PREPARED_WAIT_S = 3.0
"""How long `rig goal` waits for the acting policy to say how it prepared the goal image."""
"""Send the request again after this long without its answer (a policy discovered late may have missed it;
the policy takes a request once, however often it arrives)."""
IDLE_NOTES = {True: " (no weights yet: it acts once they arrive)", False: " (the robot is resetting: it acts after)"}
"""What an idle mode means, by whether the policy has weights yet."""


class GoalError(Exception):
    """The goal could not be handed over (no policy answered, or it rejected the request)."""


def parser() -> argparse.ArgumentParser:
    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    result = _Parser(prog="rig goal", description="Set, capture or clear the robot's goal image.")
    action = result.add_mutually_exclusive_group(required=True)
    action.add_argument("image", nargs="?", type=Path, help="goal image file (any size; png, jpg, ...)")
    action.add_argument("--capture", action="store_true", help="use the robot's current camera frame as the goal")
    action.add_argument("--clear", action="store_true", help="clear the goal: back to imagined goals")
    result.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a policy (default: %(default)s)")
    return result


def request_sender(transport: Transport, args: argparse.Namespace, image: np.ndarray | None) -> tuple[str, Any, Callable]:
    """What the request is, its stamp, and a function that (re)sends it."""
    stamp = transport.now()
    if image is not None:
        msg = rgb_to_image(transport, image, stamp, "operator")
        topic, type_name, qos = "/rig/goal_image", "sensor_msgs/msg/Image", LATCHED
        what = f"goal image {args.image} ({msg.width}x{msg.height})"
    else:
        msg = transport.new("std_msgs/msg/Header", stamp=stamp, frame_id="operator")
        topic, type_name, qos = f"/rig/goal_image/{'clear' if args.clear else 'capture'}", "std_msgs/msg/Header", STATUS
        what = "clear" if args.clear else "capture"
    publisher = transport.create_publisher(topic, type_name, qos)
    return what, stamp, lambda: publisher.publish(msg)


def answer(statuses: queue.Queue, stamp: Any, send: Callable[[], None], timeout_s: float) -> Any:
    """The first policy status that answers the request with ``stamp`` (sent, and re-sent every RESEND_S, here)."""
    deadline, resend_at, seen = time.monotonic() + timeout_s, 0.0, None
    while (now := time.monotonic()) < deadline:
        if now >= resend_at:
            send()
            resend_at = now + RESEND_S
        try:
            status = statuses.get(timeout=min(deadline, resend_at) - now)
        except queue.Empty:
            continue
        seen = status
        if (status.goal_request.stamp.sec, status.goal_request.stamp.nanosec) == (stamp.sec, stamp.nanosec):
            return status
    if seen is None:
        raise GoalError(f"no policy status on /rig/policy/status within {timeout_s:.0f} s (is the graph running?)")
    raise GoalError(f"the policy of {seen.robot_id} did not answer the request within {timeout_s:.0f} s")


def report_preparation(statuses: queue.Queue, stamp: Any) -> None:
    """Print what the policy did to the goal image and any warning about it (it prepares the goal at its next step,
    after a reset; nothing is printed if that status does not come within PREPARED_WAIT_S, e.g. for older weights)."""
    request = (stamp.sec, stamp.nanosec)
    status = first_status(statuses, lambda m: (m.goal_request.stamp.sec, m.goal_request.stamp.nanosec) == request
                          and bool(m.goal_alignment), PREPARED_WAIT_S)  # fmt: skip
    if status is not None:
        print(f"rig goal: {status.goal_alignment}")
        if status.goal_warning:
            print(f"rig goal: warning: {status.goal_warning}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `rig goal`."""
    args = parser().parse_args(argv)
    try:
        if args.image is not None:
            input_file(args.image, "goal image")
        image = None if args.image is None else read_rgb(args.image)  # a bad file fails here, before any policy
    except RigError as error:
        print(f"rig goal: error: {error}", file=sys.stderr)
        return 1
    try:
        transport = make_transport("rig_goal", argv=[])
    except ValueError as error:  # e.g. DDS Security enforced without this tool's keys (rig_transport.security)
        print(f"rig goal: error: {error}", file=sys.stderr)
        return 1
    statuses: queue.Queue = queue.Queue()
    transport.create_subscription("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS, statuses.put)
    what, stamp, send = request_sender(transport, args, image)
    spinner = threading.Thread(target=transport.spin, daemon=True)
    spinner.start()
    try:
        status = answer(statuses, stamp, send, args.timeout)
        if not status.goal_accepted:
            raise GoalError(f"the policy of {status.robot_id} rejected the {what}: {status.goal_rejection}")
        note = IDLE_NOTES[status.weights_version == 0] if status.mode == "idle" else ""
        print(f"rig goal: {what}: taken by the policy of {status.robot_id}, in mode {status.mode}{note}")
        if image is not None and status.weights_version > 0:
            report_preparation(statuses, stamp)
        return 0
    except GoalError as error:
        print(f"rig goal: error: {error}", file=sys.stderr)
        return 1
    finally:
        transport.shutdown()
        spinner.join(10.0)
