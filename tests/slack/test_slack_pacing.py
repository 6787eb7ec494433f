"""Pacing and 429s: Retry-After pauses one method in one workspace; a long pause hands the send back.

The pacer's clock only moves when someone sleeps (``FakeTime``), so nothing here waits for real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from aiohttp import web
from sqlmodel import col, select

from adapters.slack.clients import SlackClients
from adapters.slack.http import SLACK_ADAPTER, mount
from adapters.slack.pacing import Pacer, Paused, RateLimits
from adapters.slack.port import SlackPort
from bot.core import Tandem
from bot.delivery.outbox import Dispatcher, Outgoing, enqueue, to_group, to_user
from bot.kernel.messages import text_message
from bot.kernel.port import SendError
from storage.tables import Delivery, Workspace
from tests.slack.slack_harness import slack_config

OPEN = "conversations.open"
POST = "chat.postMessage"


class FakeTime:
    """Monotonic time that moves only when someone sleeps; ``during_sleep`` runs at the start of a sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.during_sleep: Callable[[], None] | None = None

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        hook, self.during_sleep = self.during_sleep, None
        if hook is not None:
            hook()
        self.now += seconds


def paced(limits: RateLimits | None = None) -> tuple[Pacer, FakeTime]:
    clock = FakeTime()
    return Pacer(limits or RateLimits(), clock=clock.monotonic, sleep=clock.sleep), clock


async def test_a_pause_holds_only_that_method_in_that_workspace() -> None:
    pacer, clock = paced()
    pacer.pause("T1", OPEN, 1.5)
    assert await pacer.wait("T1", POST, "C1") == 0.0  # another method: goes at once
    assert await pacer.wait("T2", OPEN) == 0.0  # another workspace: goes at once
    assert clock.sleeps == []
    assert await pacer.wait("T1", OPEN) == 1.5
    assert clock.now == 1001.5 and pacer.paused_for("T1", OPEN) == 0.0


async def test_after_a_pause_calls_are_spaced_not_burst() -> None:
    """A quiet spell normally earns a burst; a pause must not (Slack's window starts afresh)."""
    pacer, clock = paced(RateLimits(per_method={OPEN: 60.0}, burst=5))  # one a second
    pacer.pause("T1", OPEN, 1.0)
    starts = []
    for _ in range(3):
        await pacer.wait("T1", OPEN)
        starts.append(clock.now)
    assert starts == [1001.0, 1002.0, 1003.0]


async def test_a_pause_that_comes_in_while_waiting_sends_after_it() -> None:
    pacer, clock = paced(RateLimits(per_method={OPEN: 60.0}, burst=1))
    assert await pacer.wait("T1", OPEN) == 0.0
    clock.during_sleep = lambda: pacer.pause("T1", OPEN, 2.0)  # a 429 answers another call meanwhile
    assert await pacer.wait("T1", OPEN) == 2.0
    assert clock.now == 1002.0 and clock.sleeps == [1.0, 1.0]


async def test_a_long_pause_is_handed_back_instead_of_slept() -> None:
    pacer, clock = paced()
    pacer.pause("T1", OPEN, 30.0)
    with pytest.raises(Paused) as caught:
        await pacer.wait("T1", OPEN)
    assert caught.value.seconds == 30.0 and clock.sleeps == []
    pacer.pause("T1", OPEN, 5.0)  # a shorter pause never shortens a longer one
    assert pacer.paused_for("T1", OPEN) == 30.0


async def test_no_pause_when_pacing_is_off() -> None:
    pacer, _ = paced(RateLimits(enabled=False))
    pacer.pause("T1", OPEN, 30.0)
    assert await pacer.wait("T1", OPEN) == 0.0


async def test_a_lone_post_429_pauses_its_channel_and_a_second_one_the_workspace() -> None:
    """chat.postMessage's 429 doesn't say which limit answered: one channel's 429 holds that channel only;
    429s from three channels while their pauses overlap mean the workspace-wide limit."""
    pacer, clock = paced(RateLimits(enabled=True, burst=10))
    pacer.pause("T1", POST, 1.0, channel="C1")
    assert pacer.paused_for("T1", POST) == 0.0
    assert await pacer.wait("T1", POST, "C2") == 0.0, "other channels keep posting"
    assert await pacer.wait("T1", POST, "C1") == 1.0, "the channel that got the 429 waits it out"
    pacer.pause("T1", POST, 1.0, channel="C3")  # C1's pause is over: a lone one
    pacer.pause("T1", POST, 1.0, channel="C4")  # two at once happen by chance too
    assert pacer.paused_for("T1", POST) == 0.0
    pacer.pause("T1", POST, 1.0, channel="C5")  # C3's and C4's pauses still run: the workspace's limit
    assert pacer.paused_for("T1", POST) == 1.0
    assert await pacer.wait("T1", POST, "C6") == 1.0


async def test_a_post_429_without_a_channel_pauses_every_post() -> None:
    pacer, _ = paced()
    pacer.pause("T1", POST, 1.0)
    assert pacer.paused_for("T1", POST) == 1.0


def test_scaled_limits_run_faster_and_wait_shorter() -> None:
    fast = RateLimits(per_method={"users.info": 10.0}).scaled(20)
    assert fast.per_minute(OPEN) == 1000 and fast.per_minute(POST) == 6000
    assert fast.post_per_channel_per_second == 20 and fast.per_minute("users.info") == 200
    assert fast.max_pause_wait == pytest.approx(0.1)


@pytest.fixture
async def paced_port(fake) -> AsyncIterator[tuple[SlackPort, FakeTime]]:  # noqa: ANN001
    clients = SlackClients(slack_config(fake, http_timeout=0.5, retry_backoff=0.01))
    pacer, clock = paced()
    yield SlackPort(clients, pacer=pacer), clock
    await clients.close()


async def test_a_429_pauses_the_method_the_next_call_does_not_hit_slack(paced_port, fake) -> None:  # noqa: ANN001
    port, clock = paced_port
    fake.fail_next(OPEN, "429", retry_after=30)
    with pytest.raises(SendError) as first:
        await port.send_to_group("T111", ["U1", "U2"], text_message("Meet!"))
    assert first.value.retryable and first.value.retry_after == 30
    assert port.pacer.paused_for("T111", OPEN) == 30
    with pytest.raises(SendError) as second:  # handed back at once, without another 429 from Slack
        await port.send_to_group("T111", ["U3", "U4"], text_message("Meet!"))
    assert second.value.retryable and second.value.retry_after == 30
    assert len(fake.called(OPEN)) == 1
    await port.send_to_user("T111", "U5", text_message("Hi"))  # posts are not paused
    await port.send_to_group("T222", ["U3", "U4"], text_message("Meet!"))  # nor is another workspace
    assert len(fake.called(OPEN)) == 2 and clock.sleeps == []


async def test_a_short_429_pause_is_waited_out(paced_port, fake) -> None:  # noqa: ANN001
    port, clock = paced_port
    fake.fail_next(OPEN, "429", retry_after=1)
    with pytest.raises(SendError):
        await port.send_to_group("T111", ["U1", "U2"], text_message("Meet!"))
    ref = await port.send_to_group("T111", ["U3", "U4"], text_message("Meet!"))
    assert ref.conversation_id.startswith("G") and clock.sleeps == [1.0]


async def test_a_paused_method_does_not_hold_up_the_rest_of_the_outbox(database, fake) -> None:  # noqa: ANN001
    """Group intros wait for the pause (rescheduled, not retried into it); a DM in the same pass goes out."""
    core = Tandem(database, pacing=False)  # real wall clock: quiet hours would make the test depend on the time of day
    app = web.Application()
    mount(app, core, slack_config(fake, limits=RateLimits()))
    async with core.db.transaction() as s:
        ws = Workspace(platform="slack", external_id="T111", name="Test")
        s.add(ws)
        await s.flush()
        items = [
            Outgoing(
                key=f"intro:{i}",
                step="intro",
                target=to_group([f"U{i}a", f"U{i}b"]),
                message=text_message(f"Meet {i}!"),
            )
            for i in range(3)
        ]
        items.append(Outgoing(key="dm", step="waitlist", target=to_user("U9"), message=text_message("Next time!")))
        await enqueue(s, ws.id or 0, items, core.clock.now())
    fake.fail_next(OPEN, "429", retry_after=30)
    started = core.clock.now()
    assert await Dispatcher(core, concurrency=1).run_once() == 1
    assert len(fake.called(OPEN)) == 1  # the other intros were not sent into the pause
    async with core.db.session() as s:
        rows = {d.idempotency_key: d for d in (await s.exec(select(Delivery).order_by(col(Delivery.id)))).all()}
    assert rows["dm"].state == "sent"
    for key in ("intro:0", "intro:1", "intro:2"):
        assert rows[key].state == "pending" and "rate limited" in (rows[key].last_error or "")
        assert rows[key].next_attempt_at >= started + timedelta(seconds=29)
    await app[SLACK_ADAPTER].close()
