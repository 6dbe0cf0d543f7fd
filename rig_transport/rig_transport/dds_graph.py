"""The ROS 2 graph information of a DDS-backend node: ``ros_discovery_info``, as rmw implementations share it.

ROS 2 tools (``ros2 node list``, ``ros2 node info``, rqt_graph) learn which node owns which DDS reader and writer
from ``rmw_dds_common/msg/ParticipantEntitiesInfo`` samples on the DDS topic ``ros_discovery_info`` (no ``rt/``
prefix): the participant's gid and, for each of its nodes, the namespace, the name and the gids of the node's
readers and writers. rmw_cyclonedds_cpp's gid is the entity's 16-byte DDS GUID, the key the DCPSPublication and
DCPSSubscription builtin topics report with each endpoint's topic and type, which is how the tools resolve the
listed gids. The writer's QoS is rmw_cyclonedds_cpp's for this topic: reliable, transient local, keep last 1; the
participant republishes the whole sample whenever one of its endpoints is added. rmw also puts ``enclave=<name>;``
in the participant's USER_DATA (rmw_node.cpp, ``rmw_context_impl_s::init``); `participant_qos` does the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.topic import Topic

from rig_transport.dds_types import MessageTypes
from rig_transport.interface import QoSProfile

DISCOVERY_TOPIC = "ros_discovery_info"
DISCOVERY_TYPE = "rmw_dds_common/msg/ParticipantEntitiesInfo"
DISCOVERY_QOS = QoSProfile(depth=1, reliable=True, transient_local=True)
ROOT_NAMESPACE = "/"
def participant_qos(enclave: str) -> Qos:
    """The DomainParticipant QoS rmw_cyclonedds_cpp creates: the enclave in USER_DATA."""
    return Qos(Policy.Userdata(f"enclave={enclave};".encode()))


class GraphAnnouncer:
    """Publishes one node's ParticipantEntitiesInfo on ``ros_discovery_info``; thread-safe.

    ``writer_qos`` is the DDS QoS for `DISCOVERY_QOS` (the backend's mapping, with the type hash).
    """

    def __init__(
        self,
        participant: DomainParticipant,
        types: MessageTypes,
        writer_qos: Qos,
        node_name: str,
        node_namespace: str = ROOT_NAMESPACE,
    ) -> None:
        self._new: Callable[..., Any] = types.new
        topic = Topic(participant, DISCOVERY_TOPIC, types.idl_class(DISCOVERY_TYPE))
        self._writer = DataWriter(participant, topic, writer_qos)
        self._participant_gid = participant.guid
        self._node_name, self._node_namespace = node_name, node_namespace
        self._readers: list[UUID] = []
        self._writers: list[UUID] = []
        self._lock = threading.Lock()
        with self._lock:
            self._publish()

    def add_reader(self, guid: UUID) -> None:
        """List a DataReader (by its GUID) as one of the node's subscriptions and republish."""
        with self._lock:
            self._readers.append(guid)
            self._publish()

    def add_writer(self, guid: UUID) -> None:
        """List a DataWriter (by its GUID) as one of the node's publishers and republish."""
        with self._lock:
            self._writers.append(guid)
            self._publish()

    def message(self) -> Any:
        """The ParticipantEntitiesInfo this node announces now."""
        node = self._new(
            "rmw_dds_common/msg/NodeEntitiesInfo",
            node_namespace=self._node_namespace,
            node_name=self._node_name,
            reader_gid_seq=[self._gid(guid) for guid in self._readers],
            writer_gid_seq=[self._gid(guid) for guid in self._writers],
        )
        return self._new(DISCOVERY_TYPE, gid=self._gid(self._participant_gid), node_entities_info_seq=[node])

    def _gid(self, guid: UUID) -> Any:
        # Jazzy's Gid is char[16]: the GUID's 16 bytes (prefix, then entity id), as rmw_cyclonedds copies dds_guid_t.
        return self._new("rmw_dds_common/msg/Gid", data=guid.bytes)

    def _publish(self) -> None:
        self._writer.write(self.message())
