"""A DDS node in its own process for the transport tests: ``python peer.py ROLE PREFIX``.

Roles:
  talker  publishes a Transition (REPLAY QoS) and an Image (SENSOR_DATA QoS) every 50 ms, numbered.
  latched publishes one ModelWeights on a LATCHED topic, prints ``published``, then spins.
  echo    prints every String it receives as a JSON line; the message "raise" makes its callback raise.
  graph   has a publisher on PREFIX/out (sending nothing) and a subscription to PREFIX/in; prints ``ready`` once spinning.
Every role spins until SIGINT or SIGTERM and then exits normally.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from rig_transport import LATCHED, REPLAY, SENSOR_DATA, STATUS, MessageFactory, Transport
from rig_transport.dds_backend import DDSTransport

TIMEOUT_S = 20.0
"""Generous limit for any wait in the tests (discovery on a loaded machine); never a timing assertion."""


def image(factory: MessageFactory, seed: int, frame_id: str = "rig_camera") -> object:
    """An 84x84 rgb8 image of seeded noise."""
    pixels = np.random.default_rng(seed).integers(0, 256, 84 * 84 * 3, dtype=np.uint8)
    header = factory.new(
        "std_msgs/msg/Header", stamp=factory.new("builtin_interfaces/msg/Time", sec=seed, nanosec=9), frame_id=frame_id
    )
    return factory.new("sensor_msgs/msg/Image", header=header, height=84, width=84, encoding="rgb8", step=252, data=pixels)


def transition(factory: MessageFactory, number: int) -> object:
    """Transition ``number`` of a deterministic rollout."""
    return factory.new(
        "rig_msgs/msg/Transition",
        header=factory.new("std_msgs/msg/Header", frame_id="rig_camera"),
        robot_id="sawyer_ü1",
        episode_id=2**40 + number,
        step=number,
        observation=image(factory, number),
        action=np.array([0.5, -1.0, 0.25], np.float32),
        next_observation=image(factory, number + 1),
        goal_latent=np.linspace(-2, 2, 16, dtype=np.float32),
        episode_end=number % 2 == 1,
        weights_version=7,
    )


def weights(factory: MessageFactory) -> object:
    """A small ModelWeights bundle."""
    return factory.new(
        "rig_msgs/msg/ModelWeights", format="rig-weights/1 safetensors", version=3, sha256="ab" * 32,
        task="visual-reacher", image_size=84, latent_dim=16, action_dim=3, data=bytes(range(256)) * 40,
    )  # fmt: skip


def talker(transport: Transport, prefix: str) -> None:
    transitions = transport.create_publisher(f"{prefix}/transitions", "rig_msgs/msg/Transition", REPLAY)
    images = transport.create_publisher(f"{prefix}/image", "sensor_msgs/msg/Image", SENSOR_DATA)
    count = iter(range(sys.maxsize))

    def tick() -> None:
        number = next(count)
        transitions.publish(transition(transport, number))
        images.publish(image(transport, number))

    transport.create_timer(0.05, tick)


def latched(transport: Transport, prefix: str) -> None:
    transport.create_publisher(f"{prefix}/weights", "rig_msgs/msg/ModelWeights", LATCHED).publish(weights(transport))
    print("published", flush=True)


def echo(transport: Transport, prefix: str) -> None:
    def on_message(msg: object) -> None:
        if msg.data == "raise":
            raise RuntimeError("callback failure on purpose")
        print(json.dumps({"data": msg.data}), flush=True)

    transport.create_subscription(f"{prefix}/in", "std_msgs/msg/String", STATUS, on_message)


def graph(transport: Transport, prefix: str) -> None:
    transport.create_publisher(f"{prefix}/out", "std_msgs/msg/String", STATUS)
    transport.create_subscription(f"{prefix}/in", "std_msgs/msg/String", STATUS, lambda msg: None)

    def ready() -> None:  # from the executor: spin() has installed its signal handlers by now
        print("ready", flush=True)
        timer.cancel()

    timer = transport.create_timer(0.01, ready)


def main() -> None:
    role, prefix = sys.argv[1], sys.argv[2]
    transport = DDSTransport(f"peer_{role}", argv=[])
    {"talker": talker, "latched": latched, "echo": echo, "graph": graph}[role](transport, prefix)
    transport.spin()
    transport.shutdown()
    print("spin returned", flush=True)


if __name__ == "__main__":
    main()
