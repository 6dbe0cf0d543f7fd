"""Real DDS between real processes: each test has a ROS domain of its own and Cyclone DDS on loopback, nodes run
from their installed console scripts and are stopped at teardown (see rig_transport.testing).

On a ROS 2 machine without the DDS backend's PyPI packages (`colcon test` on a Jazzy build) there is no cyclonedds:
the modules that run nodes over plain DDS skip, naming it (`pytest.importorskip("cyclonedds", ...)`), the others run."""

import importlib.util

if importlib.util.find_spec("cyclonedds") is not None:
    from rig_transport.testing import isolated_dds, start_node, test_node

    __all__ = ["isolated_dds", "start_node", "test_node"]


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: longer end-to-end runs (still part of the default suite)")
