"""The probe's record of a message (what the multi-host tests read) and its command line."""

from __future__ import annotations

import pytest

pytest.importorskip("cyclonedds", reason="the DDS backend's cyclonedds is not installed (pip install ./rig_transport)")
from rig_transport import REPLAY  # noqa: E402
from rig_transport.dds_types import default_types  # noqa: E402
from rig_transport.probe import flatten, parse_subscription  # noqa: E402


def test_a_record_holds_scalars_and_short_arrays_not_images():
    types = default_types()
    image = types.new("sensor_msgs/msg/Image", height=2, width=2, encoding="rgb8", step=6, data=bytes(12))
    msg = types.new("rig_msgs/msg/Transition", robot_id="r", episode_id=3, step=7, observation=image,
                    action=[0.25, -1.0], episode_end=True)  # fmt: skip
    record = flatten(msg)
    assert (record["robot_id"], record["episode_id"], record["step"], record["episode_end"]) == ("r", 3, 7, True)
    assert record["action"] == [0.25, -1.0] and record["observation.encoding"] == "rgb8"
    assert "observation.data" not in record and "header.stamp.sec" in record


def test_a_subscription_names_topic_type_and_qos():
    assert parse_subscription("/rig/replay/transitions=rig_msgs/msg/Transition:replay") == (
        "/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)  # fmt: skip
    for bad in ("rig/x=std_msgs/msg/Bool:status", "/rig/x=std_msgs/msg/Bool", "/rig/x=std_msgs/msg/Bool:fast"):
        with pytest.raises(ValueError, match="TOPIC=TYPE:QOS"):
            parse_subscription(bad)
