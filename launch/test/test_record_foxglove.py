"""A `rig record` bag as the Foxglove app reads it: foxglove_check/check_bag.mjs opens every file with @mcap/core,
parses the embedded message definitions with @foxglove/rosmsg and decodes every message with
@foxglove/rosmsg2-serialization (nothing left over but CDR padding); the topics, types and counts are metadata.yaml's
and the decoded fields are what was sent. Skips, naming what is missing, without node or without the checker's npm
modules (`npm ci --prefix launch/test/foxglove_check`, which .ci/run does)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from recorded_bag import Recording, assert_decoded_as_sent, record_known_messages

from rig_launch.bag_writer import SplitBagWriter
from rig_launch.record import serialize
from rig_launch.topics import TOPICS
from rig_transport.dds_types import default_types

CHECKER = Path(__file__).parent / "foxglove_check"


def checker_command() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: Foxglove's MCAP and ROS 2 CDR readers are JavaScript")
    if not (CHECKER / "node_modules" / "@foxglove" / "rosmsg2-serialization").is_dir():
        pytest.skip(f"the Foxglove readers are not installed: npm ci --prefix {CHECKER}")
    return [node, str(CHECKER / "check_bag.mjs")]


def attributes(value: Any) -> Any:
    """The checker's JSON with attribute access, as the Python readers give it: {"$bytes": b64} becomes bytes."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return SimpleNamespace(**{key: attributes(item) for key, item in value.items()})
    return [attributes(item) for item in value] if isinstance(value, list) else value


def foxglove_read(recording: Recording) -> dict:
    """check_bag.mjs on the recording's files, expecting metadata.yaml's topics, types and counts."""
    expected = {topic["topic_metadata"]["name"]: {"type": topic["topic_metadata"]["type"],
                                                  "count": topic["message_count"]}
                for topic in recording.info["topics_with_message_count"]}  # fmt: skip
    command = [*checker_command(), "--expect", json.dumps(expected), *map(str, recording.files)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_foxglove_reads_every_message_of_a_rig_record_bag_as_it_was_sent(test_node, start_node, tmp_path):
    checker_command()  # skip before recording when the checker cannot run
    recording = record_known_messages(test_node, start_node, tmp_path / "lab1")
    assert len(recording.files) >= 3  # split by size: Foxglove opens each file of the bag
    out = foxglove_read(recording)
    assert out["types"]["/rig/replay/transitions"] == "rig_msgs/msg/Transition"
    assert out["types"]["/rig/goal_image"] == "sensor_msgs/msg/Image"
    assert out["counts"] == {topic: count for topic, count in recording.counts.items() if count}
    assert_decoded_as_sent({topic: attributes(messages) for topic, messages in out["messages"].items()}, recording)


def test_the_checker_takes_cdr_padding_and_fails_on_a_count_type_or_byte_too_many_and_on_no_mcap(tmp_path):
    command = checker_command()
    types = default_types()
    writer = SplitBagWriter(tmp_path / "stops", [TOPICS["/rig/driver/stop"]], types.typestore)
    writer.open()
    for index, (data, padding) in enumerate([(True, b""), (False, b"\0\0\0")]):  # 5 bytes, or padded to 8 on the wire
        writer.write("/rig/driver/stop", 10**18 + index, serialize(types.new("std_msgs/msg/Bool", data=data)) + padding)
    writer.close()
    over = SplitBagWriter(tmp_path / "over", [TOPICS["/rig/driver/stop"]], types.typestore)
    over.open()
    over.write("/rig/driver/stop", 10**18, serialize(types.new("std_msgs/msg/Bool", data=True)) + b"\0" * 4)
    over.close()
    (mcap,) = (tmp_path / "stops").glob("*.mcap")
    (too_long,) = (tmp_path / "over").glob("*.mcap")
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"not an MCAP file at all")
    stops = {"/rig/driver/stop": {"type": "std_msgs/msg/Bool", "count": 2}}
    for expected, files, options, reason in [
        (stops, [mcap], [], None),
        (stops, [mcap], ["--counts-only"], None),
        ({"/rig/driver/stop": {"type": "std_msgs/msg/Bool", "count": 3}}, [mcap], [], "2 messages, expected 3"),
        ({"/rig/driver/stop": {"type": "std_msgs/msg/Empty", "count": 2}}, [mcap], [], "expected std_msgs/msg/Empty"),
        ({}, [mcap], [], "/rig/driver/stop: not expected"),
        ({"/rig/driver/stop": {"type": "std_msgs/msg/Bool", "count": 1}}, [too_long], [], "does not account for"),
        ({}, [junk], [], "not a readable MCAP file"),
    ]:
        result = subprocess.run([*command, "--expect", json.dumps(expected), *options, *map(str, files)],
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        if reason is None:
            assert result.returncode == 0, result.stderr
            out = json.loads(result.stdout)
            assert out["counts"] == {"/rig/driver/stop": 2}
            decoded = [msg["data"] for msg in out["messages"].get("/rig/driver/stop", [])]
            assert decoded == ([] if options else [True, False])
        else:
            assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
            assert result.stderr.startswith("check_bag: error: ") and reason in result.stderr, result.stderr
