"""``rig keys KEYSTORE``: an SROS2 keystore for the graph, one enclave per node and tool (`rig_launch.access`).

    rig keys keys/lab [--domain 7] [--enclaves policy_node trainer_node ...]

The layout is ``ros2 security create_keystore`` / ``create_enclave``'s, so rclpy nodes and the DDS backend read it
alike: ``public/`` (the CA certificate, as identity and permissions CA), ``private/`` (the CA key: keep it off the
robots), ``enclaves/governance.p7s`` and per enclave ``enclaves/<name>/`` with ``cert.pem``, ``key.pem``, links to
the CA certificates and the governance, and ``permissions.xml`` signed into ``permissions.p7s``. Certificates and
keys are ECDSA P-256 (DDS Security 9.3.1), signatures S/MIME with SHA-256 (what SROS2 writes). Running it again
keeps the CA and each enclave's keys and rewrites the governance and permissions (after a change of the table or
of the domain).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from rig_launch.access import ACCESS, dds_topics
from rig_transport.dds_backend import MAX_SECURE_DOMAIN, domain_id

CA_NAME = "sros2CA"
"""The CA's common name, as SROS2 names it."""
VALID_DAYS = 3650
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_GOVERNANCE_XSD = "http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_governance.xsd"
_PERMISSIONS_XSD = "http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_permissions.xsd"
GOVERNANCE_RULES = {
    "allow_unauthenticated_participants": "false",
    "enable_join_access_control": "true",
    "discovery_protection_kind": "ENCRYPT",
    "liveliness_protection_kind": "ENCRYPT",
    "rtps_protection_kind": "SIGN",
}
"""SROS2's default governance: only authenticated participants join; discovery encrypted, messages signed."""
TOPIC_RULES = {
    "enable_discovery_protection": "true",
    "enable_liveliness_protection": "true",
    "enable_read_access_control": "true",
    "enable_write_access_control": "true",
    "metadata_protection_kind": "ENCRYPT",
    "data_protection_kind": "ENCRYPT",
}
"""For every topic: reading and writing need a permission, payloads are encrypted."""


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
                 issuer_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:  # fmt: skip
    """A certificate for ``key`` named ``CN=subject``: the self-signed CA when ``issuer`` is None."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))  # SROS2's margin for clocks a little behind
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=1 if issuer is None else None),
                       critical=issuer is None)  # fmt: skip
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return key


def sign(document: bytes, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey) -> bytes:
    """``document`` as S/MIME signed by the permissions CA (clear text, detached signature: ``openssl smime -sign
    -text``, what SROS2 writes and Cyclone DDS reads)."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(document).add_signer(ca, ca_key, hashes.SHA256())
    return builder.sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.Text, pkcs7.PKCS7Options.DetachedSignature])


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _domains(parent: ET.Element, domain: int) -> None:
    _sub(_sub(parent, "domains"), "id", str(domain))


def governance_xml(domain: int) -> bytes:
    """The keystore's governance (SROS2's default document for ``domain``)."""
    root = ET.Element("dds", {"xmlns:xsi": _XSI, "xsi:noNamespaceSchemaLocation": _GOVERNANCE_XSD})
    rule = _sub(_sub(root, "domain_access_rules"), "domain_rule")
    _domains(rule, domain)
    for tag, value in GOVERNANCE_RULES.items():
        _sub(rule, tag, value)
    topic_rule = _sub(_sub(rule, "topic_access_rules"), "topic_rule")
    _sub(topic_rule, "topic_expression", "*")
    for tag, value in TOPIC_RULES.items():
        _sub(topic_rule, tag, value)
    return _xml(root)


def permissions_xml(enclave: str, cert: x509.Certificate, domain: int) -> bytes:
    """The enclave's grant: its subject, the certificate's validity, allowed topics, everything else denied."""
    root = ET.Element("dds", {"xmlns:xsi": _XSI, "xsi:noNamespaceSchemaLocation": _PERMISSIONS_XSD})
    grant = _sub(_sub(root, "permissions"), "grant", None)
    grant.set("name", f"/{enclave}")
    _sub(grant, "subject_name", cert.subject.rfc4514_string())
    validity = _sub(grant, "validity")
    _sub(validity, "not_before", cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S"))
    _sub(validity, "not_after", cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S"))
    allow = _sub(grant, "allow_rule")
    _domains(allow, domain)
    publish, subscribe = dds_topics(ACCESS[enclave], enclave)
    for kind, topics in (("publish", publish), ("subscribe", subscribe)):
        listed = _sub(_sub(allow, kind), "topics")
        for topic in topics:
            _sub(listed, "topic", topic)
    _sub(grant, "default", "DENY")
    return _xml(root)


def _link(target: Path, link: Path) -> None:
    """A relative symbolic link ``link`` -> ``target`` (as SROS2 links the CA files into each enclave)."""
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(target, link.parent))


def _ca(keystore: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The keystore's CA (made once): ``public/ca.cert.pem``, ``private/ca.key.pem``, linked as identity and
    permissions CA."""
    public, private = keystore / "public", keystore / "private"
    cert_path, key_path = public / "ca.cert.pem", private / "ca.key.pem"
    if not cert_path.is_file() or not key_path.is_file():
        public.mkdir(parents=True, exist_ok=True)
        private.mkdir(parents=True, exist_ok=True)
        private.chmod(0o700)
        key = _new_key()
        _write_key(key, key_path)
        cert_path.write_bytes(_certificate(CA_NAME, key, None, key).public_bytes(serialization.Encoding.PEM))
    for role in ("identity_ca", "permissions_ca"):
        _link(cert_path, public / f"{role}.cert.pem")
        _link(key_path, private / f"{role}.key.pem")
    return x509.load_pem_x509_certificate(cert_path.read_bytes()), _load_key(key_path)


def _enclave(keystore: Path, enclave: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
             domain: int) -> Path:  # fmt: skip
    """One enclave's directory: its key and certificate (made once), the CA links, its signed permissions."""
    directory = keystore / "enclaves" / enclave
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if not cert_path.is_file() or not key_path.is_file():
        key = _new_key()
        _write_key(key, key_path)
        cert_path.write_bytes(_certificate(f"/{enclave}", key, ca, ca_key).public_bytes(serialization.Encoding.PEM))
    for name in ("identity_ca.cert.pem", "permissions_ca.cert.pem"):
        _link(keystore / "public" / name, directory / name)
    _link(keystore / "enclaves" / "governance.p7s", directory / "governance.p7s")
    permissions = permissions_xml(enclave, x509.load_pem_x509_certificate(cert_path.read_bytes()), domain)
    (directory / "permissions.xml").write_bytes(permissions)
    (directory / "permissions.p7s").write_bytes(sign(permissions, ca, ca_key))
    return directory


def create_keystore(keystore: Path, domain: int, enclaves: Sequence[str] = tuple(ACCESS)) -> list[Path]:
    """Create or update the keystore at ``keystore`` for ROS domain ``domain``; the enclaves' directories."""
    unknown = sorted(set(enclaves) - set(ACCESS))
    if unknown:
        raise ValueError(f"unknown enclave(s) {', '.join(unknown)}; rig keys knows {', '.join(ACCESS)}")
    ca, ca_key = _ca(keystore)
    governance = governance_xml(domain)
    (keystore / "enclaves").mkdir(exist_ok=True)
    (keystore / "enclaves" / "governance.xml").write_bytes(governance)
    (keystore / "enclaves" / "governance.p7s").write_bytes(sign(governance, ca, ca_key))
    return [_enclave(keystore, name, ca, ca_key, domain) for name in enclaves]


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="rig keys", description=__doc__.split("\n\n")[0].split(": ", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    result.add_argument("keystore", type=Path, help="the keystore directory (created, or updated in place)")
    result.add_argument("--domain", type=int, help="the ROS domain the permissions are for (default: ROS_DOMAIN_ID or 0)")
    result.add_argument("--enclaves", nargs="+", default=list(ACCESS), choices=list(ACCESS), metavar="NAME",
                        help=f"only these enclaves (default: all: {', '.join(ACCESS)})")  # fmt: skip
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        domain = domain_id() if args.domain is None else args.domain
        if not 0 <= domain <= MAX_SECURE_DOMAIN:
            raise ValueError(f"the domain must be in 0..{MAX_SECURE_DOMAIN} for DDS Security (its governance documents "
                             f"admit no higher id; Cyclone DDS refuses them), got {domain}")  # fmt: skip
        directories = create_keystore(args.keystore, domain, args.enclaves)
    except (OSError, ValueError) as error:
        print(f"rig keys: {error}", file=sys.stderr)
        return 1
    print(f"keystore {args.keystore.resolve()} (domain {domain}): enclaves {', '.join(d.name for d in directories)}")
    print(f"export ROS_SECURITY_KEYSTORE={args.keystore.resolve()} ROS_SECURITY_ENABLE=true ROS_SECURITY_STRATEGY=Enforce")
    return 0


if __name__ == "__main__":
    sys.exit(main())
