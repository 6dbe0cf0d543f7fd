"""The model images in process, on a real DDS transport (the test's own domain): nothing is decoded or published
while no reader is matched; once one is, every image goes out, at most once per period."""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_policy_logic import HORIZON, frame, policy_config, weights

from rig_policy_node.controller import PolicyController
from rig_policy_node.model_images import TOPICS, VIEWING_QOS, ModelImages, strip_image
from rig_transport.dds_backend import DDSTransport
from rig_transport.testing import TIMEOUT_S


@pytest.fixture
def transports():
    made = [DDSTransport("policy_node", argv=[]), DDSTransport("viewer", argv=[])]
    yield made
    for transport in made:
        transport.shutdown()


def test_nothing_is_decoded_until_a_viewer_subscribes(transports, monkeypatch):
    policy, viewer = transports
    controller = PolicyController(policy_config(), HORIZON, False, np.random.default_rng(0))
    controller.load_weights(weights())
    controller.observe(frame(7))
    controller.tick()
    decoded = []
    decode = controller.agent.decode
    monkeypatch.setattr(controller.agent, "decode", lambda latents: decoded.append(len(latents)) or decode(latents))
    images = ModelImages(policy, controller, rate_hz=1e-3)  # one period: the rest of the test
    stamp = policy.now()
    assert images.publish_if_due(stamp, "rig_camera") == [] and decoded == []
    for topic in TOPICS:
        viewer.create_subscription(topic, "sensor_msgs/msg/Image", VIEWING_QOS, lambda _msg: None)
    deadline = time.monotonic() + TIMEOUT_S
    while len(images.watched()) < len(TOPICS):  # until discovery has matched the viewer's three readers
        if time.monotonic() > deadline:
            pytest.fail(f"the viewer's readers not matched within {TIMEOUT_S} s: {images.watched()}")
        time.sleep(0.05)
    assert sorted(images.publish_if_due(stamp, "rig_camera")) == sorted(TOPICS)
    assert decoded  # the reconstruction and the imagined goal
    assert images.publish_if_due(stamp, "rig_camera") == []  # not due again within the period


def test_a_strip_marks_missing_images():
    strip = strip_image([("camera frame", frame(200)), ("reconstruction", None), ("goal", None)], 48)
    assert strip.dtype == np.uint8 and strip.shape[2] == 3
    assert len(np.unique(strip[-10:, -10:])) == 1 and strip[-1, -1, 0] != 200  # grey, not the frame
