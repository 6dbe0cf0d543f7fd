"""The Foxglove layout (launch/foxglove/rig_layout.json): a well-formed layout whose every topic is one the sim
graph's nodes publish, with that type, and one of the contract (rig_launch.topics), and whose every plotted field
exists in the message definition."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cyclonedds", reason="the DDS backend's cyclonedds is not installed (pip install ./rig_transport)")

from rig_drivers.sim_sawyer_node import SimSawyerNode  # noqa: E402
from rig_drivers.sim_thread import SimThread  # noqa: E402
from rig_policy_node.node import PolicyNode  # noqa: E402
from rig_trainer_node.node import TrainerNode  # noqa: E402

from rig_launch.topics import TOPICS  # noqa: E402
from rig_transport.dds_backend import DDSTransport  # noqa: E402
from rig_transport.dds_types import default_types  # noqa: E402
from rig_transport.interface import QoSProfile  # noqa: E402

LAYOUT = Path(__file__).parents[1] / "foxglove" / "rig_layout.json"


class RecordingTransport(DDSTransport):
    """The DDS transport, noting the topics and types of the publishers a node creates."""

    def __init__(self, node_name: str, argv: list[str]) -> None:
        super().__init__(node_name, argv)
        self.published: dict[str, str] = {}

    def create_publisher(self, topic: str, type_name: str, qos: QoSProfile) -> Any:
        self.published[topic] = type_name
        return super().create_publisher(topic, type_name, qos)


@pytest.fixture
def sim_graph_publishers(isolated_dds: int, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Topic -> type of everything the sim graph's nodes (driver, policy, trainer) publish, from the nodes themselves
    (in this process, in the test's own ROS domain)."""
    out, spool = tmp_path / "trainer", tmp_path / "spool"  # not the working directory's runs/
    transports = [RecordingTransport(name, argv=["node", "--ros-args", *args]) for name, args in
                  [("sim_sawyer_node", []), ("policy_node", ["-p", f"spool_dir:={spool}"]),
                   ("trainer_node", ["-p", f"out_dir:={out}"])]]  # fmt: skip
    sim_thread = SimThread()
    driver = SimSawyerNode(transports[0], sim_thread)
    PolicyNode(transports[1])
    trainer = TrainerNode(transports[2])
    try:
        yield {topic: type_name for transport in transports for topic, type_name in transport.published.items()}
    finally:
        trainer.trainer.stop()
        for transport in transports:
            transport.shutdown()
        sim_thread.call(driver.driver.close)
        sim_thread.close()


def panels(node: Any) -> Iterator[str]:
    """The panel ids of a layout tree (a panel id, or a split with first/second)."""
    if isinstance(node, str):
        yield node
    else:
        assert node["direction"] in ("row", "column") and 0 < node.get("splitPercentage", 50) < 100
        yield from panels(node["first"])
        yield from panels(node["second"])


def field_value(type_name: str, path: list[str]) -> Any:
    """The default value of a field path of a message type (AttributeError for a field it lacks)."""
    msg = default_types().new(type_name)
    for name in path:
        msg = getattr(msg, name)
    return msg


def test_the_layout_is_well_formed_and_names_what_the_graph_publishes(sim_graph_publishers):
    layout = json.loads(LAYOUT.read_text())
    assert set(layout) >= {"configById", "layout"}
    configs = layout["configById"]
    assert sorted(panels(layout["layout"])) == sorted(configs)  # every panel placed once, none without a config
    images, series = {}, []
    for panel_id, config in configs.items():
        kind = panel_id.split("!")[0]
        if kind == "Image":
            images[panel_id] = config["imageMode"]["imageTopic"]
        else:
            assert kind in ("Plot", "StateTransitions"), panel_id
            assert config["paths"], panel_id
            for path in config["paths"]:
                assert path["timestampMethod"] == "receiveTime"
                assert kind != "Plot" or path["enabled"] is True  # Foxglove draws a path without it as disabled
                series.append((kind, path["value"]))
    assert sorted(images.values()) == sorted(["/rig/camera/image_raw", "/rig/policy/strip", "/rig/policy/goal_image_model",
                                              "/rig/trainer/vae_samples"])  # fmt: skip
    for topic in images.values():
        assert sim_graph_publishers.get(topic) == TOPICS[topic].type_name == "sensor_msgs/msg/Image", topic
    for kind, value in series:
        topic, *fields = value.split(".")
        assert sim_graph_publishers[topic] == TOPICS[topic].type_name, value  # published, and in the contract
        leaf = field_value(sim_graph_publishers[topic], fields)
        if kind == "Plot":
            assert isinstance(leaf, (int, float)) and not isinstance(leaf, bool), value
        else:
            assert isinstance(leaf, str), value
