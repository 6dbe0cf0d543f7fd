"""A rosbag2 bag (MCAP storage) that starts a new file past a size or a duration, as ``ros2 bag record`` splits.

Each file is written by rosbags' rosbag2 Writer (MCAP storage, ROS 2 message definitions embedded as ``ros2msg``
schemas, rosbag2 ``metadata.yaml``), which writes one file per bag and does not split: every file is written as a
bag of its own in a staging folder inside the bag, then moved up beside the others, and the bag's own
``metadata.yaml`` (rosbag2 version 9, every file listed, counts summed) is written from the files' metadata when
the bag closes. A bag that was never closed (the recorder killed) keeps its finished files; the last one lacks
its MCAP footer and the bag its metadata.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from rosbags.interfaces import Connection, Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys.store import Typestore

from rig_launch.topics import TopicSpec
from rig_transport import QoSProfile

METADATA = "metadata.yaml"
_NO_TIME = QosTime(0, 0)  # rosbag2's "default" deadline, lifespan and lease (infinite)


def rosbag2_qos(qos: QoSProfile) -> Qos:
    """The offered QoS profile rosbag2 stores (and ``ros2 bag play`` offers again) for one of the project's."""
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=qos.depth,
        reliability=QosReliability.RELIABLE if qos.reliable else QosReliability.BEST_EFFORT,
        durability=QosDurability.TRANSIENT_LOCAL if qos.transient_local else QosDurability.VOLATILE,
        deadline=_NO_TIME,
        lifespan=_NO_TIME,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_NO_TIME,
        avoid_ros_namespace_conventions=False,
    )


class SplitBagWriter:
    """Serialized messages in, a rosbag2 MCAP bag directory out (``open`` / ``write`` / ``close``)."""

    def __init__(self, path: Path, topics: list[TopicSpec], typestore: Typestore,
                 max_bytes: int = 0, max_duration_ns: int = 0) -> None:  # fmt: skip
        """``max_bytes`` / ``max_duration_ns``: start a new file when the current one holds that many message bytes
        or spans that long (0: no limit)."""
        if path.exists():
            raise FileExistsError(f"{path} exists already; a recording goes into a new directory")
        self.path, self.topics, self.typestore = path, topics, typestore
        self.max_bytes, self.max_duration_ns = max_bytes, max_duration_ns
        self.files: list[str] = []
        self._writer: Writer | None = None
        self._connections: dict[str, Connection] = {}
        self._file_bytes = 0
        self._file_start_ns = 0

    def open(self) -> None:
        self.path.mkdir(parents=True)
        self._start_file()

    def write(self, topic: str, timestamp_ns: int, data: bytes) -> None:
        """Append one serialized (CDR) message of a topic given at construction; may start a new file first."""
        assert self._writer is not None, "write() before open() or after close()"
        full = (self.max_bytes and self._file_bytes >= self.max_bytes) or (
            self.max_duration_ns and timestamp_ns - self._file_start_ns >= self.max_duration_ns)  # fmt: skip
        if full and self._file_bytes:  # a file holds one message at least
            self._finish_file()
            self._start_file()
        if not self._file_bytes:
            self._file_start_ns = timestamp_ns
        self._writer.write(self._connections[topic], timestamp_ns, data)
        self._file_bytes += len(data)

    def close(self) -> None:
        """Finish the current file and write the bag's metadata.yaml."""
        if self._writer is None:
            return
        self._finish_file()
        parts = [yaml.safe_load((self._staging(name) / METADATA).read_text())["rosbag2_bagfile_information"]
                 for name in self.files]  # fmt: skip
        (self.path / METADATA).write_text(yaml.safe_dump({"rosbag2_bagfile_information": merge_metadata(parts)}))
        for name in self.files:
            shutil.rmtree(self._staging(name))

    def _staging(self, name: str) -> Path:
        return self.path / Path(name).stem

    def _start_file(self) -> None:
        name = f"{self.path.name}_{len(self.files)}.mcap"
        self._writer = Writer(self._staging(name), version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections = {
            topic.name: self._writer.add_connection(topic.name, topic.type_name, typestore=self.typestore,
                                                    offered_qos_profiles=[rosbag2_qos(topic.qos)])  # fmt: skip
            for topic in self.topics
        }
        self.files.append(name)
        self._file_bytes = 0

    def _finish_file(self) -> None:
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        name = self.files[-1]
        (self._staging(name) / name).rename(self.path / name)


ROS_DISTRO = "jazzy"
"""What the bag's metadata names as its distro (rosbags writes its own name): the messages' definitions and type
hashes are ROS 2 Jazzy's (rig_transport.dds_types)."""


def merge_metadata(parts: list[dict]) -> dict:
    """One bag's rosbag2 metadata from the metadata rosbags wrote for each of its files (in order)."""
    files = [part["files"][0] | {"path": part["relative_file_paths"][0]} for part in parts]
    counted = [part for part in parts if part["message_count"]]  # an empty file's starting time is meaningless
    start = min((part["starting_time"]["nanoseconds_since_epoch"] for part in counted), default=0)
    end = max((part["starting_time"]["nanoseconds_since_epoch"] + part["duration"]["nanoseconds"] for part in counted),
              default=0)  # fmt: skip
    topics = parts[0]["topics_with_message_count"]
    for index, topic in enumerate(topics):
        topic["message_count"] = sum(part["topics_with_message_count"][index]["message_count"] for part in parts)
    return parts[0] | {
        "ros_distro": ROS_DISTRO,
        "relative_file_paths": [file["path"] for file in files],
        "starting_time": {"nanoseconds_since_epoch": start},
        "duration": {"nanoseconds": end - start},
        "message_count": sum(part["message_count"] for part in parts),
        "topics_with_message_count": topics,
        "files": files,
    }
