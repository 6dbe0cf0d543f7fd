"""The DDS backend's security settings from SROS2's environment (rig_transport.security), on the plain wheel: which
enclave a node takes, security off by default, Permissive running on without keys, Enforce refusing to start with
one line naming what is missing (the wheel has no DDS Security). Keyed traffic: launch/test/test_keys_dds.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rig_transport.dds_backend import DDSTransport
from rig_transport.security import ENCLAVE_FILES, SecurityError, binding_has_security, resolve_enclave, security_policies

LOG = logging.getLogger("test_security")
on_the_wheel = pytest.mark.skipif(binding_has_security(), reason="about the plain wheel (this binding has security)")


@pytest.fixture
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A keystore directory with every file of enclave /policy_node present (their content is not read here)."""
    enclave = tmp_path / "enclaves" / "policy_node"
    enclave.mkdir(parents=True)
    for name in ENCLAVE_FILES.values():
        (enclave / name).write_text("")
    for name in ("ROS_SECURITY_ENCLAVE_OVERRIDE", "ROS_SECURITY_STRATEGY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROS_SECURITY_KEYSTORE", str(tmp_path))
    monkeypatch.setenv("ROS_SECURITY_ENABLE", "true")
    return tmp_path


def test_the_enclave_is_the_override_else_the_ros_argument_else_the_node_name(monkeypatch):
    monkeypatch.delenv("ROS_SECURITY_ENCLAVE_OVERRIDE", raising=False)
    assert resolve_enclave("policy_node", None) == "/policy_node"
    assert resolve_enclave("policy_node", "/robots/one") == "/robots/one"
    monkeypatch.setenv("ROS_SECURITY_ENCLAVE_OVERRIDE", "/operator")
    assert resolve_enclave("policy_node", "/robots/one") == "/operator"
    monkeypatch.setenv("ROS_SECURITY_ENCLAVE_OVERRIDE", "relative")
    with pytest.raises(ValueError, match="absolute"):
        resolve_enclave("policy_node", None)


def test_security_is_off_unless_ros_security_enable_is_true(keystore, monkeypatch):
    for value in ("", "1", "True"):
        monkeypatch.setenv("ROS_SECURITY_ENABLE", value)
        assert security_policies("/policy_node", LOG) == []
    monkeypatch.delenv("ROS_SECURITY_ENABLE")
    assert security_policies("/policy_node", LOG) == []


@on_the_wheel
def test_the_pypi_wheel_has_no_security_and_enforce_refuses_it(keystore, monkeypatch):
    monkeypatch.setenv("ROS_SECURITY_STRATEGY", "Enforce")
    with pytest.raises(SecurityError, match="this cyclonedds binding has no DDS Security"):
        security_policies("/policy_node", LOG)
    with pytest.raises(SecurityError, match="has no DDS Security"):
        DDSTransport("policy_node", argv=[])  # a node refuses to start rather than run unsecured


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ks, mp: mp.delenv("ROS_SECURITY_KEYSTORE"), "ROS_SECURITY_KEYSTORE is not set"),
        (lambda ks, mp: mp.setenv("ROS_SECURITY_ENCLAVE_OVERRIDE", "/nobody"), "no keys for enclave /nobody"),
        (lambda ks, mp: (ks / "enclaves" / "policy_node" / "permissions.p7s").unlink(), "lacks permissions.p7s"),
    ],
)
def test_enforce_names_what_is_missing(keystore, monkeypatch, change, message):
    monkeypatch.setenv("ROS_SECURITY_STRATEGY", "Enforce")
    change(keystore, monkeypatch)
    with pytest.raises(SecurityError, match=message):
        security_policies("/policy_node" if "nobody" not in message else "/nobody", LOG)


@on_the_wheel
def test_permissive_without_usable_keys_warns_and_runs_unsecured(keystore, monkeypatch, caplog):
    monkeypatch.setenv("ROS_SECURITY_STRATEGY", "Permissive")
    with caplog.at_level(logging.WARNING):
        node = DDSTransport("policy_node", argv=[])
    node.shutdown()
    assert "SECURITY WARNING" in caplog.text and "WITHOUT security" in caplog.text
