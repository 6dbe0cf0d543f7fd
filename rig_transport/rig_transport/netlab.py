"""Several machines on one Linux box, for tests and benchmarks: a network namespace per host, each with one veth
link (``eth0``) to a bridge in a "switch" namespace, and faults on a host's link (packet loss, a bandwidth cap, a
cut). Needs root, iproute2 (``ip``, ``tc``) and nftables (``nft``).

The faults act where a real network's would: loss and the cut on the switch port (the bridge sees Ethernet frames,
so loss hits single IP fragments of a large DDS datagram, as on a wire), the cap in both directions (tbf on both
ends of the link). Linux's netem (delay) is not used: it is missing from some kernels (these machines' among them).
This wraps the iproute2/nftables command lines (no Python library drives namespaces, bridges and nft together).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from rig_transport.dds_backend import unicast_config

SUBNET = "10.10.0"
"""The lab's /24: host i (from 0) has address SUBNET.(i + 1)."""
HOST_INTERFACE = "eth0"
"""Each host's end of its link (every host is its own namespace, so they may share the name)."""


class LabUnavailable(RuntimeError):
    """The lab cannot be built here (not root, no ``ip netns``, no nft): the reason, for a skip."""


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip() or result.returncode}")


@dataclass(frozen=True)
class Host:
    """One machine of the lab: its namespace, address and its switch port (the far end of its link)."""

    role: str
    namespace: str
    address: str
    switch_port: str


class Lab:
    """The hosts ``roles`` (e.g. robot, trainer, operator) on one bridge; ``close()`` deletes every namespace."""

    def __init__(self, roles: Sequence[str], prefix: str | None = None) -> None:
        if os.geteuid() != 0:
            raise LabUnavailable("network namespaces need root")
        missing = [tool for tool in ("ip", "tc", "nft") if shutil.which(tool) is None]
        if missing:
            raise LabUnavailable(f"{', '.join(missing)} not installed (apt-get install iproute2 nftables)")
        prefix = prefix or f"rig{os.getpid()}"
        self.switch = f"{prefix}-switch"
        self.hosts = {role: Host(role, f"{prefix}-{role}", f"{SUBNET}.{i + 1}", f"p{i}") for i, role in enumerate(roles)}
        self._namespaces: list[str] = []
        try:
            self._build()
        except RuntimeError as error:
            self.close()
            raise LabUnavailable(f"cannot build the lab's namespaces: {error}") from error

    def _add_namespace(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self._namespaces.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")

    def _build(self) -> None:
        self._add_namespace(self.switch)
        _run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", self.switch, "link", "set", "br0", "up")
        for host in self.hosts.values():
            self._add_namespace(host.namespace)
            _run("ip", "link", "add", HOST_INTERFACE, "netns", host.namespace, "type", "veth",
                 "peer", "name", host.switch_port, "netns", self.switch)  # fmt: skip
            _run("ip", "-n", self.switch, "link", "set", host.switch_port, "master", "br0", "up")
            _run("ip", "-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", HOST_INTERFACE)
            _run("ip", "-n", host.namespace, "link", "set", HOST_INTERFACE, "up")
        self._nft("add table bridge lab; add chain bridge lab forward { type filter hook forward priority 0; }")

    def _nft(self, script: str) -> None:
        _run("ip", "netns", "exec", self.switch, "nft", script)

    def dds_config(self, role: str) -> str:
        """``CYCLONEDDS_URI`` for a process on ``role``: its link's interface, every host as a unicast peer."""
        del role  # every host's interface has the same name; kept so that callers say which host they configure
        return unicast_config(HOST_INTERFACE, [host.address for host in self.hosts.values()])

    def command(self, role: str, argv: Sequence[str], env: dict[str, str] | None = None) -> list[str]:
        """``argv`` run on host ``role`` (``ip netns exec``, which execs: signals reach ``argv`` itself), with its
        Cyclone DDS configuration and ``env``."""
        assignments = [f"{name}={value}" for name, value in {"CYCLONEDDS_URI": self.dds_config(role), **(env or {})}.items()]
        return ["ip", "netns", "exec", self.hosts[role].namespace, "env", *assignments, *argv]

    def set_loss(self, role: str, percent: float) -> None:
        """Drop ``percent`` % of the frames on ``role``'s link, each direction, at random (0: none); this replaces
        any loss set before, on any host."""
        port = self.hosts[role].switch_port
        self._nft("flush chain bridge lab forward")
        if percent > 0:
            threshold = round(percent * 100)  # numgen draws from 0..9999: hundredths of a percent
            for match in ("iifname", "oifname"):
                self._nft(f'add rule bridge lab forward {match} "{port}" numgen random mod 10000 < {threshold} drop')

    def set_rate(self, role: str, rate: str | None) -> None:
        """Cap ``role``'s link at ``rate`` (tc's units, e.g. ``100mbit``) both ways; None lifts the cap."""
        host = self.hosts[role]
        for namespace, device in ((host.namespace, HOST_INTERFACE), (self.switch, host.switch_port)):
            if rate is None:
                _run("tc", "-n", namespace, "qdisc", "del", "dev", device, "root")
            else:
                _run("tc", "-n", namespace, "qdisc", "replace", "dev", device, "root", "tbf", "rate", rate,
                     "burst", "256kb", "latency", "100ms")  # fmt: skip

    def cut(self, role: str) -> None:
        """Pull ``role``'s cable: its switch port goes down (the host sees its link lose carrier)."""
        _run("ip", "-n", self.switch, "link", "set", self.hosts[role].switch_port, "down")

    def restore(self, role: str) -> None:
        _run("ip", "-n", self.switch, "link", "set", self.hosts[role].switch_port, "up")

    def close(self) -> None:
        """Delete every namespace (their veth links go with them); safe to call twice."""
        while self._namespaces:
            subprocess.run(["ip", "netns", "del", self._namespaces.pop()], capture_output=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
