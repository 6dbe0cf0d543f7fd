"""A rosmaster killed and restarted on the same port: nodes with a MasterWatch register with the new one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_sawyer_driver.testing import Ros1Peer, RosMaster

STRING = "std_msgs/String"


def test_publishers_and_subscribers_are_registered_with_a_restarted_master(
    ros1_env: RosMaster, ros1_peer: Callable[..., Ros1Peer]
) -> None:
    talker = ros1_peer("talker")
    listener = ros1_peer("listener", {"/chatter": STRING})
    talker.publish("/greeting", STRING, {"data": "hello"}, latch=True)
    talker.stream("/chatter", STRING, {"data": "before"}, rate_hz=20.0)
    listener.listeners["/chatter"].wait_for(lambda msg: msg["data"] == "before", "chatter before the restart", talker)

    ros1_env.kill()
    ros1_env.start()

    # A node that only knows the new master finds the talker's publishers, and gets the latched message.
    late = ros1_peer("late", {"/greeting": STRING, "/chatter": STRING})
    late.listeners["/greeting"].wait_for(lambda msg: msg["data"] == "hello", "the latched greeting", talker)
    late.listeners["/chatter"].wait_for(lambda msg: msg["data"] == "before", "chatter from the first talker", talker)

    # A publisher that only knows the new master is found by the listener subscribed before the restart.
    talker.kill()
    successor = ros1_peer("successor")
    successor.stream("/chatter", STRING, {"data": "after"}, rate_hz=20.0)
    listener.listeners["/chatter"].wait_for(lambda msg: msg["data"] == "after", "chatter from the successor", successor)
