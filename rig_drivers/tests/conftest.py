"""Real DDS between real processes, isolated as in rig_transport/tests/conftest.py: Cyclone DDS on loopback only and
a random ROS domain (100-200) of each test module's own, set before any DomainParticipant exists and inherited by
the node processes. Nodes run from their installed console scripts and are always stopped at teardown."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from drivers_testing import NodeProcess, TestNode

from rig_transport.dds_backend import LOOPBACK_CONFIG


@pytest.fixture(scope="module", autouse=True)
def isolated_dds() -> Iterator[int]:
    """A random ROS_DOMAIN_ID in 100-200 for this module and a loopback-only Cyclone DDS."""
    with pytest.MonkeyPatch.context() as patch:
        domain = random.SystemRandom().randint(100, 200)
        patch.setenv("ROS_DOMAIN_ID", str(domain))
        patch.setenv("CYCLONEDDS_URI", LOOPBACK_CONFIG)
        patch.delenv("RIG_TRANSPORT", raising=False)
        yield domain


@pytest.fixture
def test_node() -> Iterator[TestNode]:
    node = TestNode("test_peer")
    yield node
    node.stop()


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[[str, dict[str, Any]], NodeProcess]]:
    nodes: list[NodeProcess] = []

    def start(script: str, params: dict[str, Any]) -> NodeProcess:
        nodes.append(NodeProcess(script, params, tmp_path / f"{script}_{len(nodes)}.log"))
        return nodes[-1]

    yield start
    for node in nodes:
        if node.alive():
            node.process.kill()
            node.process.wait()
