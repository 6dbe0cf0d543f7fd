"""DDS Security for the DDS backend from the standard SROS2 environment, as rcl and rmw_cyclonedds_cpp apply it.

* ``ROS_SECURITY_ENABLE=true`` turns it on (anything else: off, the default: plain DDS, nothing checked);
* ``ROS_SECURITY_STRATEGY=Enforce``: a node without usable keys refuses to start (`SecurityError`, one line);
  otherwise (Permissive) it warns and runs without security, as rcl does;
* ``ROS_SECURITY_KEYSTORE``: an SROS2 keystore (``rig keys``, ``ros2 security create_keystore``); the node's keys
  are its enclave's directory ``<keystore>/enclaves/<enclave>``;
* the enclave: ``ROS_SECURITY_ENCLAVE_OVERRIDE``, else ``--ros-args --enclave NAME``, else ``/<node name>`` (one
  enclave per node, as ``rig keys`` makes them; rcl's own default is ``/``, which gives every node one identity).

The enclave's files become the participant QoS properties rmw_cyclonedds_cpp sets (``dds.sec.*``), so Cyclone DDS
authenticates peers, encrypts and enforces the signed permissions. Only a libddsc built with security has the
plugins: Debian's ``libddsc0debian`` (0.10.2, what ROS 2 Jazzy uses) with a cyclonedds 0.10.2 binding built
against it; the PyPI wheel has none (README "Keys (DDS Security)").
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cyclonedds.core import Policy
from cyclonedds.internal import DDS

ENCLAVE_FILES = {
    "dds.sec.auth.identity_ca": "identity_ca.cert.pem",
    "dds.sec.auth.identity_certificate": "cert.pem",
    "dds.sec.auth.private_key": "key.pem",
    "dds.sec.access.permissions_ca": "permissions_ca.cert.pem",
    "dds.sec.access.governance": "governance.p7s",
    "dds.sec.access.permissions": "permissions.p7s",
}
"""Cyclone DDS security property -> the file of an SROS2 enclave it names (rmw_dds_common's get_security_files)."""
PLUGINS = {
    "auth": ("dds_security_auth", "init_authentication", "finalize_authentication"),
    "crypto": ("dds_security_crypto", "init_crypto", "finalize_crypto"),
    "access": ("dds_security_ac", "init_access_control", "finalize_access_control"),
}
"""The plugin libraries and their entry points, as rmw_cyclonedds_cpp names them."""


class SecurityError(ValueError):
    """Security is enforced and this node cannot have it: it must not start (a ValueError: nodes exit with it)."""


def enabled() -> bool:
    """``ROS_SECURITY_ENABLE=true`` (rcl's test: exactly "true")."""
    return os.environ.get("ROS_SECURITY_ENABLE") == "true"


def enforced() -> bool:
    """``ROS_SECURITY_STRATEGY=Enforce`` (else Permissive, as in rcl)."""
    return os.environ.get("ROS_SECURITY_STRATEGY") == "Enforce"


def resolve_enclave(node_name: str, ros_enclave: str | None) -> str:
    """The node's enclave: ROS_SECURITY_ENCLAVE_OVERRIDE, else ``--enclave``, else ``/<node_name>``."""
    enclave = os.environ.get("ROS_SECURITY_ENCLAVE_OVERRIDE") or ros_enclave or f"/{node_name}"
    if not enclave.startswith("/") or ".." in enclave.split("/"):
        raise ValueError(f"enclave {enclave!r} must be an absolute name like /policy_node")
    return enclave


def binding_has_security() -> bool:
    """Whether the libddsc under the cyclonedds binding was built with DDS Security (it exports DDS_Security_*)."""
    return hasattr(DDS._dll_handle, "DDS_Security_BinaryProperty_alloc")


def security_policies(enclave: str, logger: logging.Logger) -> list[Policy.Property]:
    """The participant QoS properties that secure ``enclave`` ([] when security is off, or Permissive without keys).

    Raises SecurityError, naming what is missing, when security is enforced and cannot be had."""
    if not enabled():
        return []
    try:
        files = _enclave_files(enclave)
    except SecurityError as problem:
        if enforced():
            raise
        logger.warning("SECURITY WARNING: %s; running WITHOUT security (ROS_SECURITY_STRATEGY is not Enforce)", problem)
        return []
    properties = [Policy.Property(key, f"file:{path}") for key, path in files.items()]
    for kind, (library, init, finalize) in PLUGINS.items():
        properties += [Policy.Property(f"dds.sec.{kind}.library.path", library),
                       Policy.Property(f"dds.sec.{kind}.library.init", init),
                       Policy.Property(f"dds.sec.{kind}.library.finalize", finalize)]  # fmt: skip
    return properties


def _enclave_files(enclave: str) -> dict[str, Path]:
    """Property -> file of the enclave's directory; SecurityError when any is missing or the binding cannot use them."""
    keystore = os.environ.get("ROS_SECURITY_KEYSTORE")
    if not keystore:
        raise SecurityError("ROS_SECURITY_ENABLE=true but ROS_SECURITY_KEYSTORE is not set")
    directory = Path(keystore).resolve() / "enclaves" / enclave.strip("/")
    if not directory.is_dir():
        raise SecurityError(f"no keys for enclave {enclave}: {directory} is not a directory (rig keys makes it)")
    files = {key: directory / name for key, name in ENCLAVE_FILES.items()}
    missing = sorted(path.name for path in files.values() if not path.is_file())
    if missing:
        raise SecurityError(f"enclave {enclave} in {directory} lacks {', '.join(missing)}")
    if not binding_has_security():
        raise SecurityError("this cyclonedds binding has no DDS Security (the PyPI wheel): put the 0.10.2 binding "
                            "built against Debian's libddsc first on PYTHONPATH (README: Keys (DDS Security))")  # fmt: skip
    return {key: path.resolve() for key, path in files.items()}
