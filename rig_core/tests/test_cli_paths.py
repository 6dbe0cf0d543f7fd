"""Every path a user hands a `rig` subcommand, when it is a file where a directory belongs (or the other way
round), lies under a file, cannot be written or runs out of space: one clear line naming it, exit code 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_cli import tiny_train_args

from rig_core.checkpoint import load_checkpoint
from rig_core.cli import main
from rig_core.images import write_rgb

FULL = Path("/dev/full")  # every write to it fails with ENOSPC: a disk with no space left


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished tiny run, and beside it a file and a goal image."""
    root = tmp_path_factory.mktemp("paths")
    assert main(tiny_train_args("visual-reacher", root / "run", 50, "--image-size", "48")) == 0
    (root / "notes.txt").write_text("a file, not a directory")
    write_rgb(root / "goal.png", np.zeros((48, 48, 3), np.uint8))
    return root / "run"


def fails(capsys, argv: list[str], message: str) -> None:
    """`rig ARGV` fails with exit code 1 and one stderr line ending in `message` (main returning, not raising,
    means no traceback)."""
    capsys.readouterr()
    assert main(argv) == 1
    lines = [line for line in capsys.readouterr().err.strip().splitlines() if ": continuing " not in line]  # --resume
    assert len(lines) == 1 and lines[0].startswith(f"rig {argv[0]}: error: ") and lines[0].endswith(message), lines


def test_train_out(trained, tmp_path, capsys):
    notes = trained.parent / "notes.txt"
    for out, message in [
        (notes, f"--out {notes}: cannot create it: {notes} is a file, not a directory"),
        (notes / "run", f"--out {notes}/run: cannot create it: {notes} is a file, not a directory"),
        (Path("/proc/rig-run"), "--out /proc/rig-run: cannot create it: no such file or directory"),
        (Path("/proc"), "--out /proc: cannot write in it: no such file or directory"),
    ]:
        fails(capsys, tiny_train_args("visual-reacher", out, 50), message)
    out = tmp_path / "full"  # the disk fills up during the run: the first picture cannot be written
    out.mkdir()
    (out / "vae_samples.png").symlink_to(FULL)
    fails(capsys, tiny_train_args("visual-reacher", out, 50, "--image-size", "48"),
          f"{out}/vae_samples.png: no space left on device")  # fmt: skip
    assert load_checkpoint(out / "checkpoint").state["counters"]["vae_pretrained"]  # what was done is saved


def test_train_resume(trained, tmp_path, capsys):
    notes, nowhere = trained.parent / "notes.txt", tmp_path / "nowhere"
    fails(capsys, ["train", "--resume", str(notes)], f"--resume {notes}: it is a file, not a directory")
    fails(capsys, ["train", "--resume", str(nowhere)], f"--resume {nowhere}: it does not exist")
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = load_checkpoint(run / "checkpoint").state
    (run / "checkpoint" / "models.safetensors.tmp").symlink_to(FULL)  # the disk is full when the checkpoint is written
    fails(capsys, ["train", "--resume", str(run), "--env-steps", "100", "--no-progress"],
          f"{run}/checkpoint/models.safetensors.tmp: no space left on device")  # fmt: skip
    assert load_checkpoint(run / "checkpoint").state == before  # the previous checkpoint is intact
    assert not (run / "checkpoint" / "models.safetensors.tmp").exists()


def test_eval_checkpoint_strip_and_goal_image(trained, tmp_path, capsys):
    notes, goal = trained.parent / "notes.txt", trained.parent / "goal.png"
    fails(capsys, ["eval", "--checkpoint", str(notes)], f"--checkpoint {notes}: it is a file, not a directory")
    fails(capsys, ["eval", "--checkpoint", str(tmp_path / "no")], f"--checkpoint {tmp_path}/no: it does not exist")
    (tmp_path / "full.png").symlink_to(FULL)
    for strip, message in [
        (tmp_path, f"--strip {tmp_path}: it is a directory, not a file"),
        (notes / "s.png", f"--strip {notes}/s.png: cannot create its directory: {notes} is a file, not a directory"),
        (Path("/proc/s.png"), "--strip /proc/s.png: cannot write it: no such file or directory"),
        (tmp_path / "full.png", f"--strip {tmp_path}/full.png: cannot write it: no space left on device"),
        (tmp_path / "s.xyz", f"{tmp_path}/s.xyz: no image format for .xyz (use .png)"),
    ]:
        fails(capsys, ["eval", "--checkpoint", str(trained), "--goal-image", str(goal), "--strip", str(strip)], message)
    fails(capsys, ["eval", "--checkpoint", str(trained), "--goal-image", str(tmp_path)],
          f"goal image {tmp_path}: it is a directory, not a file")  # fmt: skip


def test_export_checkpoint_and_out(trained, tmp_path, capsys):
    notes = trained.parent / "notes.txt"
    fails(capsys, ["export", "--checkpoint", str(notes), "--out", str(tmp_path / "w.safetensors")],
          f"--checkpoint {notes}: it is a file, not a directory")  # fmt: skip
    for out, message in [
        (tmp_path, f"--out {tmp_path}: it is a directory, not a file"),
        (notes / "w", f"--out {notes}/w: cannot create its directory: {notes} is a file, not a directory"),
        (Path("/proc/w.safetensors"), "--out /proc/w.safetensors: cannot write it: no such file or directory"),
        (FULL, "--out /dev/full: cannot write it: no space left on device"),
    ]:
        fails(capsys, ["export", "--checkpoint", str(trained), "--out", str(out)], message)
    capsys.readouterr()
    assert main(["export", "--checkpoint", str(trained), "--out", str(tmp_path / "new" / "w.safetensors")]) == 0
    assert json.loads(capsys.readouterr().out)["out"] == str(tmp_path / "new" / "w.safetensors")
