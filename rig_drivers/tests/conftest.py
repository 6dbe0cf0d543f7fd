"""Real DDS between real processes: each test module has a ROS domain of its own and Cyclone DDS on loopback;
nodes run from their installed console scripts and are always stopped at teardown (see rig_transport.testing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rig_transport.testing import isolated_dds_env, start_node, test_node

__all__ = ["start_node", "test_node"]


@pytest.fixture(scope="module", autouse=True)
def isolated_dds() -> Iterator[int]:
    with isolated_dds_env() as domain:
        yield domain
