"""`rig up sim|real|gazebo`: the node graph without ROS 2, over the Cyclone DDS transport.

Starts the graph's nodes (`rig_launch.graph`) from their console scripts with the same parameter file and graph
parameters that `ros2 launch` uses, writes each node's output to a log file, shows progress from the status
topics, and stops every node cleanly on Ctrl-C (SIGINT to each, then SIGTERM and SIGKILL for any that hang).

    rig up sim
    rig up sim --params my_params.yaml --set trainer_node.out_dir=runs/lab1 --log-dir runs/lab1/logs
    rig up real --robot-host sawyer.local     # the Intera driver on the robot's ROS 1 master (http://HOST:11311)
    rig up gazebo                             # ... on sawyer_simulator's master (default localhost)
    rig up real --robot-host sawyer.local --dry-run   # print the command lines, start nothing
    rig up sim --record bags/lab1             # ... and record every RIG topic (`rig record`) while it runs
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from rig_core.errors import RigError
from rig_core.files import describe, input_file, output_dir
from rig_launch.graph import DEFAULT_PARAMS_FILE, GRAPHS, Graph, NodeSpec, graph_parameters, ros1_master_uri
from rig_transport.scripts import find_script

STOP_GRACE_S = 20.0
"""How long a node may take to shut down cleanly (the trainer writes a checkpoint) before it is terminated."""
POLL_S = 0.5
RECORDER = NodeSpec("rig", "rig_launch.record", "recorder")
"""`rig record` as one more process of the graph (`rig up --record DIR`), stopped with the nodes."""


class UpError(Exception):
    """A problem that stops `rig up` before any node runs (bad arguments, missing scripts or files)."""


@dataclass
class RunningNode:
    """A started node process and its log file."""

    spec: NodeSpec
    process: subprocess.Popen
    log_path: Path
    reported_exit: bool = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def node_command(spec: NodeSpec, params_file: Path, overrides: dict[str, str]) -> list[str]:
    """The node's console script with ``--ros-args --params-file FILE -p NAME:=VALUE ...``."""
    script = find_script(spec.executable, spec.package)
    if script is None:
        raise UpError(f"console script {spec.executable!r} not found: install the {spec.package} package "
                      f"(pip install -e ./{spec.package})")  # fmt: skip
    command = [script, "--ros-args", "--params-file", str(params_file)]
    for name, value in overrides.items():
        command += ["-p", f"{name}:={value}"]
    return command


def parse_sets(items: list[str], graph: Graph) -> dict[str, dict[str, str]]:
    """``node_name.param=value`` items, grouped by node (values stay text: each node types them like rcl does)."""
    names = {spec.name for spec in graph.nodes}
    per_node: dict[str, dict[str, str]] = {name: {} for name in names}
    for item in items:
        key, sep, value = item.partition("=")
        node, dot, param = key.partition(".")
        if not sep or not dot or not param:
            raise UpError(f"--set {item!r} is not of the form NODE.PARAM=VALUE")
        if node not in names:
            raise UpError(f"--set {item!r}: no node {node!r} in this graph (nodes: {', '.join(sorted(names))})")
        per_node[node][param] = value
    return per_node


@dataclass(frozen=True)
class Plan:
    """What `rig up` starts: one command line per node, and the environment variables it sets for all of them."""

    commands: list[tuple[NodeSpec, list[str]]]
    environment: dict[str, str]


def plan(graph: Graph, params_file: Path, sets: dict[str, dict[str, str]], robot_id: str | None = None,
         robot_host: str | None = None, record: Path | None = None) -> Plan:  # fmt: skip
    """The graph's parameters (`graph_parameters`) under the ``--set`` items, as ``-p`` overrides of each node;
    a ROS 1 master URI among them is every node's ROS_MASTER_URI too (the camera's ``ros1:`` source needs it).
    With ``record``, the recorder writes every RIG topic into that bag directory."""
    try:
        parameters = graph_parameters(graph, robot_id, robot_host)
    except ValueError as error:
        raise UpError(str(error)) from None
    environment = {"RIG_TRANSPORT": "dds", "PYTHONUNBUFFERED": "1"}
    if (uri := ros1_master_uri(parameters)) is not None:
        environment["ROS_MASTER_URI"] = uri
    commands = []
    for spec in graph.nodes:  # every script found before any node starts
        overrides = {name: json.dumps(value) for name, value in parameters[spec.name].items()} | sets[spec.name]
        commands.append((spec, node_command(spec, params_file, overrides)))
    if record is not None:
        commands.append((RECORDER, [sys.executable, "-m", RECORDER.executable, "--out", str(record)]))
    return Plan(commands, environment)


def start_nodes(launch: Plan, log_dir: Path) -> list[RunningNode]:
    """Start every node in its own session (so Ctrl-C reaches `rig up` alone, which then stops them in order)."""
    output_dir(log_dir, "--log-dir")
    env = {**os.environ, **launch.environment}
    log_paths = [log_dir / f"{spec.name}.log" for spec, _ in launch.commands]
    running = []
    with ExitStack() as stack:
        logs = [stack.enter_context(path.open("ab")) for path in log_paths]  # all opened before any starts
        for (spec, command), log, log_path in zip(launch.commands, logs, log_paths):
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            running.append(RunningNode(spec, process, log_path))
    return running


def stop_nodes(nodes: list[RunningNode], grace_s: float = STOP_GRACE_S) -> dict[str, int]:
    """SIGINT to every node, wait up to ``grace_s``, then SIGTERM, then SIGKILL; returns the exit codes."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        for node in nodes:
            if node.alive():
                node.process.send_signal(signum)
        deadline = time.monotonic() + (grace_s if signum != signal.SIGKILL else 10.0)
        while any(node.alive() for node in nodes) and time.monotonic() < deadline:
            time.sleep(0.1)
    return {node.spec.name: node.process.wait() for node in nodes}


class StatusMonitor:
    """Newest /rig/policy/status and /rig/trainer/status, received over the DDS transport on a background thread."""

    def __init__(self) -> None:
        from rig_transport import STATUS
        from rig_transport.dds_backend import DDSTransport

        self.policy: Any = None
        self.trainer: Any = None
        self.driver: Any = None
        self.transport = DDSTransport("rig_up", argv=[])
        self.transport.create_subscription("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS, self._on_policy)
        self.transport.create_subscription("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS, self._on_trainer)
        self.transport.create_subscription("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS, self._on_driver)
        self._thread = threading.Thread(target=self.transport.spin, daemon=True)
        self._thread.start()

    def _on_policy(self, msg: Any) -> None:
        self.policy = msg

    def _on_trainer(self, msg: Any) -> None:
        self.trainer = msg

    def _on_driver(self, msg: Any) -> None:
        self.driver = msg

    def summary(self) -> dict[str, str]:
        """Short fields for the progress line."""
        fields: dict[str, str] = {}
        if self.policy is not None:
            fields |= {"mode": self.policy.mode, "episode": str(self.policy.episode_id),
                       "weights": f"v{self.policy.weights_version}"}  # fmt: skip
        if self.trainer is not None:
            fields |= {"replay": str(self.trainer.replay_size), "td3": str(self.trainer.gradient_steps),
                       "vae": str(self.trainer.vae_steps)}  # fmt: skip
        if self.driver is not None:
            fields["arm"] = self.driver.mode if self.driver.mode != "ready" else f"ready/{self.driver.hold}"
        return fields

    def transitions(self) -> int:
        return int(self.trainer.transitions_received) if self.trainer is not None else 0

    def close(self) -> None:
        self.transport.shutdown()
        self._thread.join(10.0)


def supervise(nodes: list[RunningNode], monitor: StatusMonitor | None, stop: threading.Event) -> None:
    """Show progress until ``stop`` is set; report (once) every node that exits on its own."""
    from tqdm import tqdm

    with tqdm(desc="transitions at the trainer", unit="", disable=monitor is None, dynamic_ncols=True) as bar:
        while not stop.wait(POLL_S):
            for node in nodes:
                if not node.alive() and not node.reported_exit:
                    node.reported_exit = True
                    tqdm.write(f"rig up: {node.spec.name} exited with code {node.process.returncode}; "
                               f"last lines of {node.log_path}:\n{node.log_tail()}")  # fmt: skip
            if all(node.reported_exit for node in nodes):
                tqdm.write("rig up: every node has exited")
                return
            if monitor is not None:
                bar.n = monitor.transitions()
                bar.set_postfix(monitor.summary(), refresh=False)
                bar.refresh()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    result = _Parser(prog="rig up", description="Start the RIG node graph without ROS (Cyclone DDS); Ctrl-C stops it.")
    result.add_argument("graph", choices=sorted(GRAPHS),
                        help="; ".join(f"{name}: {graph.summary}" for name, graph in GRAPHS.items()))
    result.add_argument("--params", type=Path, default=DEFAULT_PARAMS_FILE,
                        help="ROS 2 parameter file (default: the packaged rig_params.yaml)")
    result.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                        help="override one node's parameter, e.g. --set trainer_node.out_dir=runs/lab1 (repeatable)")
    result.add_argument("--robot-host", metavar="HOST[:PORT]",
                        help="real/gazebo: the robot's ROS 1 master is http://HOST:11311 (default: real, the parameter "
                             "file's sawyer_driver.ros_master_uri or ROS_MASTER_URI; gazebo, localhost)")
    result.add_argument("--robot-id", help="the robot id of the policy and the driver (default: the graph's, "
                                           + ", ".join(f"{n} {g.robot_id}" for n, g in GRAPHS.items() if g.robot_id)
                                           + "; sim, the parameter file's)")
    result.add_argument("--record", type=Path, metavar="DIR",
                        help="record every RIG topic into this new rosbag2 MCAP bag directory while the graph runs "
                             "(as rig record --out DIR)")
    result.add_argument("--dry-run", action="store_true", help="print each node's command line; start nothing")
    result.add_argument("--log-dir", type=Path, default=Path("runs/up/logs"),
                        help="one log file per node (default: %(default)s)")
    result.add_argument("--no-progress", action="store_true", help="no progress line (no status subscription)")
    return result  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of `rig up`; returns 0 when every node stopped cleanly on Ctrl-C/SIGTERM."""
    args = parser().parse_args(argv)
    graph = GRAPHS[args.graph]
    try:
        input_file(args.params, "--params")
        if args.record is not None and args.record.exists():
            raise UpError(f"--record {args.record} exists already; a recording goes into a new directory")
        launch = plan(graph, args.params.resolve(), parse_sets(args.set, graph), args.robot_id, args.robot_host,
                      args.record)  # fmt: skip
        if args.dry_run:
            print("\n".join([*(f"{key}={value}" for key, value in launch.environment.items()),
                              *(shlex.join(command) for _, command in launch.commands)]))  # fmt: skip
            return 0
        nodes = start_nodes(launch, args.log_dir)
    except (UpError, RigError) as error:
        print(f"rig up: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a node's log file
        print(f"rig up: error: {describe(error)}", file=sys.stderr)
        return 1
    print(f"rig up {args.graph}: " + ", ".join(f"{n.spec.name} (pid {n.process.pid})" for n in nodes)
          + f"; parameters {args.params}; logs in {args.log_dir}/; Ctrl-C stops", flush=True)  # fmt: skip
    stop, received = threading.Event(), []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    monitor = None if args.no_progress else StatusMonitor()
    try:
        supervise(nodes, monitor, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            print(f"rig up: {received[0]} received, stopping every node", flush=True)
        codes = stop_nodes(nodes)
        if monitor is not None:
            monitor.close()
    print("rig up: stopped " + ", ".join(f"{name} ({code})" for name, code in codes.items()), flush=True)
    clean = stop.is_set() and all(code == 0 for code in codes.values())
    return 0 if clean else 1
