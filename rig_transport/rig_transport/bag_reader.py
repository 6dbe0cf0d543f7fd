"""The messages of one topic of a rosbag2 bag (MCAP or sqlite3 storage, split or not), decoded.

rosbags' rosbag2 Reader reads the bag (metadata.yaml, every file it lists) and its typestore, the one the DDS
types are built from (`dds_types.load_typestore`: ROS 2 Jazzy standard types + rig_msgs), decodes the CDR. Decoded
messages are read by attribute like received ones; sequences are numpy arrays. Anything unreadable (no bag, a
truncated or non-MCAP file, a message that does not decode) is one BagError naming the bag.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rosbags.rosbag2 import Reader
from rosbags.rosbag2.errors import ReaderError
from rosbags.serde import SerdeError

from rig_transport.dds_types import load_typestore

_UNREADABLE = (ReaderError, SerdeError, OSError, ValueError, KeyError, IndexError, struct.error)
"""What rosbags raises on a damaged bag: its own errors, and the low-level ones of a record cut short."""


class BagError(ValueError):
    """A bag that cannot be read, or holds no messages of the topic asked for."""


def read_messages(path: Path, topic: str, type_name: str) -> Iterator[Any]:
    """Every ``type_name`` message on ``topic`` in ``path`` (a bag directory), in time order."""
    if not (path / "metadata.yaml").is_file():
        raise BagError(f"{path} is not a rosbag2 bag (no metadata.yaml in it)")
    typestore = load_typestore()
    try:
        with Reader(path) as reader:
            connections = [c for c in reader.connections if c.topic == topic]
            if not connections:
                topics = ", ".join(sorted({c.topic for c in reader.connections})) or "none"
                raise BagError(f"{path} holds no {topic} messages (its topics: {topics})")
            for connection in connections:
                if connection.msgtype != type_name:
                    raise BagError(f"{path}: {topic} holds {connection.msgtype}, not {type_name}")
            for connection, _timestamp, data in reader.messages(connections=connections):
                yield typestore.deserialize_cdr(data, connection.msgtype)
    except BagError:
        raise
    except _UNREADABLE as error:
        raise BagError(f"{path} is not a readable rosbag2 recording: {error or type(error).__name__}") from None
