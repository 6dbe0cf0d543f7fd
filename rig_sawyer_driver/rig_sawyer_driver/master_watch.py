"""Keep a rospy node's topics registered across a rosmaster restart.

rospy registers its publishers and subscribers with the master once. A restarted master (a new process on the same
URI) knows none of them: new subscribers never find this node's publishers, and this node never hears of new
publishers. Connections made before the restart carry on, which hides the problem until a peer restarts too.

`MasterWatch` polls the master's pid (``getPid``, every ``period_s``) on a daemon thread. When it changes, it asks
the node's own XML-RPC server (ROS slave API ``getPublications``/``getSubscriptions``) what it has, registers
each topic with the new master (``registerPublisher``/``registerSubscriber``) and passes the publishers the master
returns to the node (``publisherUpdate``), exactly what the master does for a new publisher. The rospy Publisher
objects are kept, so a latched publisher hands its last message to every new subscriber, as before.

Usage (after ``rospy.init_node``)::

    watch = MasterWatch()
    watch.start()
"""

from __future__ import annotations

import xmlrpc.client
from http.client import HTTPConnection
from typing import Any

from rig_sawyer_driver.background import BackgroundLoop
from rig_sawyer_driver.ros1 import rosgraph, rospy

PERIOD_S = 0.5
CALL_TIMEOUT_S = 2.0
"""Limit of one XML-RPC call: an unreachable master host must not hang the watch."""


class _TimeoutTransport(xmlrpc.client.Transport):
    def make_connection(self, host: Any) -> HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = CALL_TIMEOUT_S
        return connection


class MasterWatch(BackgroundLoop):
    """Re-registers this node's publishers and subscribers whenever the master at ROS_MASTER_URI is a new process."""

    def __init__(self, period_s: float = PERIOD_S) -> None:
        super().__init__("master_watch")
        self.period_s = period_s
        self._caller_id = rospy.get_caller_id()
        self._master = xmlrpc.client.ServerProxy(rosgraph.get_master_uri(), transport=_TimeoutTransport())
        self._node = xmlrpc.client.ServerProxy(rospy.get_node_uri(), transport=_TimeoutTransport())

    def _run(self) -> None:
        known = self._master_pid()
        while not self._stopped.wait(self.period_s) and not rospy.is_shutdown():
            pid = self._master_pid()
            if pid is None or pid == known:
                continue
            try:
                if known is not None:  # None: the master was down when we started; rospy registers by itself
                    self._register_all()
                    rospy.loginfo("ROS master restarted (pid %d); topics registered with it again", pid)
                known = pid
            except (OSError, xmlrpc.client.Error, RuntimeError) as error:  # gone again: retried on the next poll
                rospy.logwarn("ROS master restarted but registering with it failed (%s); retrying", error)

    def _master_pid(self) -> int | None:
        try:
            return int(_value(self._master.getPid(self._caller_id)))
        except (OSError, xmlrpc.client.Error, RuntimeError):
            return None

    def _register_all(self) -> None:
        node_uri = rospy.get_node_uri()
        for topic, type_name in _value(self._node.getPublications(self._caller_id)):
            _value(self._master.registerPublisher(self._caller_id, topic, type_name, node_uri))
        for topic, type_name in _value(self._node.getSubscriptions(self._caller_id)):
            publishers = _value(self._master.registerSubscriber(self._caller_id, topic, type_name, node_uri))
            _value(self._node.publisherUpdate("/master", topic, publishers))


def _value(response: list[Any]) -> Any:
    """The value of a ROS XML-RPC ``[code, status, value]`` response; RuntimeError unless code is 1 (success)."""
    code, status, value = response
    if code != 1:
        raise RuntimeError(status)
    return value
