"""No experience lost while the trainer is away, none stored twice: the simulated robot, the policy and the trainer
as real processes over DDS; the trainer (then the policy) is killed with SIGKILL mid-episode while the robot keeps
acting, and started again on the same directories. A recorder in the test hears every transition ever sent (copies
included); at the end each episode it heard is in the trainer's replay log exactly once, with every step and the
same frames, or, for the one the policy was still recording when it was stopped, in the policy's spool."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np

from rig_core.agent import RIGAgent
from rig_core.config import task_config
from rig_core.replay_log import ReplayLog
from rig_core.vae_training import PRETRAINED_VAE, save_pretrained_vae
from rig_transport import REPLAY
from rig_transport.images import image_to_rgb
from rig_transport.testing import NodeProcess, TestNode

RATE_HZ = 20.0  # sim and policy: a 50-step episode in 2.5 s
ROBOT = "sawyer_sim"
NO_TD3 = "train.min_steps_before_training=1000000"
Key = tuple[str, int]  # (session_id, episode_id)


class Graph:
    """The three nodes' parameters on one tmp_path: a trainer starting from an (untrained) pretrained VAE, so that
    every episode goes straight into its replay buffer, and no TD3 updates to keep the CPU for the robot."""

    def __init__(self, tmp_path: Path, start_node) -> None:
        self.tmp_path, self.start_node = tmp_path, start_node
        vae = tmp_path / "vae"
        vae.mkdir()
        save_pretrained_vae(RIGAgent(task_config("visual-reacher"), 0, 2), vae / PRETRAINED_VAE)
        self.trainer_params = {"out_dir": str(tmp_path / "trainer"), "vae_from": str(vae), "weights_every_s": 60.0,
                               "status_rate_hz": 5.0, "config_overrides": NO_TD3}  # fmt: skip
        self.policy_params = {"rate_hz": RATE_HZ, "spool_dir": str(tmp_path / "spool"), "ack_timeout_s": 2.0}
        self.spool = tmp_path / "spool" / f"{ROBOT}.sqlite"

    def sim(self) -> NodeProcess:
        return self.start_node("rig_sim_sawyer_node", {"rate_hz": RATE_HZ})

    def policy(self) -> NodeProcess:
        return self.start_node("rig_policy_node", self.policy_params)

    def trainer(self) -> NodeProcess:
        return self.start_node("rig_trainer_node", self.trainer_params)


class Recorder:
    """Every transition heard on the replay topic, and every acknowledgement, by episode."""

    def __init__(self, test_node: TestNode) -> None:
        self.transitions = test_node.listen("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
        self.acks = test_node.listen("/rig/replay/ack", "rig_msgs/msg/ReplayAck", REPLAY)
        self.steps: dict[Key, dict[int, np.ndarray]] = defaultdict(dict)  # the observation of each step
        self.ended: set[Key] = set()
        self.acked: set[Key] = set()
        self.latest: Key = ("", 0)

    def note(self, msg) -> None:
        key = self.latest = (msg.session_id, msg.episode_id)
        self.steps[key].setdefault(msg.step, image_to_rgb(msg.observation))
        if msg.episode_end:
            self.ended.add(key)

    def wait_for_step(self, what: str, predicate, *nodes: NodeProcess):
        return self.transitions.wait_for(lambda m: self.note(m) or predicate(m), what, *nodes)

    def wait_for_acks(self, keys: set[Key], *nodes: NodeProcess) -> None:
        def take(msg) -> bool:
            self.acked.add((msg.session_id, msg.episode_id))
            return keys <= self.acked

        if not keys <= self.acked:
            self.acks.wait_for(take, f"acknowledgements of {sorted(keys - self.acked)}", *nodes)

    def drain(self) -> None:
        """Take what is still queued (the nodes have stopped)."""
        for msg in self.transitions.clear():
            self.note(msg)


def assert_exactly_once(recorder: Recorder, graph: Graph) -> set[Key]:
    """Every episode heard is in the replay log once, whole and with the same frames, or still in the spool;
    returns the stored ones."""
    recorder.drain()
    stored: dict[Key, np.ndarray] = {}
    log = ReplayLog(graph.tmp_path / "trainer" / "replay")
    for metadata, (_, episode) in zip(log.metadata(), log.read()):
        key = (metadata["session_id"], int(metadata["episode_id"]))
        assert metadata["robot_id"] == ROBOT and key not in stored, f"episode {key} stored twice"
        stored[key] = episode.obs_image
    with sqlite3.connect(graph.spool) as db:
        spooled = {(s, e): n for s, e, n in db.execute("SELECT session_id, episode_id, count(*) FROM transitions "
                                                       "GROUP BY session_id, episode_id")}  # fmt: skip
    for key, steps in recorder.steps.items():
        if key in stored:
            assert sorted(steps) == list(range(len(stored[key]))), f"episode {key}: heard {sorted(steps)}"
            assert all(np.array_equal(stored[key][step], image) for step, image in steps.items()), key
        else:  # not acknowledged yet: every step it was heard with waits in the spool
            assert key not in recorder.acked and spooled.get(key, 0) >= len(steps), (key, sorted(steps), spooled)
    assert set(stored) <= set(recorder.steps)
    return set(stored)


Started = tuple[Graph, Recorder, NodeProcess, NodeProcess, NodeProcess]


def start_graph(test_node: TestNode, start_node, tmp_path: Path) -> Started:
    """Sim, trainer and policy, once an episode is acknowledged and the next one half-way: (graph, recorder, sim,
    trainer, policy)."""
    graph = Graph(tmp_path, start_node)
    recorder = Recorder(test_node)
    test_node.start()
    sim, trainer, policy = graph.sim(), graph.trainer(), graph.policy()
    first = recorder.wait_for_step("a first episode's end", lambda m: m.episode_end, sim, policy)
    recorder.wait_for_acks({(first.session_id, first.episode_id)}, trainer)
    recorder.wait_for_step("an episode half-way", lambda m: m.step == 25, sim, policy)
    return graph, recorder, sim, trainer, policy


def test_transitions_made_while_the_trainer_is_killed_reach_its_replay_buffer_once(test_node, start_node, tmp_path):
    graph, recorder, sim, trainer, policy = start_graph(test_node, start_node, tmp_path)
    trainer.kill()
    ended_before = set(recorder.ended)
    recorder.wait_for_step("2 episodes while the trainer is dead",
                           lambda m: len(recorder.ended - ended_before) >= 2, sim, policy)  # fmt: skip
    made_while_away = set(recorder.ended - ended_before)
    restarted = graph.trainer()
    recorder.wait_for_acks(set(recorder.ended), restarted, policy)
    assert policy.stop() == 0 and restarted.stop() == 0 and sim.stop() == 0
    stored = assert_exactly_once(recorder, graph)
    assert made_while_away <= stored  # the one cut by the kill and the next, which the trainer never heard live


def test_an_episode_cut_by_a_killed_policy_and_its_unacknowledged_ones_reach_the_trainer_once(test_node, start_node,
                                                                                              tmp_path):  # fmt: skip
    graph, recorder, sim, trainer, policy = start_graph(test_node, start_node, tmp_path)
    cut = recorder.latest  # the episode half-way
    policy.kill()
    restarted = graph.policy()
    later = recorder.wait_for_step("an episode of the restarted policy",
                                   lambda m: m.session_id != cut[0] and m.episode_end, sim, restarted)  # fmt: skip
    recorder.wait_for_acks({cut, (later.session_id, later.episode_id)}, trainer)
    assert restarted.stop() == 0 and trainer.stop() == 0 and sim.stop() == 0
    stored = assert_exactly_once(recorder, graph)
    assert cut in stored and len(recorder.steps[cut]) > 25
    assert "1 cut short" in restarted.log()
