"""A checker process for tests and benchmarks across hosts: it subscribes to topics and appends one JSON line per
message (arrival time and the message's scalar fields) to a file, which the test reads while the graph runs.

    python -m rig_transport.probe OUT.jsonl /rig/ee_pose=geometry_msgs/msg/PoseStamped:sensor_data ...

Fields are flattened with dots (``pose.position.x``); byte arrays (images, weights) are left out, numeric arrays of
at most 64 values (actions, goal latents) kept. Runs on the DDS backend until SIGINT/SIGTERM.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS, QoSProfile, make_transport

QOS = {"sensor_data": SENSOR_DATA, "command": COMMAND, "status": STATUS, "replay": REPLAY, "latched": LATCHED}
MAX_ARRAY = 64


def flatten(msg: Any, prefix: str = "") -> dict[str, Any]:
    """The scalar fields (and short numeric arrays) of a message, nested names joined with dots."""
    flat: dict[str, Any] = {}
    for field in dataclasses.fields(msg):
        value, name = getattr(msg, field.name), f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (str, int, float, bool)):
            flat[name] = value
        elif isinstance(value, (list, tuple)) and len(value) <= MAX_ARRAY and all(isinstance(v, (int, float)) for v in value):
            flat[name] = list(value)
    return flat


def parse_subscription(text: str) -> tuple[str, str, QoSProfile]:
    """``TOPIC=TYPE:QOS`` -> (topic, type, QoS profile); ValueError naming what is wrong."""
    topic, _, rest = text.partition("=")
    type_name, _, qos = rest.partition(":")
    if not topic.startswith("/") or not type_name or qos not in QOS:
        raise ValueError(f"{text!r}: expected TOPIC=TYPE:QOS with QOS one of {', '.join(QOS)}")
    return topic, type_name, QOS[qos]


def recorder(out: IO[str], topic: str) -> Callable[[Any], None]:
    def record(msg: Any) -> None:
        out.write(json.dumps({"topic": topic, "t": time.time(), **flatten(msg)}) + "\n")
        out.flush()

    return record


def read_records(path: Path, topic: str | None = None) -> list[dict[str, Any]]:
    """The records a probe wrote so far (of ``topic`` only, if given); a line being written is left out."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if topic is None or record["topic"] == topic:
            records.append(record)
    return records


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        subscriptions = [parse_subscription(text) for text in args[1:]]
    except ValueError as error:
        print(f"probe: {error}", file=sys.stderr)
        return 2
    transport = make_transport("rig_probe", backend="dds", argv=[])
    with open(args[0], "a") as out:
        for topic, type_name, qos in subscriptions:
            transport.create_subscription(topic, type_name, qos, recorder(out, topic))
        print(f"probe: recording {len(subscriptions)} topics to {args[0]}", flush=True)
        transport.spin()
    return 0


if __name__ == "__main__":
    sys.exit(main())
