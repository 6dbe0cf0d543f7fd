"""A participant of the keys test (test_keys_dds.py), run as its own process with its own binding and keys (or none).

    python keyed_peer.py command VALUE    # publish TwistStamped linear.x=VALUE at 20 Hz on the velocity command topic
    python keyed_peer.py weights VERSION  # publish the trained policy's bundle as VERSION (latched) on /rig/weights
    python keyed_peer.py listen           # count the camera frames and velocity commands it receives

It prints ``refused: ...`` and exits 3 when its enclave may not publish, ``sent N`` / ``frames N`` and
``commands N`` as it goes.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

from graph_params import TRAINED_POLICY
from rig_trainer_node.messages import weights_msg

from rig_core.weights import read_weights_file
from rig_transport import COMMAND, LATCHED, SENSOR_DATA
from rig_transport.dds_backend import DDSTransport
from rig_transport.security import SecurityError

PERIOD_S = 0.05


def main(role: str, value: str = "") -> int:
    transport = DDSTransport(f"keyed_peer_{role}", argv=[])
    try:
        if role == "command":
            publisher = transport.create_publisher("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
        elif role == "weights":
            publisher = transport.create_publisher("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED)
    except SecurityError as error:
        print(f"refused: {error}", flush=True)
        transport.shutdown()
        return 3
    sent = 0
    if role == "command":

        def send() -> None:
            nonlocal sent
            msg = transport.new("geometry_msgs/msg/TwistStamped")
            msg.twist.linear.x = float(value)
            publisher.publish(msg)
            sent += 1
            print(f"sent {sent}", flush=True)

        transport.create_timer(PERIOD_S, send)
    elif role == "weights":
        bundle = dataclasses.replace(read_weights_file(TRAINED_POLICY), version=int(value))
        publisher.publish(weights_msg(transport, bundle, transport.now()))
        print("sent 1", flush=True)
    else:
        counts = {"frames": 0, "commands": 0}

        def counter(what: str) -> Callable[[object], None]:
            def count(_msg: object) -> None:
                counts[what] += 1

            return count

        transport.create_subscription("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA, counter("frames"))
        transport.create_subscription("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND,
                                      counter("commands"))  # fmt: skip
        transport.create_timer(0.5, lambda: print(f"frames {counts['frames']}\ncommands {counts['commands']}", flush=True))
    transport.spin()
    transport.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
