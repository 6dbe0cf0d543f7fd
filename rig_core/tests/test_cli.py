"""End to end through the `rig` command: tiny real runs on each task (real MuJoCo, real files), eval on a
goal image, determinism, resume after a crash or Ctrl-C with no stored transition lost, clear errors."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from rig_core.agent import RIGAgent
from rig_core.checkpoint import load_checkpoint
from rig_core.cli import main
from rig_core.envs import make_task
from rig_core.images import write_rgb
from rig_core.policy import load_trained
from rig_core.replay_log import ReplayLog
from rig_core.train import Run
from rig_core.weights import load_policy_weights, read_weights_file

TINY = [
    "vae.num_images=64", "vae.pretrain_epochs=2", "vae.batches_per_epoch=2", "vae.batch_size=16",
    "vae.online_every=100", "vae.online_batches=2", "td3.batch_size=32", "td3.hidden_sizes=32,32",
    "train.updates_per_step=1", "train.min_steps_before_training=20", "train.eval_every=100",
    "train.eval_episodes=1", "train.checkpoint_every=100",
]  # fmt: skip
RIG = str(Path(sys.executable).parent / "rig")  # the installed console script
HORIZON = {"visual-reacher": 50, "visual-pusher": 100, "visual-multi-pusher": 100}


def tiny_train_args(task: str, out: Path, steps: int, *extra: str) -> list[str]:
    sets = [arg for item in TINY for arg in ("--set", item)]
    return ["train", "--task", task, "--env-steps", str(steps), "--out", str(out), "--no-progress", *sets, *extra]


def rig(*args: str) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    return subprocess.run([RIG, *args], capture_output=True, text=True, timeout=300)


def metrics_rows(out: Path) -> list[dict[str, str]]:
    with (out / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def assert_counters_never_go_back(rows: list[dict[str, str]]) -> None:
    for name in ("env_steps", "episodes", "wall_time_s", "td3_updates", "vae_steps"):
        values = [float(row[name]) for row in rows]
        assert values == sorted(values), (name, values)
    steps = [row["env_steps"] for row in rows]
    assert len(set(steps)) == len(steps), steps


@pytest.mark.parametrize("task", list(HORIZON))
def test_train_then_eval_on_each_task(task, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(tiny_train_args(task, out, 2 * HORIZON[task], "--image-size", "48")) == 0
    rows = metrics_rows(out)
    assert [int(row["env_steps"]) for row in rows] == list(range(100, 2 * HORIZON[task] + 1, 100))
    primary = {"visual-reacher": "final_hand_distance", "visual-pusher": "final_hand_and_puck_distance",
               "visual-multi-pusher": "final_total_distance"}[task]  # fmt: skip
    assert float(rows[-1][primary]) >= 0.0 and float(rows[-1]["critic_loss"]) >= 0.0
    for picture in ("learning_curve.png", "vae_samples.png"):
        assert cv2.imread(str(out / picture)) is not None
    assert (out / "checkpoint" / "models.safetensors").is_file()
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out), "--episodes", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == task and report["episodes"] == 2 and report["trained_env_steps"] == 2 * HORIZON[task]
    assert report["goal_clip_std"] == 0.0  # goal latents are not clamped by default
    assert report[primary] >= 0.0 and report["final_hand_distance"] >= report["hand_distance_floor"] - 0.005
    if task == "visual-reacher":  # seed 0's two goals: one in reach, one beyond the hand's box (floor 0.093 m)
        assert report["out_of_reach_goals"] == 1 and report["hand_distance_floor"] == pytest.approx(0.093 / 2, abs=1e-3)
        assert report["final_hand_distance_out_of_reach"] >= 0.093 - 0.005
        halves = report["final_hand_distance_reachable"] + report["final_hand_distance_out_of_reach"]
        assert halves / 2 == pytest.approx(report["final_hand_distance"])
        assert main(["eval", "--checkpoint", str(out), "--episodes", "2", "--goal-clip-std", "3"]) == 0
        assert json.loads(capsys.readouterr().out)["goal_clip_std"] == 3.0
    else:
        assert report["hand_distance_floor"] == 0.0 and "out_of_reach_goals" not in report
    if task == "visual-multi-pusher":  # the variable-object test: one puck in the scene, one in the metric
        assert report["pucks_present"] == 2 and "final_puck2_distance" in report
        assert main(["eval", "--checkpoint", str(out), "--episodes", "2", "--pucks", "1"]) == 0
        one = json.loads(capsys.readouterr().out)
        assert one["pucks_present"] == 1 and "final_puck2_distance" not in one
        assert one["final_total_distance"] == pytest.approx(one["final_hand_distance"] + one["final_puck1_distance"])
        assert main(["eval", "--checkpoint", str(out), "--pucks", "3"]) == 1
        assert "pucks present must be 0-2" in capsys.readouterr().err


def test_eval_towards_a_goal_image_file(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(tiny_train_args("visual-reacher", out, 50, "--image-size", "48")) == 0
    env = make_task("visual-reacher", image_size=84, seed=0)  # a larger image: eval resizes it
    goal_file = tmp_path / "goal.png"
    write_rgb(goal_file, env.render_state(env.sample_goal_state(np.random.default_rng(5))))
    env.close()
    capsys.readouterr()
    strip = tmp_path / "strip.png"
    assert main(["eval", "--checkpoint", str(out / "checkpoint"), "--goal-image", str(goal_file), "--strip", str(strip)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["final_latent_distance"] >= 0.0 and len(report["final_state"]) == 2
    assert report["goal_alignment"].startswith("goal image") and isinstance(report["goal_warning"], str)
    assert cv2.imread(str(strip)).shape == (2 * 48, 2 * 48 * 9, 3)  # 8 frames + the goal, scaled x2

    capsys.readouterr()
    assert main(["export", "--checkpoint", str(out), "--out", str(tmp_path / "policy.safetensors"), "--version", "4"]) == 0
    report = json.loads(capsys.readouterr().out)
    bundle = read_weights_file(tmp_path / "policy.safetensors")
    assert (bundle.version, bundle.sha256, bundle.task, bundle.image_size) == (4, report["sha256"], "visual-reacher", 48)
    trained, env, _ = load_trained(out / "checkpoint")
    env.close()
    fresh = RIGAgent(trained.config, state_dim=0, action_dim=2)
    load_policy_weights(fresh, bundle)  # every check passes, and it acts as the checkpoint's policy does
    images = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 3), dtype=np.uint8)
    latents = trained.encode(images)
    np.testing.assert_allclose(fresh.encode(images), latents, atol=1e-6)
    np.testing.assert_allclose(fresh.act(latents, latents[::-1].copy()), trained.act(latents, latents[::-1].copy()), atol=1e-6)


def test_oracle_and_relabelling_flags_reach_the_saved_config(tmp_path):
    out = tmp_path / "oracle"
    assert main(tiny_train_args("visual-reacher", out, 50, "--oracle", "--relabel", "future")) == 0
    config = json.loads((out / "checkpoint" / "config.json").read_text())
    assert config["oracle"] is True and config["replay"]["relabel"] == "future"
    assert not (out / "vae_samples.png").exists()  # no VAE in the Oracle


def test_same_seed_gives_the_same_run(tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(tiny_train_args("visual-reacher", out, 100, "--image-size", "48", "--seed", "7")) == 0
    first, second = (metrics_rows(out) for out in outs)
    for row in (*first, *second):
        row.pop("wall_time_s")
    assert first == second
    logs = [list(ReplayLog(out / "replay").read()) for out in outs]
    for (_, a), (_, b) in zip(*logs):
        np.testing.assert_array_equal(a.action, b.action)
        np.testing.assert_array_equal(a.next_obs_image, b.next_obs_image)


def _start_training(out: Path, steps: int) -> subprocess.Popen:
    args = tiny_train_args("visual-reacher", out, steps, "--image-size", "48", "--set", "train.checkpoint_every=100000")
    # A shell's background job inherits SIGINT ignored, which Python keeps; Ctrl-C must reach this child.
    return subprocess.Popen([RIG, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def _wait_for_episodes(out: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 240
    while len(list((out / "replay").glob("episode_*.safetensors"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "training produced no episodes"
        time.sleep(0.05)


def test_resume_after_a_crash_loses_no_transitions(tmp_path, capsys):
    out = tmp_path / "run"
    process = _start_training(out, steps=5000)
    _wait_for_episodes(out, 3, process)
    process.kill()  # a crash: no chance to save anything more
    process.wait()
    logged = {index: episode for index, episode in ReplayLog(out / "replay").read()}
    assert len(logged) >= 3
    evaluated = metrics_rows(out)  # at 100 env steps, by networks whose training the crash lost (checkpoint: 0 steps)
    assert evaluated and load_checkpoint(out / "checkpoint").state["counters"]["last_eval"] == 0
    run = Run(load_checkpoint(out / "checkpoint").config, out, progress=False)
    run.restore()  # exactly what `rig train --resume` does first; then inspect the buffer
    stored = sum(len(episode) for episode in logged.values())
    assert len(run.buffer) == run.counters.env_steps == stored
    np.testing.assert_array_equal(run.buffer.action[:stored], np.concatenate([logged[i].action for i in sorted(logged)]))
    run.env.close()
    assert metrics_rows(out) == []
    assert f"{len(evaluated)} metrics row(s) after the checkpoint dropped" in capsys.readouterr().err
    result = rig("train", "--resume", str(out), "--env-steps", str(stored + 100), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert f"continuing {out} from {stored} to {stored + 100} env steps" in result.stderr
    rows = metrics_rows(out)
    assert int(rows[-1]["env_steps"]) == stored + 100
    assert_counters_never_go_back(rows)
    for index, episode in ReplayLog(out / "replay").read():  # what was stored before the crash is still there
        if index in logged:
            np.testing.assert_array_equal(episode.next_obs_image, logged[index].next_obs_image)


@pytest.mark.parametrize(("signum", "code", "how"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_ctrl_c_or_sigterm_saves_a_checkpoint_and_resume_continues(tmp_path, signum, code, how):
    """SIGTERM is what `docker stop`, systemd and `kill` send: handled as Ctrl-C is."""
    out = tmp_path / "run"
    process = _start_training(out, steps=5000)
    _wait_for_episodes(out, 3, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code and "Traceback" not in stderr, stderr
    assert f"rig train: interrupted ({how}); a checkpoint was saved, continue with --resume" in stderr
    steps = json.loads((out / "checkpoint" / "state.json").read_text())["counters"]["env_steps"]
    assert steps >= 100  # the episodes finished before the signal, less the one in progress (collected again)
    before = metrics_rows(out)
    result = rig("train", "--resume", str(out), "--env-steps", str(steps + 100), "--no-progress")
    assert result.returncode == 0 and f"continuing {out} from {steps} to {steps + 100} env steps" in result.stderr
    rows = metrics_rows(out)
    assert before and rows[: len(before)] == before and int(rows[-1]["env_steps"]) == steps + 100
    assert_counters_never_go_back(rows)


def test_resume_says_what_it_does(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(tiny_train_args("visual-reacher", out, 50, "--image-size", "48")) == 0
    rows = metrics_rows(out)
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0  # complete: nothing to do
    printed = capsys.readouterr()
    assert f"nothing to do: {out} has 50 env steps (budget 50); give --env-steps above 50" in printed.err
    assert json.loads(printed.out)["final_hand_distance"] == float(rows[-1]["final_hand_distance"])
    assert metrics_rows(out) == rows
    assert main(["train", "--resume", str(out), "--env-steps", "100", "--no-progress"]) == 0
    assert f"continuing {out} from 50 to 100 env steps" in capsys.readouterr().err
    assert [row["env_steps"] for row in metrics_rows(out)] == ["50", "100"]


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp: ["train", "--task", "visual-juggler", "--out", str(tmp)], "invalid choice"),
        (lambda tmp: ["train", "--env-steps", "-5", "--out", str(tmp)], "must be positive"),
        (lambda tmp: ["train", "--task", "visual-reacher"], "--out"),
        (lambda tmp: ["train", "--out", str(tmp), "--set", "vae.latent_dim=big"], "expected int"),
        (lambda tmp: ["eval", "--checkpoint", str(tmp / "nowhere")], "does not exist"),
        (lambda tmp: ["eval", "--checkpoint", str(tmp), "--goal-clip-std", "-1"], "must be a finite number >= 0"),
        (lambda tmp: ["train", "--resume", str(tmp / "nowhere")], "does not exist"),
        *[(lambda tmp, o=option: ["train", "--resume", str(tmp), *o], f"{option[0]} cannot change a resumed run")
          for option in (["--task", "visual-pusher"], ["--seed", "0"], ["--oracle"], ["--relabel", "future"],
                         ["--image-size", "48"], ["--set", "vae.beta=1"], ["--out", "elsewhere"])],
        (lambda tmp: ["eval", "--checkpoint", str(tmp), "--goal-image", "g.png", "--episodes", "3"], "--episodes counts"),
        (lambda tmp: ["eval", "--checkpoint", str(tmp), "--strip", "strip.png"], "give --goal-image too"),
        (lambda tmp: ["eval", "--checkpoint", str(tmp), "--raw-goal"], "--raw-goal is about a --goal-image"),
    ],
)  # fmt: skip
def test_bad_arguments_give_one_error_line_and_no_traceback(tmp_path, make_args, message):
    args = make_args(tmp_path)
    result = rig(*args)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert result.stderr.startswith(f"rig {args[0]}: error: "), result.stderr  # one prefix per subcommand


def test_corrupt_checkpoint_and_unreadable_goal_image_are_clear_errors(tmp_path):
    out = tmp_path / "run"
    assert main(tiny_train_args("visual-reacher", out, 50, "--image-size", "48")) == 0
    not_an_image = tmp_path / "goal.png"
    not_an_image.write_bytes(b"this is not a png")
    result = rig("eval", "--checkpoint", str(out), "--goal-image", str(not_an_image))
    assert result.returncode == 1 and "not a readable image" in result.stderr and "Traceback" not in result.stderr
    models = out / "checkpoint" / "models.safetensors"
    models.write_bytes(models.read_bytes()[:-100])
    result = rig("eval", "--checkpoint", str(out))
    assert result.returncode == 1 and "corrupt" in result.stderr and "Traceback" not in result.stderr
    result = rig("train", "--out", str(out))
    assert result.returncode == 1 and "--resume" in result.stderr


def test_a_run_can_start_from_another_runs_pretrained_vae(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(tiny_train_args("visual-reacher", first, 50, "--image-size", "48")) == 0
    args = tiny_train_args(
        "visual-reacher", second, 50, "--image-size", "48", "--relabel", "none", "--set", f"train.vae_from={first}"
    )
    assert main(args) == 0
    from safetensors.numpy import load_file

    pretrained = load_file(str(first / "vae_pretrained.safetensors"))
    assert not (second / "vae_pretrained.safetensors").exists()
    assert int(metrics_rows(second)[-1]["vae_steps"]) == 0  # no pretraining of its own
    np.testing.assert_array_equal(pretrained["prior.mean"].shape, (16,))
    result = rig("train", "--out", str(tmp_path / "third"), "--set", f"train.vae_from={tmp_path / 'nowhere'}", "--no-progress")
    assert result.returncode == 1 and "pretrained VAE" in result.stderr
