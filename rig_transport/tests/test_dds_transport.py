"""The DDS backend between real processes on loopback: values intact, QoS behaviour, callbacks that raise,
signals, timers. Waits have generous timeouts; nothing asserts how long anything took."""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
import time

import numpy as np
import pytest
from cyclonedds.core import Policy
from peer import TIMEOUT_S, image, transition, weights

from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS, QoSProfile
from rig_transport.dds_backend import DDSTransport, dds_qos, dds_topic_name, domain_id, use_loopback_if_requested
from rig_transport.dds_types import default_types
from rig_transport.images import image_to_rgb


def received(transport: DDSTransport, topic: str, type_name: str, qos: QoSProfile) -> queue.Queue:
    """A queue that a subscription on ``topic`` fills."""
    messages: queue.Queue = queue.Queue()
    transport.create_subscription(topic, type_name, qos, messages.put)
    return messages


def assert_same_message(actual, expected) -> None:
    """Field-by-field equality of two DDS messages (sequences compared as lists)."""
    for name in expected.__dataclass_fields__:
        want, got = getattr(expected, name), getattr(actual, name)
        if hasattr(want, "__dataclass_fields__"):
            assert_same_message(got, want)
        else:
            assert list(got) == list(want) if isinstance(want, (bytes, list)) else got == want, name


def test_transition_and_image_arrive_intact_from_another_process(make_node, start_peer, prefix):
    node = make_node("listener")
    transitions = received(node.transport, f"{prefix}/transitions", "rig_msgs/msg/Transition", REPLAY)
    images = received(node.transport, f"{prefix}/image", "sensor_msgs/msg/Image", SENSOR_DATA)  # best effort both ends
    node.start()
    talker = start_peer("talker", prefix)

    got = transitions.get(timeout=TIMEOUT_S)
    assert_same_message(got, transition(default_types(), got.step))
    assert (got.robot_id, got.episode_id - got.step, got.weights_version) == ("sawyer_ü1", 2**40, 7)
    assert np.array_equal(
        image_to_rgb(got.observation).reshape(-1), image_to_rgb(image(default_types(), got.step)).reshape(-1)
    )
    assert np.asarray(got.action, np.float32).tolist() == [0.5, -1.0, 0.25]

    frame = images.get(timeout=TIMEOUT_S)
    assert_same_message(frame, image(default_types(), frame.header.stamp.sec))
    assert image_to_rgb(frame).shape == (84, 84, 3)
    assert talker.stop(signal.SIGTERM) == 0


def test_late_subscriber_gets_the_latched_message(make_node, start_peer, prefix):
    peer = start_peer("latched", prefix)
    peer.wait_for_line(lambda line: line == "published")
    node = make_node("late_joiner")
    bundles = received(node.transport, f"{prefix}/weights", "rig_msgs/msg/ModelWeights", LATCHED)
    node.start()
    assert_same_message(bundles.get(timeout=TIMEOUT_S), weights(default_types()))
    assert peer.stop(signal.SIGINT) == 0


def test_callback_that_raises_does_not_stop_the_other_process(make_node, start_peer, prefix):
    echo = start_peer("echo", prefix)
    node = make_node("sender")
    publisher = node.transport.create_publisher(f"{prefix}/in", "std_msgs/msg/String", STATUS)
    sequence = iter(["raise", "after"] * 10_000)
    node.transport.create_timer(
        0.05, lambda: publisher.publish(node.transport.new("std_msgs/msg/String", data=next(sequence)))
    )
    node.start()
    # Reliable and ordered: between two handled "after" messages a "raise" was delivered and its callback raised.
    for _ in range(2):
        assert json.loads(echo.wait_for_line(lambda line: line.startswith("{"))) == {"data": "after"}
    assert echo.stop(signal.SIGINT) == 0
    log = echo.stderr_path.read_text()
    assert "subscription callback for" in log and "RuntimeError: callback failure on purpose" in log
    assert "Traceback" in log


def test_callback_that_raises_in_process_keeps_the_node_running(make_node, prefix, caplog):
    node = make_node("self_talk")
    publisher = node.transport.create_publisher(f"{prefix}/numbers", "std_msgs/msg/String", STATUS)
    handled: queue.Queue = queue.Queue()

    def on_number(msg) -> None:
        if msg.data == "0":
            raise ValueError("bad number")
        handled.put(msg.data)

    node.transport.create_subscription(f"{prefix}/numbers", "std_msgs/msg/String", STATUS, on_number)
    ticks = iter(range(10_000))
    node.transport.create_timer(
        0.02, lambda: publisher.publish(node.transport.new("std_msgs/msg/String", data=str(next(ticks))))
    )
    node.start()
    assert handled.get(timeout=TIMEOUT_S) == "1"  # "0" was published first and its callback raised
    assert "ValueError: bad number" in caplog.text


def test_a_timer_that_raises_keeps_firing_and_a_cancelled_one_stops(make_node, caplog):
    node = make_node("timers")
    calls: queue.Queue = queue.Queue()

    def failing() -> None:
        calls.put("tick")
        raise RuntimeError("timer failure")

    timer = node.transport.create_timer(0.01, failing)
    node.start()
    assert [calls.get(timeout=TIMEOUT_S) for _ in range(3)] == ["tick"] * 3
    timer.cancel()
    assert "RuntimeError: timer failure" in caplog.text


def test_shutdown_from_a_callback_ends_spin(prefix):
    transport = DDSTransport("quitter", argv=[])
    transport.create_timer(0.01, transport.shutdown)
    worker = threading.Thread(target=transport.spin)
    worker.start()
    worker.join(TIMEOUT_S)
    assert not worker.is_alive()
    transport.shutdown()  # idempotent


def test_publishing_the_wrong_type_is_a_clear_error(make_node, prefix):
    node = make_node("typed")
    publisher = node.transport.create_publisher(f"{prefix}/cmd", "geometry_msgs/msg/TwistStamped", COMMAND)
    with pytest.raises(TypeError, match="carries geometry_msgs/msg/TwistStamped, got String_"):
        publisher.publish(node.transport.new("std_msgs/msg/String"))
    with pytest.raises(ValueError, match="already used with type geometry_msgs/msg/TwistStamped"):
        node.transport.create_subscription(f"{prefix}/cmd", "std_msgs/msg/String", STATUS, print)


def test_qos_mapping_follows_rmw_cyclonedds():
    type_hash = default_types().type_hash("sensor_msgs/msg/Image")
    sensor = dds_qos(SENSOR_DATA, type_hash, writer=False)
    assert sensor[Policy.Reliability] == Policy.Reliability.BestEffort
    assert sensor[Policy.History] == Policy.History.KeepLast(1)
    assert sensor[Policy.Durability] == Policy.Durability.Volatile
    assert sensor[Policy.DataRepresentation] == Policy.DataRepresentation(use_cdrv0_representation=True)
    assert sensor[Policy.Userdata] == Policy.Userdata(f"typehash={type_hash};".encode())
    latched = dds_qos(LATCHED, type_hash, writer=True)
    assert isinstance(latched[Policy.Reliability], Policy.Reliability.Reliable)
    assert latched[Policy.Durability] == Policy.Durability.TransientLocal
    assert latched[Policy.DurabilityService].history == Policy.History.KeepLast(1)
    assert latched[Policy.WriterDataLifecycle] == Policy.WriterDataLifecycle(autodispose=False)
    assert dds_qos(REPLAY, type_hash, writer=False)[Policy.History] == Policy.History.KeepLast(1000)


def test_names_and_environment(monkeypatch):
    assert dds_topic_name("/rig/camera/image_raw", "n") == "rt/rig/camera/image_raw"
    assert dds_topic_name("chatter", "n") == "rt/chatter"
    assert dds_topic_name("~/status", "policy") == "rt/policy/status"
    with pytest.raises(ValueError, match="invalid topic name"):
        dds_topic_name("/rig//x", "n")
    monkeypatch.setenv("ROS_DOMAIN_ID", "")
    assert domain_id() == 0
    monkeypatch.setenv("ROS_DOMAIN_ID", "232")
    assert domain_id() == 232
    monkeypatch.setenv("ROS_DOMAIN_ID", "233")
    with pytest.raises(ValueError, match="ROS_DOMAIN_ID must be an integer in 0..232"):
        domain_id()
    monkeypatch.delenv("CYCLONEDDS_URI")
    monkeypatch.setenv("RIG_DDS_LOOPBACK", "1")
    use_loopback_if_requested()
    assert '<NetworkInterface name="lo"/>' in os.environ["CYCLONEDDS_URI"]


def test_subscription_count_follows_matched_readers(make_node, prefix):
    writer_node = make_node("counted_writer")
    publisher = writer_node.transport.create_publisher(f"{prefix}/images", "sensor_msgs/msg/Image", COMMAND)
    assert publisher.get_subscription_count() == 0  # a domain and topic of this test alone: nobody reads yet
    reader_node = make_node("counting_reader")
    reader_node.transport.create_subscription(f"{prefix}/images", "sensor_msgs/msg/Image", SENSOR_DATA, lambda _: None)
    wait_until(lambda: publisher.get_subscription_count() >= 1, "the reader matched")
    reader_node.stop()
    wait_until(lambda: publisher.get_subscription_count() == 0, "the reader gone")


def wait_until(condition, what: str) -> None:
    """Poll ``condition`` until it holds (fail after TIMEOUT_S: discovery on a loaded machine)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not {what} within {TIMEOUT_S} s")
        time.sleep(0.05)
