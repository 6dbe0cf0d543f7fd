"""Learning from a recording: transitions published over real DDS, recorded by `rig record`, trained on by `rig train
--from-bag`; the run's replay log holds exactly the recorded transitions, and a damaged bag is one error line."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rig_launch.bag_writer import SplitBagWriter
from rig_launch.record import serialize
from rig_launch.topics import TOPICS
from transitions import SIZE, TINY, episode

from rig_core.cli import main
from rig_core.replay_log import ReplayLog
from rig_transport import REPLAY, STATUS
from rig_transport.dds_types import default_types
from rig_transport.scripts import installed_script
from rig_transport.testing import wait_until_matched

RIG = installed_script("rig")
HORIZON = 10
EPISODES = 6
VAE_EPISODES = 2
"""The first episodes' images (11 each: every observation and the last next_observation) pretrain the VAE."""
SETS = [item for override in [*TINY.split(";"), f"vae.num_images={VAE_EPISODES * (HORIZON + 1)}"]
        for item in ("--set", override)]  # fmt: skip


def rig(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RIG, *args], capture_output=True, text=True, timeout=600)


def test_rig_train_from_a_recording_fills_the_replay_buffer_with_its_transitions(test_node, start_node, tmp_path):
    bag, out = tmp_path / "bag", tmp_path / "offline"
    recorder = start_node("rig_record", {}, [RIG, "record", "--out", str(bag), "--topics", "/rig/replay/transitions"])
    transport = test_node.transport
    publisher = transport.create_publisher("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
    test_node.start()
    wait_until_matched(publisher, recorder)
    sent = [episode(transport, "sawyer_a", episode_id, HORIZON) for episode_id in range(EPISODES)]
    for msg in (msg for steps in sent for msg in steps):
        publisher.publish(msg)
    recorder.wait_for_log(f"rig record: {EPISODES * HORIZON} messages so far")  # the one topic recorded
    assert recorder.stop(signal.SIGTERM) == 0, recorder.log()  # SIGTERM closes the bag as Ctrl-C does

    result = rig("train", "--from-bag", str(bag), "--out", str(out), "--image-size", str(SIZE), *SETS, "--no-progress")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    stored = EPISODES - VAE_EPISODES
    assert summary["transitions"] == EPISODES * HORIZON and summary["episodes"] == EPISODES
    assert summary["rejected"] == 0 and summary["replay_size"] == summary["env_steps"] == stored * HORIZON
    assert summary["td3_updates"] > 0
    logged = [logged for _, logged in ReplayLog(out / "replay").read()]
    assert len(logged) == stored
    for steps, logged_episode in zip(sent[VAE_EPISODES:], logged):
        def field(name: str, steps=steps) -> np.ndarray:
            return np.stack([np.frombuffer(getattr(msg, name).data, np.uint8).reshape(SIZE, SIZE, 3) for msg in steps])

        np.testing.assert_array_equal(logged_episode.obs_image, field("observation"))
        np.testing.assert_array_equal(logged_episode.next_obs_image, field("next_observation"))
        np.testing.assert_array_equal(logged_episode.action, np.array([msg.action for msg in steps], np.float32))
        np.testing.assert_array_equal(logged_episode.goal, np.array([msg.goal_latent for msg in steps], np.float32))

    retrained = rig("train", "--from-bag", str(bag), "--out", str(tmp_path / "retrained"), "--image-size", str(SIZE),
                    *SETS, "--set", f"train.vae_from={out}")  # the VAE of a run: every recorded transition is replay
    assert retrained.returncode == 0, retrained.stderr
    assert json.loads(retrained.stdout)["replay_size"] == EPISODES * HORIZON

    evaluation = rig("eval", "--checkpoint", str(out), "--episodes", "1")
    assert evaluation.returncode == 0, evaluation.stderr
    assert json.loads(evaluation.stdout)["trained_env_steps"] == stored * HORIZON


def write_bag(bag: Path, episodes: int) -> None:
    """A recording of ``episodes`` episodes of transitions, written in-process (`rig record`'s writer)."""
    types = default_types()
    writer = SplitBagWriter(bag, [TOPICS["/rig/replay/transitions"]], types.typestore)
    writer.open()
    sent = [msg for episode_id in range(episodes) for msg in episode(types, "sawyer_a", episode_id, HORIZON)]
    for index, msg in enumerate(sent):
        writer.write("/rig/replay/transitions", 1_000 + index, serialize(msg))
    writer.close()


def test_the_trainer_node_starts_from_a_recording(test_node, start_node, tmp_path):
    bag = tmp_path / "bag"
    write_bag(bag, EPISODES)
    status = test_node.listen("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS)
    test_node.start()
    overrides = f"{TINY};vae.num_images={VAE_EPISODES * (HORIZON + 1)}"
    params = {"image_size": SIZE, "out_dir": str(tmp_path / "run"), "config_overrides": overrides, "from_bag": str(bag)}
    trainer = start_node("rig_trainer_node", params)
    stored = (EPISODES - VAE_EPISODES) * HORIZON
    first = status.wait_for(lambda m: True, "the trainer's status", trainer)
    assert first.replay_size == stored and first.gradient_steps > 0 and first.transitions_received == 0
    assert trainer.stop(signal.SIGINT) == 0
    again = start_node("rig_trainer_node", params)  # the run holds the recording: it is not taken twice
    again.wait_for_log("from_bag")
    assert "holds a run already" in again.log()
    assert status.wait_for(lambda m: m.replay_size > 0, "the resumed trainer's status", again).replay_size == stored


def test_a_damaged_or_foreign_recording_is_one_error_line(tmp_path):
    bag = tmp_path / "good"
    write_bag(bag, 1)
    truncated, foreign, empty = (tmp_path / name for name in ("truncated", "foreign", "empty"))
    for copy in (truncated, foreign):
        shutil.copytree(bag, copy)
    (mcap,) = truncated.glob("*.mcap")
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])
    (foreign / mcap.name).write_bytes(b"this is not an MCAP file\n" * 100)
    empty.mkdir()
    for path, reason in [(truncated, "not a readable rosbag2 recording"), (foreign, "not a readable rosbag2 recording"),
                         (empty, "no metadata.yaml"), (tmp_path / "nowhere", "does not exist")]:  # fmt: skip
        result = rig("train", "--from-bag", str(path), "--out", str(tmp_path / f"run_{path.name}"), *SETS)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("rig train: error: ") and reason in result.stderr and str(path) in result.stderr


@pytest.mark.parametrize("extra, reason", [
    (["--env-steps", "100"], "--env-steps, --oracle and --device do not apply"),
    (["--oracle"], "--env-steps, --oracle and --device do not apply"),
    (["--resume", "somewhere"], "--resume continues one"),
])  # fmt: skip
def test_rig_train_from_bag_refuses_options_that_cannot_apply(tmp_path, capsys, extra, reason):
    bag = tmp_path / "bag"
    bag.mkdir()
    out = [] if "--resume" in extra else ["--out", str(tmp_path / "run")]
    assert main(["train", "--from-bag", str(bag), *out, *extra]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and reason in error, error
    assert not (tmp_path / "run").exists()
