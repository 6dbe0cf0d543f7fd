"""`rig up` and `rig goal` with a path that is not what it must be: one clear line, exit code 1, no node started."""

from __future__ import annotations

from pathlib import Path

from rig_launch import goal, up


def fails(capsys, command, argv: list[str], message: str) -> None:
    """`rig up|goal ARGV` returns 1 (no traceback) with one stderr line ending in `message`."""
    capsys.readouterr()
    assert command.main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    prefix = f"rig {command.__name__.rsplit('.', 1)[1]}: error: "
    assert len(lines) == 1 and lines[0].startswith(prefix) and lines[0].endswith(message), lines


def test_rig_up_log_dir_and_params(tmp_path, capsys, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text("a file")
    for log_dir, message in [
        (notes, f"--log-dir {notes}: cannot create it: {notes} is a file, not a directory"),
        (notes / "logs", f"--log-dir {notes}/logs: cannot create it: {notes} is a file, not a directory"),
        (Path("/proc/rig-logs"), "--log-dir /proc/rig-logs: cannot create it: no such file or directory"),
    ]:
        fails(capsys, up, ["sim", "--no-progress", "--log-dir", str(log_dir)], message)
    started: list = []
    monkeypatch.setattr(up.subprocess, "Popen", lambda *args, **kwargs: started.append(args))
    (tmp_path / "logs" / "trainer_node.log").mkdir(parents=True)  # the last node's log file cannot be opened
    fails(capsys, up, ["sim", "--no-progress", "--log-dir", str(tmp_path / "logs")],
          f"{tmp_path}/logs/trainer_node.log: is a directory")  # fmt: skip
    assert started == []  # found before any node started: none is left running
    fails(capsys, up, ["sim", "--params", str(tmp_path)], f"--params {tmp_path}: it is a directory, not a file")
    fails(capsys, up, ["sim", "--params", str(tmp_path / "no.yaml")], f"--params {tmp_path}/no.yaml: it does not exist")


def test_rig_goal_image_path(tmp_path, capsys):
    fails(capsys, goal, [str(tmp_path)], f"goal image {tmp_path}: it is a directory, not a file")
    fails(capsys, goal, [str(tmp_path / "no.png")], f"goal image {tmp_path}/no.png: it does not exist")
