"""Channel icebreakers: no repeats (custom ones included) and last time's best-loved answers in the next post."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlmodel import select

from adapters.console.port import ConsolePort
from bot.content import load_library
from bot.engagement import icebreakers
from bot.kernel.messages import Actions, Button
from storage.tables import IcebreakerPost, User
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import program_with, text_of


def _channel_posts(h: Harness) -> list:
    return [s for s in h.port.sent if s.channel == "coffee" and "Icebreaker of the week" in s.message.plain_text()]


async def _post(h: Harness, admin) -> None:  # noqa: ANN001
    h.clock.advance(timedelta(seconds=1))  # 'icebreaker now' is keyed by the second
    assert "Posting an icebreaker" in text_of(await h.command(admin, "icebreaker now", channel="coffee"))
    await h.core.dispatch()


async def test_icebreakers_do_not_repeat_until_the_bank_is_used(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    small = SimpleNamespace(icebreakers=load_library().icebreakers[:3])
    monkeypatch.setattr(icebreakers, "load_library", lambda: small)
    h = Harness.create(db, start_time)
    admin, _ = await program_with(h, 1)
    await h.command(admin, "icebreaker add Which song is stuck in your head?", channel="coffee")
    await h.command(admin, "icebreaker add [career] Best advice you ever got?")  # workspace-wide, outside a channel
    for _ in range(5):
        await _post(h, admin)
    async with db.session() as s:
        posts = (await s.exec(select(IcebreakerPost).order_by(IcebreakerPost.id))).all()
    first_cycle = [p.question_id for p in posts]
    assert len(set(first_cycle)) == 5 and sum(q.startswith("custom-") for q in first_cycle) == 2
    texts = "\n".join(p.message.plain_text() for p in _channel_posts(h))
    assert "Which song is stuck in your head?" in texts and "Best advice you ever got?" in texts
    await _post(h, admin)
    async with db.session() as s:
        posts = (await s.exec(select(IcebreakerPost).order_by(IcebreakerPost.id))).all()
    assert posts[-1].cycle == posts[0].cycle + 1 and posts[-1].question_id != posts[-2].question_id


async def test_next_post_links_the_best_loved_answers(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with(h, 3)
    await _post(h, admin)
    first = _channel_posts(h)[-1]
    thread = first.ref.message_id
    h.port.add_thread_reply("coffee", thread, "U1", "Pancakes, obviously", reactions=2)
    h.port.add_thread_reply("coffee", thread, "U2", "A long walk by the sea", reactions=5)
    h.port.add_thread_reply("coffee", thread, "U3", "Nothing", reactions=0)
    async with db.transaction() as s:  # U1 would rather not be named in the channel
        (await s.exec(select(User).where(User.platform_user_id == "U1"))).one().shoutouts = False
    await _post(h, admin)
    text = _channel_posts(h)[-1].message.plain_text()
    assert "Favourite answers to" in text
    assert text.index("A long walk by the sea") < text.index("Pancakes, obviously")
    assert "“A long walk by the sea” by Person2 (5 reactions)" in text
    assert "“Pancakes, obviously” (2 reactions)" in text and "Nothing" not in text
    links = [
        e
        for b in _channel_posts(h)[-1].message.blocks
        if isinstance(b, Actions)
        for e in b.elements
        if isinstance(e, Button) and e.url
    ]
    assert [b.url for b in links] == [f"console://coffee/{thread}/2", f"console://coffee/{thread}/1"]
    reply = await h.click(people[0], _channel_posts(h)[-1], links[0].action_id)
    assert "isn't something I know" not in str(reply)


class _NoThreads(ConsolePort):
    top_replies = None  # a platform that can't read threads (e.g. Teams)


async def test_without_the_capability_there_is_no_highlight(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    h.port = _NoThreads(clock=h.clock)
    h.core.register_port("console", h.port)
    admin, _ = await program_with(h, 1)
    await _post(h, admin)
    h.port.add_thread_reply("coffee", _channel_posts(h)[-1].ref.message_id, "U1", "Tea", reactions=9)
    await _post(h, admin)
    assert "Favourite answers" not in _channel_posts(h)[-1].message.plain_text()
