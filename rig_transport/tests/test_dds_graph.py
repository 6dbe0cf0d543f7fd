"""ROS 2 graph introspection over DDS: what a DDS-backend node announces on ``ros_discovery_info``.

A plain Cyclone DDS participant in the test reads the announcements as raw CDR, and the DDS builtin topics
(DCPSPublication / DCPSSubscription) for the GUIDs of the node's endpoints, as rmw_cyclonedds_cpp does. The bytes
are checked against rosbags' serializer for rmw_dds_common/msg/ParticipantEntitiesInfo, and a node process's
announcement is read with the decoder below. Waits have generous timeouts; nothing asserts how long anything took.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import numpy as np
import pytest
from cyclonedds._clayer import ddspy_take
from cyclonedds.builtin import (
    BuiltinDataReader,
    BuiltinTopicDcpsParticipant,
    BuiltinTopicDcpsPublication,
    BuiltinTopicDcpsSubscription,
)
from cyclonedds.core import InstanceState, Policy, Qos, SampleState, ViewState
from cyclonedds.domain import DomainParticipant
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

try:
    from cyclonedds.builtin_types import DcpsEndpoint, DcpsParticipant
except ImportError:  # cyclonedds 0.10, the keyed binding (rig_transport.security), has them in cyclonedds.builtin
    from cyclonedds.builtin import DcpsEndpoint, DcpsParticipant
from peer import TIMEOUT_S
from rosbags.typesys import Stores, get_typestore

from rig_transport import LATCHED, STATUS
from rig_transport.dds_backend import domain_id
from rig_transport.dds_graph import DISCOVERY_TOPIC, DISCOVERY_TYPE
from rig_transport.dds_types import default_types

_ANY_SAMPLE = SampleState.Any | ViewState.Any | InstanceState.Any


def _take_serialized(reader_ref: int, n: int) -> list:
    """Up to ``n`` samples of any state, as (serialized bytes, sample info)."""
    try:
        return ddspy_take(reader_ref, _ANY_SAMPLE, n)
    except TypeError:  # cyclonedds 0.10's takes any sample, without a state mask
        return ddspy_take(reader_ref, n)


@dataclass
class NodeInfo:
    namespace: str
    name: str
    reader_gids: list[bytes]
    writer_gids: list[bytes]


def decode_participant_entities_info(data: bytes) -> tuple[bytes, list[NodeInfo]]:
    """ParticipantEntitiesInfo from classic little-endian CDR (Jazzy: Gid is char[16]): participant gid, nodes."""
    assert data[:2] == b"\x00\x01", f"not CDR_LE: header {data[:4].hex()}"
    body = data[4:]
    offset = 0

    def take(size: int, align: int = 1) -> bytes:
        nonlocal offset
        offset += -offset % align
        chunk = body[offset : offset + size]
        assert len(chunk) == size, "truncated ParticipantEntitiesInfo"
        offset += size
        return chunk

    def count() -> int:
        return struct.unpack("<I", take(4, 4))[0]

    def text() -> str:
        raw = take(count())
        assert raw.endswith(b"\x00"), "CDR string without its terminating NUL"
        return raw[:-1].decode()

    participant_gid = take(16)
    nodes = []
    for _ in range(count()):
        namespace, name = text(), text()
        readers = [take(16) for _ in range(count())]
        writers = [take(16) for _ in range(count())]
        nodes.append(NodeInfo(namespace, name, readers, writers))
    assert offset == len(body), f"{len(body) - offset} bytes after the ParticipantEntitiesInfo"
    return participant_gid, nodes


class GraphObserver:
    """A plain Cyclone DDS participant reading ``ros_discovery_info`` (raw CDR) and the builtin topics."""

    def __init__(self) -> None:
        self.participant = DomainParticipant(domain_id())
        topic = Topic(self.participant, DISCOVERY_TOPIC, default_types().idl_class(DISCOVERY_TYPE))
        # rmw_cyclonedds_cpp's reader QoS for this topic: reliable, transient local, keep all.
        qos = Qos(Policy.Reliability.Reliable(duration(seconds=1)), Policy.Durability.TransientLocal,
                  Policy.History.KeepAll)  # fmt: skip
        self._discovery = DataReader(self.participant, topic, qos)
        self._builtin = {
            "participant": BuiltinDataReader(self.participant, BuiltinTopicDcpsParticipant),
            "writer": BuiltinDataReader(self.participant, BuiltinTopicDcpsPublication),
            "reader": BuiltinDataReader(self.participant, BuiltinTopicDcpsSubscription),
        }
        self.announcements: dict[bytes, bytes] = {}
        """Participant gid -> its latest ParticipantEntitiesInfo, raw CDR as it came over the wire."""
        self.participants: dict[UUID, DcpsParticipant] = {}
        self.endpoints: dict[str, dict[UUID, DcpsEndpoint]] = {"writer": {}, "reader": {}}

    def poll(self) -> None:
        # cyclonedds-python has no public take of the serialized sample: DataReader.take deserializes what this
        # C-layer call returns; the test needs the bytes as the writer put them on the wire.
        for data, info in _take_serialized(self._discovery._ref, 64):
            if info.valid_data:
                self.announcements[bytes(data[4:20])] = bytes(data)
        for sample in self._builtin["participant"].take(N=64):
            if isinstance(sample, DcpsParticipant):
                self.participants[sample.key] = sample
        for kind in ("writer", "reader"):
            for sample in self._builtin[kind].take(N=64):
                if isinstance(sample, DcpsEndpoint):
                    self.endpoints[kind][sample.key] = sample

    def endpoint(self, kind: str, topic_name: str) -> DcpsEndpoint | None:
        """The discovered writer or reader on DDS topic ``topic_name`` (one expected)."""
        found = [e for e in self.endpoints[kind].values() if e.topic_name == topic_name]
        assert len(found) <= 1, f"{len(found)} {kind}s on {topic_name}"
        return found[0] if found else None

    def guids_of(self, kind: str, participant: UUID) -> set[bytes]:
        """GUIDs of the participant's ROS endpoints (the DCPS* topics list ros_discovery_info's writer too)."""
        return {
            key.bytes
            for key, endpoint in self.endpoints[kind].items()
            if endpoint.participant_key == participant and endpoint.topic_name != DISCOVERY_TOPIC
        }

    def wait_until(self, condition: Callable[[], bool], what: str, on_fail: Callable[[], str] = str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            self.poll()
            if condition():
                return
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {TIMEOUT_S} s {on_fail()}")
            time.sleep(0.05)


@pytest.fixture
def observer():
    return GraphObserver()


def test_announcement_is_the_cdr_rosbags_writes_with_the_endpoint_guids(make_node, prefix, observer):
    node = make_node("graph_node", ["--ros-args", "-r", "__node:=renamed_node"])
    topics = {"out": f"rt/rig{prefix}/out", "weights": f"rt/rig{prefix}/weights", "in": f"rt/rig{prefix}/in"}
    node.transport.create_publisher(f"/rig{prefix}/out", "std_msgs/msg/String", STATUS)
    node.transport.create_publisher(f"/rig{prefix}/weights", "rig_msgs/msg/ModelWeights", LATCHED)
    node.transport.create_subscription(f"/rig{prefix}/in", "std_msgs/msg/String", STATUS, lambda msg: None)

    def discovered() -> bool:
        found = [observer.endpoint("writer", topics["out"]), observer.endpoint("writer", topics["weights"]),
                 observer.endpoint("reader", topics["in"])]  # fmt: skip
        return None not in found and found[0].participant_key.bytes in observer.announcements

    observer.wait_until(discovered, "endpoints and announcement of the node")
    out, weights = observer.endpoint("writer", topics["out"]), observer.endpoint("writer", topics["weights"])
    subscription = observer.endpoint("reader", topics["in"])
    participant = out.participant_key

    store = get_typestore(Stores.ROS2_JAZZY)
    gid_cls = store.types["rmw_dds_common/msg/Gid"]
    node_cls = store.types["rmw_dds_common/msg/NodeEntitiesInfo"]

    def gid(guid: UUID):
        return gid_cls(data=np.frombuffer(guid.bytes, np.uint8))

    expected = store.types[DISCOVERY_TYPE](
        gid=gid(participant),
        node_entities_info_seq=[node_cls(node_namespace="/", node_name="renamed_node",
                                         reader_gid_seq=[gid(subscription.key)],
                                         writer_gid_seq=[gid(out.key), gid(weights.key)])],
    )  # fmt: skip
    assert observer.announcements[participant.bytes] == bytes(store.serialize_cdr(expected, DISCOVERY_TYPE))
    assert weights.participant_key == subscription.participant_key == participant
    observer.wait_until(lambda: participant in observer.participants, "DCPSParticipant sample of the node")
    # the node's enclave (rig_transport.security: /<node name> unless --enclave or ROS_SECURITY_ENCLAVE_OVERRIDE)
    assert observer.participants[participant].qos[Policy.Userdata].data == b"enclave=/renamed_node;"


def test_node_process_lists_the_guids_its_endpoints_have_in_the_builtin_topics(start_peer, prefix, observer):
    peer = start_peer("graph", f"/rig{prefix}")
    peer.wait_for_line(lambda line: line == "ready")
    out_topic, in_topic = f"rt/rig{prefix}/out", f"rt/rig{prefix}/in"
    writer, reader = None, None

    def announced() -> bool:
        nonlocal writer, reader
        writer, reader = observer.endpoint("writer", out_topic), observer.endpoint("reader", in_topic)
        if writer is None or reader is None or writer.participant_key.bytes not in observer.announcements:
            return False
        _, nodes = decode_participant_entities_info(observer.announcements[writer.participant_key.bytes])
        return len(nodes) == 1 and len(nodes[0].reader_gids) == 1 and len(nodes[0].writer_gids) == 1

    observer.wait_until(announced, "complete announcement of peer_graph", lambda: repr(observer.announcements))
    participant = writer.participant_key
    gid, nodes = decode_participant_entities_info(observer.announcements[participant.bytes])
    assert gid == participant.bytes
    assert (nodes[0].namespace, nodes[0].name) == ("/", "peer_graph")
    assert set(nodes[0].writer_gids) == observer.guids_of("writer", participant) == {writer.key.bytes}
    assert set(nodes[0].reader_gids) == observer.guids_of("reader", participant) == {reader.key.bytes}
    assert (writer.type_name, reader.type_name) == ("std_msgs::msg::dds_::String_",) * 2
    assert peer.stop() == 0
