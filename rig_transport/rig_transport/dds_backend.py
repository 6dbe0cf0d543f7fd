"""Transport over plain Cyclone DDS that speaks the ROS 2 wire protocol, for machines without ROS 2.

Topics are ``rt/<topic>``, types come from :mod:`rig_transport.dds_types`, QoS is mapped the way
rmw_cyclonedds_cpp maps it, and every writer and reader carries ``typehash=RIHS01_<hex>;`` in USER_DATA,
so ROS 2 nodes on rmw_cyclonedds_cpp exchange messages with these nodes. Each node announces itself and its
endpoints on ``ros_discovery_info`` (:mod:`rig_transport.dds_graph`), so ROS 2 tools list it. All callbacks and
timers run on one executor thread, which ``spin()`` starts; the calling thread waits there, handling SIGINT/SIGTERM.

Environment: ``ROS_DOMAIN_ID`` (default 0), ``CYCLONEDDS_URI`` (Cyclone's own configuration),
``RIG_DDS_LOOPBACK=1`` to keep all traffic on the loopback interface (tests, one-machine runs) when
``CYCLONEDDS_URI`` is not set, and SROS2's ``ROS_SECURITY_*`` for DDS Security (:mod:`rig_transport.security`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from cyclonedds.core import (
    DDSException,
    Entity,
    GuardCondition,
    InstanceState,
    Policy,
    Qos,
    ReadCondition,
    SampleState,
    ViewState,
    WaitSet,
)
from cyclonedds.domain import DomainParticipant
from cyclonedds.internal import InvalidSample
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from rig_transport.dds_compat import matched_reader_count
from rig_transport.dds_graph import (
    DISCOVERY_QOS,
    DISCOVERY_TYPE,
    ROOT_NAMESPACE,
    GraphAnnouncer,
    participant_qos,
)
from rig_transport.dds_types import MessageTypes, default_types
from rig_transport.interface import (
    QoSProfile,
    Transport,
    guarded,
    replace_stop_signal_handlers,
    restore_signal_handlers,
)
from rig_transport.parameters import parse_ros_args, resolve_parameters, user_values
from rig_transport.security import SecurityError, enabled, resolve_enclave, security_policies


def unicast_config(interface: str, peers: Sequence[str]) -> str:
    """Cyclone DDS (``CYCLONEDDS_URI``) on one network interface, multicast off, discovery by unicast to ``peers``
    (addresses of every machine of the graph, this one included): what a network without multicast needs."""
    peer_list = "".join(f'<Peer address="{address}"/>' for address in peers)
    return (
        f'<CycloneDDS><Domain><General><Interfaces><NetworkInterface name="{interface}"/></Interfaces>'
        f"<AllowMulticast>false</AllowMulticast></General><Discovery><Peers>{peer_list}</Peers>"
        "<ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>50</MaxAutoParticipantIndex>"
        "</Discovery></Domain></CycloneDDS>"
    )


LOOPBACK_CONFIG = unicast_config("lo", ["127.0.0.1"])
"""Cyclone DDS on loopback only, unicast discovery (multicast is often unavailable on ``lo``)."""
_LENGTH_UNLIMITED = -1
_FOREVER_NS = duration(infinite=True)


def use_loopback_if_requested() -> None:
    """With ``RIG_DDS_LOOPBACK=1`` and no ``CYCLONEDDS_URI``, configure Cyclone DDS for loopback only."""
    if os.environ.get("RIG_DDS_LOOPBACK") == "1" and not os.environ.get("CYCLONEDDS_URI"):
        os.environ["CYCLONEDDS_URI"] = LOOPBACK_CONFIG


MAX_DOMAIN = 232
"""The highest ``ROS_DOMAIN_ID`` ROS 2 accepts on Linux (its port arithmetic runs out above it)."""

MAX_SECURE_DOMAIN = 230
"""The highest domain id a DDS Security governance or permissions document may name (below ``MAX_DOMAIN``)."""


def domain_id() -> int:
    """``ROS_DOMAIN_ID`` (0 when unset), as ROS 2 reads it."""
    text = os.environ.get("ROS_DOMAIN_ID", "").strip() or "0"
    if not text.isdigit() or int(text) > MAX_DOMAIN:
        raise ValueError(f"ROS_DOMAIN_ID must be an integer in 0..{MAX_DOMAIN}, got {text!r}")
    return int(text)


def dds_topic_name(topic: str, node_name: str) -> str:
    """ROS topic name -> DDS topic name: ``/rig/weights`` -> ``rt/rig/weights``; ``~/x`` is ``/<node>/x``."""
    if topic.startswith("~"):
        topic = f"/{node_name}{topic[1:]}"
    name = topic.lstrip("/")
    if not name or name.endswith("/") or "//" in name:
        raise ValueError(f"invalid topic name {topic!r}")
    return f"rt/{name}"


def dds_qos(qos: QoSProfile, type_hash: str, writer: bool) -> Qos:
    """The reader/writer QoS rmw_cyclonedds_cpp would create for ``qos`` (plus XCDR1 and the type hash)."""
    policies: list[Any] = [
        Policy.History.KeepLast(qos.depth),
        Policy.Reliability.Reliable(_FOREVER_NS) if qos.reliable else Policy.Reliability.BestEffort,
        Policy.DataRepresentation(use_cdrv0_representation=True),
        Policy.Userdata(f"typehash={type_hash};".encode()),
    ]
    if qos.transient_local:
        # Cyclone keeps historical data per the durability-service history, so rmw sets it to the history.
        history = Policy.History.KeepLast(qos.depth)
        policies += [
            Policy.Durability.TransientLocal,
            Policy.DurabilityService(0, history, _LENGTH_UNLIMITED, _LENGTH_UNLIMITED, _LENGTH_UNLIMITED),
        ]
    else:
        policies.append(Policy.Durability.Volatile)
    if writer:
        policies.append(Policy.WriterDataLifecycle(autodispose=False))
    return Qos(*policies)


class DDSPublisher:
    """Writes messages of one type to one topic; thread-safe."""

    def __init__(self, writer: DataWriter, topic: str, type_name: str, cls: type) -> None:
        self._writer, self._topic, self._type_name, self._cls = writer, topic, type_name, cls

    def publish(self, msg: Any) -> None:
        """Send ``msg`` (built with ``transport.new`` for this publisher's type)."""
        if not isinstance(msg, self._cls):
            raise TypeError(f"{self._topic} carries {self._type_name}, got {type(msg).__name__}")
        try:
            self._writer.write(msg)
        except Exception as exc:
            raise ValueError(f"cannot publish {self._type_name} on {self._topic}: {exc}") from exc

    def get_subscription_count(self) -> int:
        """How many readers are matched now (the writer's publication-matched status)."""
        return matched_reader_count(self._writer)


@dataclass
class _Subscription:
    topic: str
    reader: DataReader
    condition: ReadCondition
    callback: Callable[[Any], None]
    batch: int


class DDSTimer:
    """A periodic timer run by the executor thread; missed periods are skipped, not queued."""

    def __init__(self, period_s: float, callback: Callable[[], None], wake: Callable[[], None]) -> None:
        if period_s <= 0:
            raise ValueError(f"timer period must be > 0 s, got {period_s}")
        self.period_ns = int(period_s * 1e9)
        self.callback = callback
        self.deadline_ns = time.monotonic_ns() + self.period_ns
        self.cancelled = False
        self._wake = wake

    def cancel(self) -> None:
        """Stop the timer for good."""
        self.cancelled = True
        self._wake()

    def advance(self, now_ns: int) -> None:
        """Schedule the next call after ``now_ns``, on the timer's original period grid."""
        missed = (now_ns - self.deadline_ns) // self.period_ns + 1
        self.deadline_ns += missed * self.period_ns


class DDSTransport(Transport):
    """A node on one Cyclone DDS DomainParticipant (see the module docstring)."""

    def __init__(self, node_name: str, argv: Sequence[str] | None = None, types: MessageTypes | None = None) -> None:
        ros_args = parse_ros_args(sys.argv if argv is None else argv)
        self.node_name = node_name = ros_args.node_name or node_name
        self.node_namespace = ROOT_NAMESPACE  # the only namespace parse_ros_args accepts (__ns:=/)
        self.logger = _node_logger(node_name, ros_args.log_level)
        self._user_values = user_values(ros_args, node_name)
        self._declared: set[str] = set()
        self._types = types or default_types()
        use_loopback_if_requested()
        self.enclave = resolve_enclave(node_name, ros_args.enclave)
        self._participant = _participant(self.enclave, self.logger)
        discovery_qos = dds_qos(DISCOVERY_QOS, self._types.type_hash(DISCOVERY_TYPE), writer=True)
        self._graph = GraphAnnouncer(self._participant, self._types, discovery_qos, node_name, self.node_namespace)
        # Wake-ups go through a guard condition: WaitSet.set_trigger does not end a wait in cyclonedds 11,
        # and a waitset with nothing attached returns at once, which would make the executor loop spin.
        self._wakeup = GuardCondition(self._participant)
        self._waitset = WaitSet(self._participant)
        self._waitset.attach(self._wakeup)
        self._topics: dict[str, tuple[Topic, str]] = {}
        self._publishers: list[DDSPublisher] = []
        self._subscriptions: list[_Subscription] = []
        self._timers: list[DDSTimer] = []
        self._stopping = threading.Event()
        self._executor: threading.Thread | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._close_lock = threading.RLock()  # re-entrant: a signal handler may wake us while we close
        self._closed = False

    # -- graph ------------------------------------------------------------------------------------------------
    def create_publisher(self, topic: str, type_name: str, qos: QoSProfile) -> DDSPublisher:
        dds_topic = self._topic(topic, type_name)
        with self._permitted("publish", topic):
            writer = DataWriter(self._participant, dds_topic, dds_qos(qos, self._types.type_hash(type_name), writer=True))
        publisher = DDSPublisher(writer, topic, type_name, self._types.idl_class(type_name))
        self._graph.add_writer(writer.guid)
        self._publishers.append(publisher)  # as an rclpy Node does: a dropped handle must not delete the writer
        return publisher

    def create_subscription(self, topic: str, type_name: str, qos: QoSProfile, callback: Callable[[Any], None]) -> None:
        dds_topic = self._topic(topic, type_name)
        with self._permitted("subscribe to", topic):
            reader = DataReader(self._participant, dds_topic, dds_qos(qos, self._types.type_hash(type_name), writer=False))
        self._graph.add_reader(reader.guid)
        condition = ReadCondition(reader, SampleState.Any | ViewState.Any | InstanceState.Any)
        wrapped = guarded(callback, self.logger, f"subscription callback for {topic}")
        self._subscriptions.append(_Subscription(topic, reader, condition, wrapped, max(qos.depth, 16)))
        self._waitset.attach(condition)

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> DDSTimer:
        timer = DDSTimer(period_s, guarded(callback, self.logger, "timer callback"), self._wake)
        self._timers.append(timer)
        self._wake()
        return timer

    def _topic(self, topic: str, type_name: str) -> Topic:
        name = dds_topic_name(topic, self.node_name)
        if name in self._topics:
            dds_topic, known_type = self._topics[name]
            if known_type != type_name:
                raise ValueError(f"topic {topic} is already used with type {known_type}, not {type_name}")
            return dds_topic
        with self._permitted("use", topic):
            dds_topic = Topic(self._participant, name, self._types.idl_class(type_name))
        self._topics[name] = (dds_topic, type_name)
        return dds_topic

    @contextmanager
    def _permitted(self, action: str, topic: str) -> Iterator[None]:
        """Under DDS Security, a refused entity (no permission in the enclave) is a SecurityError that says so (a
        ValueError: the node stops with that line)."""
        try:
            yield
        except DDSException as error:
            if not enabled():
                raise
            raise SecurityError(f"enclave {self.enclave} may not {action} {topic} (its permissions.xml): {error}") from error

    # -- parameters, messages, clock --------------------------------------------------------------------------
    def declare_parameters(self, defaults: dict[str, Any]) -> dict[str, Any]:
        values = resolve_parameters(defaults, self._user_values)
        self._declared.update(defaults)
        return values

    def new(self, type_name: str, /, **fields: Any) -> Any:
        return self._types.new(type_name, **fields)

    def now(self) -> Any:
        sec, nanosec = divmod(time.time_ns(), 1_000_000_000)
        return self.new("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec)

    # -- executor ---------------------------------------------------------------------------------------------
    def spin(self) -> None:
        if self._closed:
            raise RuntimeError(f"node {self.node_name} has been shut down")
        unknown = sorted(set(self._user_values) - self._declared)
        if unknown:
            self.logger.warning("ignoring parameters this node does not declare: %s", ", ".join(unknown))
        self._install_signal_handlers()
        self._executor = threading.Thread(target=self._run, name=f"{self.node_name}-executor", daemon=True)
        self._executor.start()
        try:
            self._executor.join()  # interruptible: signal handlers run while the main thread waits here
        finally:
            self._restore_signal_handlers()

    def shutdown(self) -> None:
        self._stopping.set()
        self._wake()
        executor = self._executor
        if executor is threading.current_thread():
            return  # called by a callback: the executor stops after it; the node's main calls shutdown() again
        if executor is not None:
            executor.join()
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            # cyclonedds-python has no public delete: Entity.__del__ wraps dds_delete (children go with the
            # participant). Calling it now makes peers see this node leave at once instead of at GC time.
            Entity.__del__(self._participant)

    def _install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM stop spinning; the previous handlers come back, so a second signal is not gentle."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            self._restore_signal_handlers()
            self.logger.info("%s received, shutting down", signal.Signals(signum).name)
            self._stopping.set()
            self._wake()

        self._previous_handlers = replace_stop_signal_handlers(stop)

    def _restore_signal_handlers(self) -> None:
        restore_signal_handlers(self._previous_handlers)

    def _wake(self) -> None:
        with self._close_lock:
            if not self._closed:
                self._wakeup.set(True)

    def _run(self) -> None:
        """The executor loop: due timers, then wait for data or the next deadline, then subscription callbacks."""
        while not self._stopping.is_set():
            self._wakeup.take()
            timeout_ns = self._run_due_timers()
            if self._stopping.is_set():
                break
            self._waitset.wait(timeout_ns)
            self._dispatch_samples()

    def _run_due_timers(self) -> int:
        """Run the timers that are due; return the time to the next deadline in ns."""
        for timer in list(self._timers):
            if timer.cancelled:
                self._timers.remove(timer)
                continue
            now_ns = time.monotonic_ns()
            if timer.deadline_ns <= now_ns and not self._stopping.is_set():
                timer.advance(now_ns)
                timer.callback()
        deadlines = [timer.deadline_ns for timer in list(self._timers) if not timer.cancelled]
        return max(0, min(deadlines) - time.monotonic_ns()) if deadlines else _FOREVER_NS

    def _dispatch_samples(self) -> None:
        for sub in list(self._subscriptions):
            try:
                samples = sub.reader.take(N=sub.batch)
            except Exception:
                self.logger.exception("could not take or decode a message on %s; it is dropped", sub.topic)
                continue
            for sample in samples:
                if self._stopping.is_set():
                    return
                if not isinstance(sample, InvalidSample):  # invalid samples only report a writer going away
                    sub.callback(sample)


def _participant(enclave: str, logger: logging.Logger) -> DomainParticipant:
    """The node's DomainParticipant: the enclave in USER_DATA, and its keys when security is on (SecurityError if
    Cyclone refuses them)."""
    qos = participant_qos(enclave)
    properties = security_policies(enclave, logger)
    if not properties:
        return DomainParticipant(domain_id(), qos=qos)
    try:
        return DomainParticipant(domain_id(), qos=Qos(*qos, *properties))
    except DDSException as error:
        raise SecurityError(f"DDS Security refused the keys of enclave {enclave} ({error}); Cyclone DDS's log above "
                            "says why (e.g. a certificate or signature not from this keystore's CAs)") from error


def _node_logger(node_name: str, level: str | None) -> logging.Logger:
    """The node's logger; a ROS-like console format unless the application configured logging itself."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="[%(levelname)s] [%(created).3f] [%(name)s]: %(message)s")
    logger = logging.getLogger(node_name)
    if level is not None:
        numeric = logging.getLevelName(level.upper())
        if not isinstance(numeric, int):
            raise ValueError(f"unknown log level {level!r}; use debug, info, warn, error or fatal")
        logger.setLevel(numeric)
    return logger
