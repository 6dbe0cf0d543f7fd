"""The trainer node as a process, over real DDS on loopback: the test plays the policy nodes."""

from __future__ import annotations

import hashlib
import json
import signal
import time

import numpy as np
from transitions import TINY, episode, transition

from rig_core.agent import RIGAgent
from rig_core.config import RigConfig
from rig_core.weights import WeightsBundle, load_policy_weights
from rig_transport import LATCHED, REPLAY, STATUS
from rig_transport.images import image_to_rgb

HORIZON = 20


def bundle_of(msg) -> WeightsBundle:
    return WeightsBundle(msg.format, msg.version, msg.sha256, msg.task, msg.image_size, msg.latent_dim, msg.action_dim,
                         msg.config_json, bytes(msg.data))  # fmt: skip


def test_trainer_node_pretrains_publishes_rejects_and_survives_a_crash(test_node, start_node, tmp_path):
    out = tmp_path / "run"
    params = {"image_size": 48, "out_dir": str(out), "weights_every_s": 0.5, "status_rate_hz": 5.0, "config_overrides": TINY}
    trainer = start_node("rig_trainer_node", params)
    transport = test_node.transport
    transitions = transport.create_publisher("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
    status = test_node.listen("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS)
    weights = test_node.listen("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED)
    samples = test_node.listen("/rig/trainer/vae_samples", "sensor_msgs/msg/Image", LATCHED)
    # Volatile reliable delivery starts once the trainer's reader has matched ours: probe until it counts one.
    probe = transport.create_timer(0.2, lambda: transitions.publish(transition(transport, "probe", 0, 0, HORIZON)))
    test_node.start()
    status.wait_for(lambda m: m.transitions_received >= 1, "the trainer counting a probe transition", trainer)
    probe.cancel()

    for episode_id in range(4):  # 4 x 21 random-exploration images >= vae.num_images = 64
        for msg in episode(transport, "sawyer_a", episode_id, HORIZON):
            transitions.publish(msg)
    first = weights.wait_for(lambda m: True, "weights after VAE pretraining", trainer)
    assert first.version == 1 and first.task == "visual-reacher" and first.image_size == 48
    bundle = bundle_of(first)
    assert hashlib.sha256(bundle.data).hexdigest() == first.sha256
    config = RigConfig.from_dict(json.loads(first.config_json))
    agent = RIGAgent(config, 0, 2)
    load_policy_weights(agent, bundle)  # raises if anything does not fit

    # After the VAE phase: 8 exploration images, their reconstructions and, in the last row, 8 imagined goals
    # (decoded prior samples of the weights' VAE and prior, the same draws every time), each pixel 2x2, labelled.
    grid = image_to_rgb(samples.wait_for(lambda m: True, "the VAE grid after pretraining", trainer))
    goals = agent.decode(agent.sample_prior(8, np.random.default_rng(0)))
    expected = np.repeat(np.repeat(np.concatenate(list(goals), axis=1), 2, axis=0), 2, axis=1)
    assert grid.shape[0] == 3 * expected.shape[0] and grid.shape[1] > expected.shape[1]  # labels on the left
    shown = grid[-expected.shape[0] :, -expected.shape[1] :].astype(int)
    assert np.abs(shown - expected).max() <= 1  # float rounding across processes

    bad_image = transport.new("sensor_msgs/msg/Image", height=32, width=32, encoding="rgb8", step=96, data=bytes(32 * 96))
    transitions.publish(transition(transport, "sawyer_b", 0, 0, HORIZON, observation=bad_image))
    status.wait_for(lambda m: "observation is 32x32" in m.last_error, "the rejection in the status", trainer)
    assert trainer.alive()

    for episode_id in range(4, 6):  # after pretraining: stored in the replay log, then trained on
        for msg in episode(transport, "sawyer_a", episode_id, HORIZON):
            transitions.publish(msg)
    status.wait_for(lambda m: m.replay_size == 2 * HORIZON, "both episodes in the replay buffer", trainer)
    assert trainer.stop(signal.SIGKILL) == -signal.SIGKILL
    killed_at = time.time()
    newest = max(m.version for m in [first, *weights.clear()])

    restarted = start_node("rig_trainer_node", params)
    resumed = status.wait_for(lambda m: m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 > killed_at,
                              "the restarted trainer's status", restarted)  # fmt: skip
    assert resumed.replay_size == 2 * HORIZON  # every stored transition is back
    again = weights.wait_for(lambda m: True, "weights of the restarted trainer", restarted)
    assert again.version > newest  # versions keep increasing across restarts
    assert restarted.stop(signal.SIGTERM) == 0  # as `docker stop` or systemd stop it: a checkpoint on the way out
    assert f"checkpoint at {2 * HORIZON} env steps" in restarted.log().split("SIGTERM received, shutting down")[1]
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["counters"]["env_steps"] == 2 * HORIZON and len(list((out / "replay").glob("*.safetensors"))) == 2
