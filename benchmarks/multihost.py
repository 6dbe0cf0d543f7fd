"""The graph across hosts, with faults on a link: network namespaces on one machine (rig_transport.netlab), the
robot host running the MuJoCo Sawyer and the policy, the trainer host the trainer, each with a probe process that
records what its host sees (launch/test/lab_graph.py). Needs root, iproute2 and nftables.

    sudo .venv/bin/python benchmarks/multihost.py        # about 5 minutes; writes benchmarks/multihost.{csv,md}

* trainer link capped at 100 Mbit/s (tbf both ways), 0 % and then 1 % random frame loss each way (nft numgen on
  the switch port): transitions/s accepted at the trainer, weights latency (published -> in use by the policy, from
  the stamps of the trainer's bundle and of the policy's status at 20 Hz: 50 ms resolution); then that link cut for
  CUT_S: frames and commands on the robot host during the cut, how soon after the restore the trainer takes
  transitions again and the policy has the weights published in the cut, episodes of the cut missing from the replay
  log.
* the policy alone on its host, its link cut: how soon the hand stops (watchdog), and moves again once restored.
"""

from __future__ import annotations

import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "launch" / "test"))  # lab_graph and graph_params, shared with the tests

import lab_graph as lg  # noqa: E402
from graph_params import TRAINED_POLICY  # noqa: E402

from rig_transport.netlab import Lab  # noqa: E402
from rig_transport.probe import read_records  # noqa: E402
from rig_transport.testing import TIMEOUT_S, isolated_dds_env  # noqa: E402

RATE = "100mbit"
WINDOW_S = 40.0
"""How long transitions and weights are measured on the capped, lossy link."""
CUT_S = 6.0


def stamp(record: dict[str, Any]) -> float:
    return record["header.stamp.sec"] + record["header.stamp.nanosec"] * 1e-9


def wait_until(condition, what: str, timeout_s: float = TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout_s} s")
        time.sleep(0.2)
    return value


def trainer_link(loss_pct: float, log_dir: Path) -> dict[str, Any]:
    """One run on a capped link with ``loss_pct`` loss: measurements, then the cut."""
    with isolated_dds_env(), Lab(["robot", "trainer"]) as lab:
        graph = lg.LabGraph(lab, log_dir)
        try:
            lab.set_rate("trainer", RATE)
            lab.set_loss("trainer", loss_pct)
            robot = graph.probe("robot", lg.FRAMES, lg.COMMANDS, lg.TRANSITIONS, lg.POLICY_STATUS)
            trainer_host = graph.probe("trainer", lg.WEIGHTS, lg.TRAINER_STATUS)
            graph.trainer("trainer", log_dir / "trainer")
            graph.start("robot", "rig_sim_sawyer_node", {})
            graph.start("robot", "rig_policy_node", {"status_rate_hz": 20.0})

            def policy_versions() -> list[dict[str, Any]]:
                return read_records(robot.path, lg.POLICY_STATUS)

            wait_until(lambda: any(s["weights_version"] >= 2 for s in policy_versions()), "weights in the policy")
            start = time.time()
            time.sleep(WINDOW_S)
            end = time.time()
            statuses = [s for s in read_records(trainer_host.path, lg.TRAINER_STATUS) if start <= s["t"] <= end]
            rate = (statuses[-1]["transitions_received"] - statuses[0]["transitions_received"]) / (
                statuses[-1]["t"] - statuses[0]["t"])  # fmt: skip
            latencies = weights_latencies(read_records(trainer_host.path, lg.WEIGHTS), policy_versions(), start, end)

            cut_at = time.time()
            lab.cut("trainer")
            time.sleep(CUT_S)
            restored_at = time.time()
            lab.restore("trainer")
            in_cut = [w for w in read_records(trainer_host.path, lg.WEIGHTS) if cut_at < w["t"] < restored_at]
            newest = max((w["version"] for w in in_cut), default=None)
            back = wait_until(lambda: next((s["t"] for s in read_records(trainer_host.path, lg.TRAINER_STATUS)
                                            if s["t"] > restored_at and s["transitions_received"]
                                            > last_count_before(trainer_host.path, cut_at)), None),
                              "transitions at the trainer after the restore")  # fmt: skip
            weights_back = None
            if newest is not None:
                weights_back = wait_until(lambda: next((s["t"] for s in policy_versions()
                                                        if s["weights_version"] >= newest), None),
                                          "the cut's weights in the policy")  # fmt: skip
            published = read_records(robot.path, lg.TRANSITIONS)
            interrupted = max(r["episode_id"] for r in published if r["t"] < cut_at)
            wait_until(lambda: any(r["episode_end"] and r["episode_id"] > interrupted
                                   for r in read_records(robot.path, lg.TRANSITIONS)), "an episode after the cut")  # fmt: skip
            expected = {e: a for e, a in lg.finished_episodes(read_records(robot.path, lg.TRANSITIONS)).items()
                        if e >= interrupted}  # fmt: skip
            deadline = time.monotonic() + TIMEOUT_S
            while (missing := lg.missing_episodes(expected, log_dir / "trainer" / "replay")) and time.monotonic() < deadline:
                time.sleep(0.5)
            all_commands = [r["t"] for r in read_records(robot.path, lg.COMMANDS)]
            commands = [t for t in all_commands if cut_at <= t <= restored_at]
            before = [t for t in all_commands if start <= t <= end]
            frames = [r["t"] for r in read_records(robot.path, lg.FRAMES) if cut_at <= r["t"] <= restored_at]
            return {
                "loss_pct": loss_pct, "rate": RATE, "window_s": round(end - start, 1),
                "transitions_per_s": round(rate, 2), "weights_updates": len(latencies),
                "weights_p50_ms": round(float(np.percentile(latencies, 50)) * 1e3, 1),
                "weights_p95_ms": round(float(np.percentile(latencies, 95)) * 1e3, 1),
                "cut_s": round(restored_at - cut_at, 2),
                "frames_per_s_in_cut": round(len(frames) / (restored_at - cut_at), 1),
                "commands_per_s_in_cut": round(len(commands) / (restored_at - cut_at), 1),
                "commands_per_s_before": round(len(before) / (end - start), 1),
                "max_command_gap_before_s": round(float(max(np.diff(before))), 2),
                "max_command_gap_in_cut_s": round(float(max(np.diff([cut_at, *commands, restored_at]))), 2),
                "weights_published_in_cut": len(in_cut),
                "transitions_back_after_s": round(back - restored_at, 2),
                "cut_weights_in_policy_after_s": None if weights_back is None else round(weights_back - restored_at, 2),
                "episodes_checked": len(expected), "episodes_missing": len(missing),
            }  # fmt: skip
        finally:
            graph.stop()


def last_count_before(trainer_probe: Path, when: float) -> int:
    return max(s["transitions_received"] for s in read_records(trainer_probe, lg.TRAINER_STATUS) if s["t"] < when)


def weights_latencies(weights: list[dict], statuses: list[dict], start: float, end: float) -> list[float]:
    """Per bundle published in [start, end]: first policy status stamp showing it (or newer) - the bundle's stamp."""
    latencies = []
    for bundle in weights:
        if start <= bundle["t"] <= end:
            shown = next((stamp(s) for s in statuses if s["weights_version"] >= bundle["version"]), None)
            if shown is not None:
                latencies.append(shown - stamp(bundle))
    return latencies


def policy_link(log_dir: Path) -> dict[str, Any]:
    """The policy on its own host: cut its link, time until the hand stands still; restore, time until it moves."""
    with isolated_dds_env(), Lab(["robot", "brain"]) as lab:
        graph = lg.LabGraph(lab, log_dir)
        try:
            robot = graph.probe("robot", lg.POSES, lg.COMMANDS)
            graph.start("robot", "rig_sim_sawyer_node", {})
            graph.start("brain", "rig_policy_node", {"weights_file": str(TRAINED_POLICY)})
            wait_until(lambda: len(read_records(robot.path, lg.COMMANDS)) > 50, "commands at the robot")
            cut_at = time.time()
            lab.cut("brain")
            time.sleep(CUT_S)
            restored_at = time.time()
            lab.restore("brain")
            wait_until(lambda: any(r["t"] > restored_at for r in read_records(robot.path, lg.COMMANDS)), "commands again")
            time.sleep(3.0)
            poses = read_records(robot.path, lg.POSES)
            in_cut = [p for p in poses if cut_at <= p["t"] <= restored_at]
            still_from = next(p["t"] for i, p in enumerate(in_cut) if lg.xy_spread(in_cut[i:]) < 1e-3)
            last_command = max(r["t"] for r in read_records(robot.path, lg.COMMANDS) if r["t"] <= restored_at)
            first_command = min(r["t"] for r in read_records(robot.path, lg.COMMANDS) if r["t"] > restored_at)
            return {"cut_s": round(restored_at - cut_at, 2), "last_command_after_cut_s": round(last_command - cut_at, 2),
                    "hand_still_after_cut_s": round(still_from - cut_at, 2),
                    "still_spread_mm": round(lg.xy_spread([p for p in in_cut if p["t"] >= still_from]) * 1e3, 2),
                    "commands_again_after_restore_s": round(first_command - restored_at, 2)}  # fmt: skip
        finally:
            graph.stop()


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> int:
    if os.geteuid() != 0:
        print("multihost.py needs root (network namespaces)", file=sys.stderr)
        return 2
    runs = Path(tempfile.mkdtemp(prefix="rig_multihost_"))
    rows = []
    for loss in (0.0, 1.0):
        (runs / f"loss{loss}").mkdir()
        rows.append(trainer_link(loss, runs / f"loss{loss}"))
        print(rows[-1], flush=True)
    write_csv(HERE / "multihost.csv", rows)
    (runs / "policy").mkdir()
    watchdog = policy_link(runs / "policy")
    print(watchdog, flush=True)
    write_csv(HERE / "multihost_watchdog.csv", [watchdog])
    print(f"logs in {runs}; machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
