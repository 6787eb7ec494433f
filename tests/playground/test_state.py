"""The playground's steps on the session engine, on SQLite and PostgreSQL: clicks are checked against what
the pane really shows, a refused form keeps what was typed, and a button in a private answer updates it."""

from __future__ import annotations

import pytest

from storage.database import Database
from tandem.playground.port import PlaygroundPort
from tandem.playground.server import PlaygroundOptions, open_playground
from tandem.playground.state import NotFound, Playground
from tandem.session import clickables


def button(playground: Playground, pane: str, label: str) -> tuple[str, str, str]:
    """(message id, action id, value) of the newest button with this label in a pane."""
    port = playground.port
    for sent in reversed(port.pane(playground.user_id(pane))):
        for item in clickables(sent.message, sent):
            if item.label == label:
                return sent.ref.message_id, item.action_id, item.value
    raise AssertionError(f"no {label!r} button in {pane}")


def texts(port: PlaygroundPort, user_id: str) -> str:
    return "\n".join(s.message.plain_text() for s in port.pane(user_id))


async def test_steps_book_a_chat_and_refuse_what_the_pane_does_not_show(db: Database) -> None:
    playground = await open_playground(db, PlaygroundOptions(people=3, panes=2, seed=4))
    ana, ben = "U0001", "U0002"
    assert "Want in?" in texts(playground.port, "U0003")  # no pane: simulated, so already in
    await playground.click(ana, *button(playground, ana, "Join"))
    await playground.say(ben, "join")
    join_ben = button(playground, ben, "Join")
    with pytest.raises(NotFound):
        await playground.click(ana, *join_ben)  # Ben's message is not in Ana's pane
    with pytest.raises(NotFound):
        await playground.click(ana, join_ben[0], "program:join", "forged")
    with pytest.raises(NotFound):
        await playground.say("U0003", "join")  # a simulated colleague has no pane

    await playground.say(ana, "profile")
    form = playground.forms[ana].form
    values = {f.field_id: None for f in form.fields} | {"skills_offered": "<b>SQL</b>", "timezone": "EST"}
    await playground.submit(ana, values)
    refused = playground.forms[ana]
    assert refused.errors and "timezone" in refused.errors and refused.values == values
    playground.cancel(ana)
    assert ana not in playground.forms

    await playground.wait("day")
    assert "matched in" in texts(playground.port, ana)
    offer = button(playground, ana, "Propose option 3")
    await playground.click(ana, *offer)
    await playground.wait("day")
    await playground.click(ben, *button(playground, ben, "Accept"))
    await playground.wait("day")
    for user_id in (ana, ben):
        assert "Your coffee chat is booked" in texts(playground.port, user_id)
    with pytest.raises(NotFound):
        await playground.wait("fortnight")


async def test_a_button_in_a_private_answer_updates_that_answer(db: Database) -> None:
    playground = await open_playground(db, PlaygroundOptions(people=2, panes=1, seed=4))
    ana = "U0001"
    await playground.say(ana, "join")
    await playground.say(ana, "stop")
    message_id, action_id, value = button(playground, ana, "Leave Coffee Chats")
    assert message_id in playground.port.private
    before = len(playground.port.feed)
    await playground.click(ana, message_id, action_id, value)
    answer = playground.port.private[message_id]
    assert answer.updated and "You've left Coffee Chats" in answer.message.plain_text()
    assert len(playground.port.feed) == before  # in place: no new message
