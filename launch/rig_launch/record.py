"""`rig record`: the graph's topics into a rosbag2 bag (MCAP storage, ROS 2 CDR, message definitions embedded).

    rig record --out bags/lab1                                  # every RIG topic (README's table) until Ctrl-C
    rig record --out bags/lab1 --topics /rig/replay/transitions /rig/camera/image_raw
    rig record --out bags/lab1 --exclude /rig/weights --max-bag-size 100000000 --max-bag-duration 600

The bag is what ``ros2 bag record -s mcap`` writes (``ros2 bag info/play``, Foxglove): one or more ``.mcap``
files and ``metadata.yaml`` with each topic's offered QoS. Each topic is subscribed with its publishers'
reliability and durability (latched topics deliver their last message), over either transport backend; Ctrl-C
or SIGTERM closes the files and writes the metadata. Messages are stamped with their receive time, as rosbag2 does.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from rig_launch.bag_writer import SplitBagWriter
from rig_launch.topics import TOPICS, TopicSpec
from rig_transport import make_transport
from rig_transport.dds_types import default_types

READER_DEPTH = 100
"""The recorder's reader history (at least the topic's): a frame published while a large message is written waits
there instead of replacing the one before (history depth is the reader's own; it does not affect matching)."""

PROGRESS_S = 1.0
"""How often the message count is printed (when it changed)."""


def serialize(msg: Any) -> bytes:
    """A received message as ROS 2 CDR (4-byte encapsulation header + XCDR1 body), as rosbag2 stores it.

    The transport hands subscribers decoded messages, so they are serialized again, with the types they were decoded
    with: the DDS backend's classes write the very bytes an rmw_cyclonedds node sends (checked against rosbags in
    rig_transport's tests), and under rclpy ``serialize_message`` is what ``ros2 bag record`` stores.
    """
    if hasattr(msg, "serialize"):  # a cyclonedds IdlStruct
        return bytes(msg.serialize())
    from rclpy.serialization import serialize_message

    return serialize_message(msg)


def selected_topics(only: list[str] | None, exclude: list[str]) -> list[TopicSpec]:
    """``only`` (default: every RIG topic) without ``exclude``; ValueError naming an unknown topic."""
    names = only or list(TOPICS)
    unknown = sorted(set(names + exclude) - set(TOPICS))
    if unknown:
        raise ValueError(f"unknown topic {', '.join(unknown)} (RIG topics: {', '.join(TOPICS)})")
    chosen = [TOPICS[name] for name in dict.fromkeys(names) if name not in exclude]
    if not chosen:
        raise ValueError("--exclude leaves no topic to record")
    return chosen


class Recorder:
    """Received messages into the bag (on the transport's executor thread), counted per topic."""

    def __init__(self, bag: SplitBagWriter) -> None:
        self.bag = bag
        self.counts = dict.fromkeys((topic.name for topic in bag.topics), 0)
        self._reported = 0

    def callback(self, topic: str) -> Callable[[Any], None]:
        def record(msg: Any) -> None:
            self.bag.write(topic, time.time_ns(), serialize(msg))
            self.counts[topic] += 1

        return record

    def report(self) -> None:
        """Print the counts when they changed."""
        if (total := sum(self.counts.values())) != self._reported:
            per_topic = ", ".join(f"{name} {count}" for name, count in self.counts.items() if count)
            print(f"rig record: {total} messages so far ({per_topic})", flush=True)
            self._reported = total


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _non_negative(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    result = _Parser(prog="rig record", description="Record the RIG graph's topics into a rosbag2 MCAP bag "
                                                    "until Ctrl-C or SIGTERM.")  # fmt: skip
    result.add_argument("--out", type=Path, required=True, help="the bag directory to create")
    result.add_argument("--topics", nargs="+", metavar="TOPIC", help="record these topics (default: every RIG topic)")
    result.add_argument("--exclude", nargs="+", default=[], metavar="TOPIC", help="do not record these topics")
    result.add_argument("--max-bag-size", type=_non_negative(int), default=0, metavar="BYTES",
                        help="start a new .mcap file after this many message bytes (default: 0, no split)")
    result.add_argument("--max-bag-duration", type=_non_negative(float), default=0.0, metavar="S",
                        help="start a new .mcap file after this many seconds (default: 0, no split)")
    return result  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of `rig record`: 0 once the bag is closed after Ctrl-C/SIGTERM, 1 on bad arguments."""
    args = parser().parse_args(argv)
    try:
        topics = selected_topics(args.topics, args.exclude)
        bag = SplitBagWriter(args.out, topics, default_types().typestore, args.max_bag_size,
                             int(args.max_bag_duration * 1e9))  # fmt: skip
        transport = make_transport("rig_record", argv=[])
    except (ValueError, FileExistsError) as error:
        print(f"rig record: error: {error}", file=sys.stderr)
        return 1
    try:
        bag.open()
    except OSError as error:
        transport.shutdown()
        print(f"rig record: error: cannot create {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    recorder = Recorder(bag)
    try:
        for topic in topics:
            qos = replace(topic.qos, depth=max(topic.qos.depth, READER_DEPTH))
            transport.create_subscription(topic.name, topic.type_name, qos, recorder.callback(topic.name))
        transport.create_timer(PROGRESS_S, recorder.report)
        print(f"rig record: recording {len(topics)} topics into {args.out}; Ctrl-C stops", flush=True)
        transport.spin()
    finally:
        transport.shutdown()
        bag.close()
    print(f"rig record: {sum(recorder.counts.values())} messages in {len(bag.files)} file(s) in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
