"""Real DDS between real processes: each test has a ROS domain of its own and Cyclone DDS on loopback (the node
topics are fixed names, so tests must not hear each other); see rig_transport.testing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rig_transport.testing import isolated_dds_env, start_node, test_node

__all__ = ["start_node", "test_node"]


@pytest.fixture(autouse=True)
def isolated_dds() -> Iterator[int]:
    with isolated_dds_env() as domain:
        yield domain
