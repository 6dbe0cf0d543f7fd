"""The `rig` command: `rig train`, `rig eval` and `rig up`.

rig train --task visual-reacher --env-steps 10000 --seed 0 --out runs/reacher
rig train --resume runs/reacher [--env-steps 20000]
rig train --from-bag bags/lab1 --out runs/offline [--set train.vae_from=runs/trainer]   # from a recording
rig eval --checkpoint runs/reacher --episodes 20 [--goal-image goal.png]
rig export --checkpoint runs/reacher --out reacher_policy.safetensors   # for policy nodes (weights_file)
rig up sim                     # the ROS node graph without ROS (needs the `rig` bringup package, ./launch)
rig goal goal.png | --capture | --clear                                # the operator's goal image
rig stop [--release]                                                   # hold the arm still (operator stop)
rig record --out bags/lab1 [--topics ...]                              # the graph's topics into a rosbag2 MCAP bag
rig keys keys/lab [--domain 7]                                         # an SROS2 keystore, one enclave per node
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import math
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import numpy as np

from rig_core.config import Method, RelabelStrategy, RewardKind, RigConfig, apply_overrides, task_config
from rig_core.envs import TASK_NAMES
from rig_core.errors import RigError, wraps_interrupt
from rig_core.files import describe, input_dir, output_file, writing


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rig", description="RIG: visual RL with imagined goals on a simulated Sawyer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train RIG (or the Oracle) on a simulated Sawyer task")
    train.add_argument("--task", choices=TASK_NAMES, help="simulated task (default: visual-reacher)")
    train.add_argument("--env-steps", type=_positive, help="environment steps to train for (default: the task's)")
    train.add_argument("--seed", type=int, help="random seed (default: 0)")
    train.add_argument("--out", type=Path, help="new output directory")
    train.add_argument("--resume", type=Path, metavar="DIR", help="continue the interrupted run in DIR")
    train.add_argument("--from-bag", type=Path, metavar="DIR",
                       help="train on the transitions of a recording (rig record) instead of a simulated task")
    train.add_argument("--oracle", action="store_true", default=None, help="train on the true state instead of VAE latents")
    train.add_argument("--method", choices=[m.value for m in Method],
                       help="RIG or an image baseline: HER on pixels, DSAE, L&R (default: rig)")  # fmt: skip
    train.add_argument("--relabel", choices=[s.value for s in RelabelStrategy],
                       help="goal relabelling (default: rig; future for the baselines)")  # fmt: skip
    train.add_argument("--reward", choices=[r.value for r in RewardKind], help="RIG's relabelled reward (default: latent)")
    train.add_argument("--image-size", type=int, choices=(84, 48), help="camera image size (default: 84)")
    train.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE",
                       help="override any config field, e.g. --set vae.pretrain_epochs=20 (repeatable)")  # fmt: skip
    train.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, ... (default: %(default)s)")
    train.add_argument("--no-progress", action="store_true", help="hide progress bars")

    evaluate = commands.add_parser("eval", help="evaluate a trained checkpoint on goal images")
    evaluate.add_argument("--checkpoint", type=Path, required=True, help="a run directory or its checkpoint/")
    evaluate.add_argument("--episodes", type=_positive, help="episodes on env-sampled goals (default: 10)")
    evaluate.add_argument("--goal-image", type=Path, help="run one episode towards this image instead")
    evaluate.add_argument("--raw-goal", action="store_true",
                          help="hand --goal-image to the VAE as given, not aligned to the first camera frame")  # fmt: skip
    evaluate.add_argument("--strip", type=Path, help="where to save the frame strip (default: <run>/eval_strip.png)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the evaluation goals (default: %(default)s)")
    evaluate.add_argument("--pucks", type=int, metavar="N",
                          help="only the first N pucks in the scene and the goals, the others out of view "
                               "(the variable-object test; default: all)")  # fmt: skip
    evaluate.add_argument(
        "--goal-clip-std",
        type=_non_negative,
        metavar="K",
        help="clamp goal latents to the goal prior's mean ± K std, 0 = off (default: the run's)",
    )
    evaluate.add_argument("--device", default="auto", help="torch device (default: %(default)s)")
    export = commands.add_parser("export", help="write a checkpoint's policy weights to a file for policy nodes")
    export.add_argument("--checkpoint", type=Path, required=True, help="a run directory or its checkpoint/")
    export.add_argument("--out", type=Path, required=True, help="the .safetensors file to write")
    export.add_argument("--version", type=_positive, default=1, help="weights version to stamp (default: %(default)s)")
    commands.add_parser("up", help="start the node graph without ROS (see rig up --help)")
    commands.add_parser("goal", help="set, capture or clear the robot's goal image (see rig goal --help)")
    commands.add_parser("stop", help="hold the robot arm still, or release it (see rig stop --help)")
    commands.add_parser("record", help="record the graph's topics into a rosbag2 MCAP bag (see rig record --help)")
    commands.add_parser("keys", help="create the graph's SROS2 keystore for DDS Security (see rig keys --help)")
    return parser


RESUME_REFUSES = ("out", "task", "seed", "oracle", "method", "relabel", "reward", "image_size", "set")
"""`rig train` options (default None: given or not) that a resumed run, which keeps its saved config, refuses."""
BRINGUP_COMMANDS = ("up", "goal", "stop", "record", "keys")
"""Subcommands that live in the bringup package (`rig_launch`), so that rig_core knows nothing of nodes."""


def _bringup(command: str, rest: list[str]) -> int:
    try:
        module = importlib.import_module(f"rig_launch.{command}")
    except ImportError:
        print(f"rig {command}: error: it needs the bringup package: pip install -e ./launch (with the node packages)",
              file=sys.stderr)  # fmt: skip
        return 1
    return module.main(rest)


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.empty(0, device=name)
    except (RuntimeError, ValueError) as error:
        raise RigError(f"torch device {name!r} is not usable here: {error}") from None
    return name


def _train(args: argparse.Namespace) -> dict:
    from rig_core.train import resume, train

    if args.resume is not None:
        given = [f"--{name.replace('_', '-')}" for name in RESUME_REFUSES if getattr(args, name) is not None]
        if given:
            raise RigError(f"{', '.join(given)} cannot change a resumed run, which continues with its saved config "
                           "(only --env-steps, --device and --no-progress go with --resume)")  # fmt: skip
        if args.from_bag is not None:
            raise RigError("--from-bag starts a new run in --out; --resume continues one")
        return resume(args.resume, args.env_steps, _device(args.device), not args.no_progress)
    if args.out is None:
        raise RigError("give --out DIR for a new run (or --resume DIR to continue one)")
    overrides = [f"seed={0 if args.seed is None else args.seed}", f"oracle={bool(args.oracle)}"] + (args.set or [])
    if args.env_steps is not None:
        overrides.append(f"train.env_steps={args.env_steps}")
    method = args.method or Method.RIG.value
    overrides.append(f"method={method}")
    relabel = args.relabel or (None if method == Method.RIG.value else RelabelStrategy.FUTURE.value)
    if relabel is not None:
        overrides.append(f"replay.relabel={relabel}")
    if args.reward is not None:
        overrides.append(f"replay.reward={args.reward}")
    if args.image_size is not None:
        overrides.append(f"vae.image_size={args.image_size}")
    config = apply_overrides(task_config(args.task or "visual-reacher"), overrides)
    if args.from_bag is not None:
        return _train_from_bag(args, config)
    return train(config, args.out, _device(args.device), not args.no_progress)


def _train_from_bag(args: argparse.Namespace, config: RigConfig) -> dict:
    """The trainer node's learning on a recording's transitions (it reads bags: imported here, not at start-up)."""
    if args.env_steps is not None or args.oracle or args.device != "auto":
        raise RigError("--from-bag trains as the trainer node does, on the recording's env steps, with images, on the "
                       "CPU: --env-steps, --oracle and --device do not apply")  # fmt: skip
    input_dir(args.from_bag, "--from-bag")
    try:
        from rig_trainer_node.from_bag import train_from_bag
    except ImportError:
        raise RigError("--from-bag needs the trainer node: pip install -e ./rig_transport -e ./rig_trainer_node") from None
    return train_from_bag(args.from_bag, args.out, config)


def _run_dir(checkpoint: Path) -> Path:
    return checkpoint.parent if checkpoint.name == "checkpoint" else checkpoint


def _export(args: argparse.Namespace) -> dict:
    from rig_core.policy import load_trained
    from rig_core.weights import pack_policy_weights, write_weights_file

    input_dir(args.checkpoint, "--checkpoint")
    output_file(args.out, "--out")
    agent, env, state = load_trained(_run_dir(args.checkpoint) / "checkpoint", "cpu")
    env.close()
    bundle = pack_policy_weights(agent, args.version)
    with writing(args.out, "--out"):
        write_weights_file(bundle, args.out)
    return {"out": str(args.out), "task": bundle.task, "version": bundle.version, "sha256": bundle.sha256,
            "trained_env_steps": state["counters"]["env_steps"]}  # fmt: skip


def _eval(args: argparse.Namespace) -> dict:
    from rig_core.evaluation import evaluate, run_episode
    from rig_core.images import check_image_format, read_rgb, to_model_input
    from rig_core.policy import load_trained

    input_dir(args.checkpoint, "--checkpoint")
    if args.goal_image is not None and args.episodes is not None:
        raise RigError("--episodes counts episodes on env-sampled goals; --goal-image runs one episode towards the image")
    if args.goal_image is None and args.raw_goal:
        raise RigError("--raw-goal is about a --goal-image: give --goal-image too")
    if args.goal_image is None and args.strip is not None:
        raise RigError("--strip saves the frames of a --goal-image episode: give --goal-image too")
    run_dir = _run_dir(args.checkpoint)
    strip = args.strip or run_dir / "eval_strip.png"
    if args.goal_image is not None:
        output_file(strip, "--strip")
        check_image_format(strip)
    agent, env, state = load_trained(run_dir / "checkpoint", _device(args.device))
    if args.goal_clip_std is not None:
        agent.config = replace(agent.config, train=replace(agent.config.train, goal_clip_std=args.goal_clip_std))
    try:
        if args.pucks is not None:
            try:
                env.set_pucks_present(args.pucks)
            except ValueError as error:
                raise RigError(f"--pucks: {error}") from None
        summary: dict = {
            "task": agent.config.task,
            "checkpoint": str(run_dir),
            "trained_env_steps": state["counters"]["env_steps"],
            "goal_clip_std": agent.config.train.goal_clip_std if _has_goal_prior(agent.config) else None,
            "pucks_present": env.pucks_present,
        }
        if args.goal_image is None:
            episodes = args.episodes or 10
            return summary | {"episodes": episodes} | evaluate(agent, env, episodes, args.seed, with_floor=True)
        if agent.config.oracle:
            raise RigError("an Oracle checkpoint acts on true states and cannot take a goal image")
        goal = to_model_input(read_rgb(args.goal_image), env.image_size)
        result = run_episode(agent, env, args.seed, goal_image=goal, record=True, align=not args.raw_goal)
        with writing(strip, "--strip"):
            _save_strip(result.frames, goal, strip)
        prepared = result.prepared_goal
        return summary | {
            "goal_image": str(args.goal_image),
            "goal_alignment": "" if prepared is None else prepared.alignment.summary(),
            "goal_warning": "" if prepared is None else prepared.warning(),
            "final_latent_distance": result.final_latent_distance,
            "final_state": result.final_state.round(4).tolist(),
            "strip": str(strip),
        }
    finally:
        env.close()


def _has_goal_prior(config: RigConfig) -> bool:
    """RIG's goal latents can be clamped to its imagined-goal prior; the Oracle's and the baselines' goals cannot."""
    return config.method is Method.RIG and not config.oracle


def _save_strip(frames: list[np.ndarray], goal: np.ndarray, path: Path, count: int = 8) -> None:
    """Evenly spaced frames of the episode, then the goal image, in one row."""
    from rig_core.reporting import save_image_grid

    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    save_image_grid([np.stack([frames[i] for i in picks] + [goal])], path)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rig` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in BRINGUP_COMMANDS:  # their own parsers, in the bringup package
        return _bringup(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = {"train": _train, "eval": _eval, "export": _export}[args.command](args)
    except RigError as error:
        print(f"rig {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a file-system problem the checks before the work could not foresee (a full disk)
        print(f"rig {args.command}: error: {describe(error)}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ctypes.ArgumentError) as interrupt:
        if isinstance(interrupt, ctypes.ArgumentError) and not wraps_interrupt(interrupt):
            raise
        terminated = isinstance(interrupt, _Terminated) or "_Terminated" in str(interrupt)
        how, code = ("SIGTERM", 128 + signal.SIGTERM) if terminated else ("Ctrl-C", 130)
        saved = "; a checkpoint was saved, continue with --resume" if args.command == "train" else ""
        print(f"rig {args.command}: interrupted ({how}){saved}", file=sys.stderr)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(json.dumps(result, indent=2))
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM (docker stop, systemd, kill), handled as Ctrl-C is: `rig train` checkpoints on the way out."""


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise _Terminated


if __name__ == "__main__":
    sys.exit(main())
