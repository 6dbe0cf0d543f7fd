"""The node-facing interface: named QoS profiles, backend selection, the callback guard."""

from __future__ import annotations

import importlib.util
import logging

import pytest

from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS, QoSProfile, make_transport
from rig_transport.dds_backend import DDSTransport
from rig_transport.interface import guarded

HAVE_RCLPY = importlib.util.find_spec("rclpy") is not None


def test_named_profiles_match_the_topic_table():
    assert SENSOR_DATA == QoSProfile(reliable=False, depth=1, transient_local=False)
    assert COMMAND == QoSProfile(reliable=True, depth=1, transient_local=False)
    assert STATUS == QoSProfile(reliable=True, depth=10, transient_local=False)
    assert REPLAY == QoSProfile(reliable=True, depth=1000, transient_local=False)
    assert LATCHED == QoSProfile(reliable=True, depth=1, transient_local=True)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        QoSProfile(reliable=True, depth=0)


@pytest.mark.skipif(HAVE_RCLPY, reason="auto selects rclpy where it is installed")
def test_auto_selects_dds_without_rclpy_and_rclpy_cannot_be_forced():
    transport = make_transport("auto_node", argv=[])
    try:
        assert isinstance(transport, DDSTransport) and transport.node_name == "auto_node"
    finally:
        transport.shutdown()
    with pytest.raises(ModuleNotFoundError, match="rclpy"):
        make_transport("forced", backend="rclpy", argv=[])


def test_backend_from_environment_and_unknown_backends(monkeypatch):
    monkeypatch.setenv("RIG_TRANSPORT", "dds")
    transport = make_transport("env_node", argv=[])
    transport.shutdown()
    assert isinstance(transport, DDSTransport)
    monkeypatch.setenv("RIG_TRANSPORT", "zenoh")
    with pytest.raises(ValueError, match="unknown transport backend 'zenoh'"):
        make_transport("env_node", argv=[])


def test_guarded_logs_the_traceback_and_returns(caplog):
    calls = []

    def callback(value):
        calls.append(value)
        raise KeyError("missing")

    run = guarded(callback, logging.getLogger("guard_test"), "callback for /x")
    run(1)
    run(2)
    assert calls == [1, 2]
    assert "callback for /x raised an exception; the node keeps running" in caplog.text
    assert "KeyError: 'missing'" in caplog.text
