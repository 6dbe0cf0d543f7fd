"""A ROS 1 node driven over stdin/stdout, for tests: the other end of the topics of the node under test.

``python -m rig_sawyer_driver.ros1_peer --name probe --subscribe /robot/state=intera_core_msgs/RobotAssemblyState``
prints ``{"ready": true}`` on stdout once initialised, then one JSON line ``{"topic": ..., "msg": {...}}`` per message received
(uint8[] as a list of ints, times in seconds); everything else it prints goes to stderr. It reads JSON commands, one a line:

* ``{"op": "publish", "topic": t, "type": "std_msgs/Bool", "fields": {"data": true}, "latch": false}`` publishes
  once, after waiting (up to a generous limit) for a subscriber unless latched; a ``header`` is stamped now;
* ``{"op": "stream", "topic": t, "type": ..., "fields": ..., "rate_hz": 50}`` publishes at that rate until
  ``{"op": "stop", "topic": t}`` (a new stream on the topic replaces the old).

Message types are std_msgs/sensor_msgs/geometry_msgs (the installed ROS 1 modules) or intera_core_msgs (this package).
The node keeps its topics registered across a master restart (`MasterWatch`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from rig_sawyer_driver import intera_msgs
from rig_sawyer_driver.master_watch import MasterWatch
from rig_sawyer_driver.ros1 import genpy, rospy

SUBSCRIBER_WAIT_S = 30.0


def message_class(type_name: str) -> type[genpy.Message]:
    """The class of a ROS 1 message type name such as ``std_msgs/Bool`` or ``intera_core_msgs/JointCommand``."""
    package, name = type_name.split("/")
    if package == intera_msgs.PACKAGE:
        return getattr(intera_msgs, name)
    return getattr(importlib.import_module(f"{package}.msg"), name)


def to_plain(value: Any) -> Any:
    """A message (or field value) as JSON-ready dicts, lists, numbers and strings."""
    if isinstance(value, genpy.Message):
        return {slot: to_plain(getattr(value, slot)) for slot in value.__slots__}
    if isinstance(value, genpy.TVal):
        return value.to_sec()
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


class Peer:
    """Publishers created on first use, one streaming thread per streamed topic, subscribers printing JSON lines."""

    def __init__(self, subscriptions: dict[str, str], out: TextIO) -> None:
        self._out = out
        self._print_lock = threading.Lock()
        self._publishers: dict[str, rospy.Publisher] = {}
        self._streams: dict[str, threading.Event] = {}
        self._subscribers = [rospy.Subscriber(topic, message_class(type_name), self._printer(topic))
                             for topic, type_name in subscriptions.items()]  # fmt: skip

    def emit(self, line: dict[str, Any]) -> None:
        with self._print_lock:
            self._out.write(json.dumps(line) + "\n")
            self._out.flush()

    def _printer(self, topic: str) -> Any:
        return lambda msg: self.emit({"topic": topic, "msg": to_plain(msg)})

    def _message(self, command: dict[str, Any]) -> genpy.Message:
        msg = message_class(command["type"])()
        genpy.message.fill_message_args(msg, [command.get("fields", {})])
        if msg._has_header:
            msg.header.stamp = rospy.Time.now()
        return msg

    def _publisher(self, command: dict[str, Any]) -> rospy.Publisher:
        topic, latch = command["topic"], bool(command.get("latch", False))
        if topic not in self._publishers:
            self._publishers[topic] = rospy.Publisher(topic, message_class(command["type"]), queue_size=10, latch=latch)
            deadline = time.monotonic() + SUBSCRIBER_WAIT_S
            while not latch and self._publishers[topic].get_num_connections() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        return self._publishers[topic]

    def handle(self, command: dict[str, Any]) -> None:
        """Carry out one command (see the module docstring)."""
        topic = command["topic"]
        if topic in self._streams:  # any command on a streamed topic ends the stream
            self._streams.pop(topic).set()
        if command["op"] == "publish":
            self._publisher(command).publish(self._message(command))
        elif command["op"] == "stream":
            stop = self._streams[topic] = threading.Event()
            publisher, period_s = self._publisher(command), 1.0 / float(command["rate_hz"])
            threading.Thread(target=self._stream, args=(publisher, command, stop, period_s), daemon=True).start()

    def _stream(self, publisher: rospy.Publisher, command: dict[str, Any], stop: threading.Event, period_s: float) -> None:
        while not stop.is_set() and not rospy.is_shutdown():
            publisher.publish(self._message(command))
            stop.wait(period_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="ros1_peer")
    parser.add_argument("--subscribe", action="append", default=[], metavar="TOPIC=TYPE")
    args = parser.parse_args(argv)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")  # the JSON lines; anything else printed (rospy) goes to stderr
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    rospy.init_node(args.name, disable_signals=True)
    MasterWatch().start()
    peer = Peer(dict(item.split("=", 1) for item in args.subscribe), out)
    peer.emit({"ready": True})
    for line in sys.stdin:  # until the test closes stdin (or kills the process)
        if line.strip():
            peer.handle(json.loads(line))
    rospy.signal_shutdown("stdin closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
