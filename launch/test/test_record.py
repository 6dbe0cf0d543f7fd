"""`rig record` as a process over real DDS: the bag it writes, read back with an independent reader (the `mcap`
package with `mcap-ros2-support`'s decoder, which decodes from the schemas the bag embeds), holds every message that
was sent, byte for byte, split into files that metadata.yaml lists with the right counts; bad arguments and bad
recordings are one error line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from recorded_bag import RIG, assert_decoded_as_sent, record_known_messages

from rig_launch.bag_writer import SplitBagWriter
from rig_launch.record import selected_topics, serialize
from rig_launch.topics import TOPICS, ros2_bag_record_command
from rig_transport.dds_types import default_types


def read_back(bag, files: list[str]) -> dict[str, list]:
    """Every message of the files, decoded by mcap_ros2 from the embedded schemas, per topic, in file order."""
    messages: dict[str, list] = {}
    for name in files:
        with (bag / name).open("rb") as stream:
            reader = make_reader(stream, decoder_factories=[DecoderFactory()])
            for schema, channel, _message, decoded in reader.iter_decoded_messages(log_time_order=True):
                assert schema.encoding == "ros2msg" and channel.message_encoding == "cdr"
                messages.setdefault(channel.topic, []).append(decoded)
    return messages


def test_rig_record_writes_a_split_rosbag2_mcap_bag_that_reads_back_exactly(test_node, start_node, tmp_path):
    bag = tmp_path / "lab1"
    recording = record_known_messages(test_node, start_node, bag)
    info = recording.info
    assert info["version"] == 9 and info["storage_identifier"] == "mcap" and info["ros_distro"] == "jazzy"
    files = info["relative_file_paths"]
    assert len(files) >= 3 and files == [f"lab1_{index}.mcap" for index in range(len(files))]
    assert sorted(path.name for path in bag.iterdir()) == sorted([*files, "metadata.yaml"])  # no staging left over
    assert [file["path"] for file in info["files"]] == files
    counts = recording.counts
    assert set(counts) == set(TOPICS) - {"/rig/weights"}
    back = read_back(bag, files)
    assert {topic: len(messages) for topic, messages in back.items()} == {t: n for t, n in counts.items() if n}
    assert info["message_count"] == sum(counts.values()) == sum(file["message_count"] for file in info["files"])
    qos = {topic["topic_metadata"]["name"]: topic["topic_metadata"]["offered_qos_profiles"][0]
           for topic in info["topics_with_message_count"]}  # fmt: skip
    assert (qos["/rig/goal_image"]["reliability"], qos["/rig/goal_image"]["durability"]) == ("reliable", "transient_local")
    assert qos["/rig/camera/image_raw"]["reliability"] == "best_effort" and qos["/rig/replay/transitions"]["depth"] == 1000
    assert_decoded_as_sent(back, recording)


def readme_topics_table() -> dict[str, str]:
    """Topic -> type of the README's "ROS 2 topics (the contract)" table (a row may name several topics)."""
    text = (Path(__file__).parents[2] / "README.md").read_text()
    table = text.split("## ROS 2 topics (the contract)", 1)[1].split("\n## ", 1)[0]
    topics: dict[str, str] = {}
    for row in table.splitlines():
        if row.startswith("| /rig/"):
            names, types = (cell.strip() for cell in row.split("|")[1:3])
            names = [name.strip() for name in names.split(",")]
            type_names = re.findall(r"\w+/[A-Z]\w*", types)[: len(names)]  # one type may serve every name
            topics |= dict(zip(names, type_names * len(names) if len(type_names) == 1 else type_names, strict=True))
    return topics


def test_what_is_recorded_is_the_readme_topics_table():
    """`rig record` and record:=true record TOPICS: every topic of the contract (/rig/replay/ack was left out once)."""
    table = readme_topics_table()
    assert len(table) >= 20 and table["/rig/replay/ack"] == "rig_msgs/ReplayAck"
    assert {name: spec.type_name.replace("/msg/", "/") for name, spec in TOPICS.items()} == table


def test_topic_selection():
    assert [topic.name for topic in selected_topics(["/rig/weights", "/rig/episode"], [])] == ["/rig/weights", "/rig/episode"]
    assert len(selected_topics(None, ["/rig/weights"])) == len(TOPICS) - 1
    for only, exclude, message in [(["/rig/nope"], [], "unknown topic /rig/nope"),
                                   (["/rig/weights"], ["/rig/weights"], "leaves no topic")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            selected_topics(only, exclude)


def test_rig_record_refuses_bad_arguments_in_one_line(tmp_path):
    (tmp_path / "taken").mkdir()
    for args, reason in [(["--out", str(tmp_path / "a"), "--topics", "/rig/nope"], "unknown topic /rig/nope"),
                         (["--out", str(tmp_path / "taken")], "exists already"),
                         (["--out", str(tmp_path / "b"), "--max-bag-size", "-5"], "must be >= 0")]:  # fmt: skip
        result = subprocess.run([RIG, "record", *args], capture_output=True, text=True, timeout=120)
        assert result.returncode in (1, 2) and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("rig record: error: ") and reason in result.stderr, result.stderr


def test_rig_up_and_the_launch_files_record_every_rig_topic(tmp_path):
    bag = tmp_path / "bag"
    result = subprocess.run([RIG, "up", "sim", "--record", str(bag), "--dry-run"], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith(f"-m rig_launch.record --out {bag}")
    bag.mkdir()
    result = subprocess.run([RIG, "up", "sim", "--record", str(bag), "--dry-run"], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 1 and "exists already" in result.stderr and result.stderr.count("\n") == 1
    assert ros2_bag_record_command("bags/x") == ["ros2", "bag", "record", "-s", "mcap", "-o", "bags/x", *TOPICS]
    assert ros2_bag_record_command("") == ["ros2", "bag", "record", "-s", "mcap", *TOPICS]  # rosbag2 names the bag


def test_a_duration_split_starts_a_file_per_period_and_lists_every_file(tmp_path):
    types = default_types()
    bag = tmp_path / "timed"
    writer = SplitBagWriter(bag, [TOPICS["/rig/driver/stop"]], types.typestore, max_duration_ns=1_000_000_000)
    writer.open()
    stamps = [0.0, 0.4, 0.99, 1.0, 1.5, 3.2]  # seconds from the first: files [0, 1), [1, 2), [3.2, ...)
    for index, stamp in enumerate(stamps):
        msg = types.new("std_msgs/msg/Bool", data=index % 2 == 0)
        writer.write("/rig/driver/stop", 10**18 + int(stamp * 1e9), serialize(msg))
    writer.close()
    info = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert info["relative_file_paths"] == ["timed_0.mcap", "timed_1.mcap", "timed_2.mcap"]
    assert [file["message_count"] for file in info["files"]] == [3, 2, 1]
    assert info["starting_time"]["nanoseconds_since_epoch"] == 10**18 and info["duration"]["nanoseconds"] == 3_200_000_000
    back = read_back(bag, info["relative_file_paths"])["/rig/driver/stop"]
    assert [msg.data for msg in back] == [index % 2 == 0 for index in range(len(stamps))]
