"""The weights sender: handing over never waits for a blocked send, and the newest value goes out after it."""

from __future__ import annotations

import threading

from rig_trainer_node.latest_sender import LatestSender

WAIT_S = 30.0


def test_a_blocked_send_holds_up_only_the_sender_and_the_newest_value_follows():
    sent: list[int] = []
    entered, release = threading.Event(), threading.Event()

    def send(value: int) -> None:
        if value == 1:  # as a DDS write waiting on a peer behind a cut link
            entered.set()
            assert release.wait(WAIT_S)
        sent.append(value)

    sender = LatestSender(send, print, "test sender")
    sender.put(1)
    assert entered.wait(WAIT_S)
    for value in (2, 3, 4):  # the caller goes on while the send is blocked; only the newest waits
        sender.put(value)
    release.set()
    sender.close(WAIT_S)
    assert sent == [1, 4]


def test_a_failed_send_is_reported_and_the_sender_carries_on():
    sent: list[int] = []
    errors: list[str] = []
    failed = threading.Event()

    def send(value: int) -> None:
        if value == 1:
            failed.set()
            raise OSError("network is unreachable")
        sent.append(value)

    sender = LatestSender(send, errors.append, "test sender")
    sender.put(1)
    assert failed.wait(WAIT_S)
    sender.put(2)
    sender.close(WAIT_S)
    assert sent == [2] and errors == ["test sender: sending failed: network is unreachable"]
