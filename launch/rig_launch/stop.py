"""`rig stop`: the operator's stop of the RIG drivers (/rig/driver/stop), from a terminal, with or without ROS 2.

    rig stop                  # every driver holds its arm still and ignores velocity commands until released
    rig stop --release        # back to following the policy
    rig stop --robot-id sawyer   # wait for that robot's driver only

This is not an emergency stop: the robot's own e-stop button cuts the motors, this only stops commanding motion.
It publishes on /rig/driver/stop (reliable, transient local), then waits until a driver's /rig/driver/status
reports the change, so the exit code says whether a driver took it. A driver keeps the stop after `rig stop`
exits, until it is released; a driver started later does not see it. (The MuJoCo sim driver takes the stop too
but publishes no driver status, so there `rig stop` reports that no driver confirmed.)
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
from typing import Any, NoReturn

from rig_launch.status_queue import first_status
from rig_transport import LATCHED, STATUS, make_transport


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    result = _Parser(prog="rig stop", description="Hold the robot arm still (operator stop), or release it.")
    result.add_argument("--release", action="store_true", help="release the stop: the driver follows commands again")
    result.add_argument("--robot-id", help="wait for this robot's driver (default: any driver)")
    result.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a driver (default: %(default)s)")
    return result


def confirmed(statuses: queue.Queue, stopped: bool, robot_id: str | None, timeout_s: float) -> Any | None:
    """The first status of a driver (of ``robot_id``, if given) reporting ``operator_stopped == stopped``; None if
    none did within ``timeout_s``."""
    return first_status(statuses, lambda m: m.operator_stopped == stopped and robot_id in (None, m.robot_id), timeout_s)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `rig stop`: 0 when a driver confirmed, 1 when none did within the timeout."""
    args = parser().parse_args(argv)
    stopped = not args.release
    try:
        transport = make_transport("rig_stop", argv=[])
    except ValueError as error:  # e.g. DDS Security enforced without this tool's keys (rig_transport.security)
        print(f"rig stop: error: {error}", file=sys.stderr)
        return 1
    statuses: queue.Queue = queue.Queue()
    transport.create_subscription("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS, statuses.put)
    stop = transport.create_publisher("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED)
    spinner = threading.Thread(target=transport.spin, daemon=True)
    spinner.start()
    try:
        stop.publish(transport.new("std_msgs/msg/Bool", data=stopped))
        status = confirmed(statuses, stopped, args.robot_id, args.timeout)
        if status is None:
            which = f" of {args.robot_id}" if args.robot_id else ""
            print(f"rig stop: error: no driver{which} confirmed the {'stop' if stopped else 'release'} on "
                  f"/rig/driver/status within {args.timeout:.0f} s", file=sys.stderr)  # fmt: skip
            return 1
        print(f"rig stop: {status.robot_id}: {'stopped, holding' if stopped else 'released'} (mode {status.mode}, "
              f"hold {status.hold})")  # fmt: skip
        return 0
    finally:
        transport.shutdown()
        spinner.join(10.0)
