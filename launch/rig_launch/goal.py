"""`rig goal`: the operator's side of /rig/goal_image, from a terminal, with or without ROS.

    rig goal my_goal.png      # any image file OpenCV reads, any size: the policy crops and resizes it
    rig goal --capture        # the robot's current camera frame becomes the goal
    rig goal --clear          # back to practising on imagined goals

It publishes, then waits until a policy's status confirms the change (or reports a rejection), so the
command's exit code says whether the robot took the goal. The transport is rclpy when ROS 2 is sourced,
else Cyclone DDS (`RIG_TRANSPORT` chooses).
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from rig_core.errors import RigError
from rig_core.files import input_file
from rig_core.images import read_rgb
from rig_transport import LATCHED, STATUS, Transport, make_transport
from rig_transport.images import rgb_to_image

GOAL_MODE, IMAGINED_MODES = "operator_goal", ("imagined_goal", "idle")
STATUSES_TO_WAIT = 2
"""Statuses to see after publishing: the first may have been taken before the goal arrived."""


class GoalError(Exception):
    """The goal could not be handed over (unreadable image, no policy, rejected)."""


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


def publish_request(transport: Transport, args: argparse.Namespace) -> tuple[str, tuple[str, ...]]:
    """Publish the request; returns what it is and the policy modes that confirm it."""
    if args.clear:
        transport.create_publisher("/rig/goal_image/clear", "std_msgs/msg/Empty", STATUS).publish(
            transport.new("std_msgs/msg/Empty"))  # fmt: skip
        return "clear", IMAGINED_MODES
    if args.capture:
        transport.create_publisher("/rig/goal_image/capture", "std_msgs/msg/Empty", STATUS).publish(
            transport.new("std_msgs/msg/Empty"))  # fmt: skip
        return "capture", (GOAL_MODE,)

    image = rgb_to_image(transport, read_rgb(args.image), transport.now(), "operator")
    transport.create_publisher("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED).publish(image)
    return f"goal image {args.image} ({image.width}x{image.height})", (GOAL_MODE,)


def confirm(statuses: queue.Queue, baseline_error: str, modes: tuple[str, ...], timeout_s: float) -> Any:
    """The policy status that confirms the request; GoalError for a rejection or no answer."""
    deadline, seen = time.monotonic() + timeout_s, 0
    while (left := deadline - time.monotonic()) > 0:
        try:
            status = statuses.get(timeout=left)
        except queue.Empty:
            break
        seen += 1
        if status.last_error != baseline_error and status.last_error.startswith("goal"):
            raise GoalError(f"policy of {status.robot_id} rejected it: {status.last_error}")
        if seen >= STATUSES_TO_WAIT and status.mode in modes:
            return status
    raise GoalError(f"no policy confirmed it within {timeout_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `rig goal`."""
    args = parser().parse_args(argv)
    try:
        if args.image is not None:
            input_file(args.image, "goal image")
    except RigError as error:
        print(f"rig goal: error: {error}", file=sys.stderr)
        return 1
    transport = make_transport("rig_goal", argv=[])
    statuses: queue.Queue = queue.Queue()
    transport.create_subscription("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS, statuses.put)
    spinner = threading.Thread(target=transport.spin, daemon=True)
    spinner.start()
    try:
        try:
            baseline = statuses.get(timeout=args.timeout)  # a policy is there (and discovered)
        except queue.Empty:
            raise GoalError(f"no policy status on /rig/policy/status within {args.timeout:.0f} s") from None
        what, modes = publish_request(transport, args)
        while not statuses.empty():  # only statuses taken after the request count
            statuses.get_nowait()
        status = confirm(statuses, baseline.last_error, modes, args.timeout)
        print(f"rig goal: {what}: policy of {status.robot_id} is in mode {status.mode}")
        return 0
    except (GoalError, RigError) as error:  # RigError: an unreadable image file
        print(f"rig goal: error: {error}", file=sys.stderr)
        return 1
    finally:
        transport.shutdown()
        spinner.join(10.0)
