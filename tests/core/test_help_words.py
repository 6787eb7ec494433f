"""Help that fits: a participant's help on one screen, `help admin` for organisers, everyday words understood."""

from __future__ import annotations

from sqlmodel import select

from bot.kernel.events import Reply, Response
from bot.kernel.messages import Actions, Button
from storage.enums import DeliveryState, MembershipStatus
from storage.tables import Delivery, Membership
from tests.core.harness import Harness


def text_of(response: Response) -> str:
    assert isinstance(response, Reply), response
    return response.message.plain_text()


def buttons_of(response: Response) -> list[Button]:
    assert isinstance(response, Reply), response
    return [e for b in response.message.blocks if isinstance(b, Actions) for e in b.elements if isinstance(e, Button)]


async def test_help_fits_one_screen_and_admins_ask_for_theirs(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    text = text_of(await h.command(h.actor("U1"), "help"))
    assert len(text.splitlines()) <= 16, text
    assert "`join" in text and "`pause" in text and "`feedback" in text
    assert "`stats" not in text and "`export" not in text and "`stop" not in text
    assert "`help admin`" in text
    admin = text_of(await h.command(h.actor("U1"), "help admin"))
    assert "`stats [program]`" in admin and "`match now [program]`" in admin and "`join" not in admin
    assert "Take a break" in text_of(await h.command(h.actor("U1"), "help snooze"))


async def test_unknown_words_get_one_line_with_the_closest_command(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    reply = text_of(await h.command(h.actor("U1"), "snoozee 2w"))
    assert reply.count("\n") == 0 and "Did you mean `pause" in reply, reply
    nothing = text_of(await h.command(h.actor("U1"), "xyzzy plugh"))
    assert nothing == "I didn't understand “xyzzy plugh”. Type `help` to see what I can do."


async def test_snooze_and_vacation_pause(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    ana = h.actor("U1", "Ana")
    await h.enrol(ana)
    assert "Paused until" in text_of(await h.command(ana, "snooze 2w"))
    assert "Welcome back" in text_of(await h.command(ana, "resume"))
    assert "How long?" in text_of(await h.command(ana, "vacation"))
    async with db.session() as s:
        assert (await s.exec(select(Membership))).one().paused_until is None


async def test_stop_unsubscribe_and_opt_out_ask_before_leaving(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    ana = h.actor("U1", "Ana")
    assert "not in any program" in text_of(await h.command(ana, "stop"))
    await h.enrol(ana)
    for words in ("stop", "unsubscribe", "opt out", "STOP"):
        reply = await h.command(ana, words)
        assert "Do you want to leave?" in text_of(reply), words
        [button] = buttons_of(reply)
        assert button.action_id == "program:leave" and button.label == "Leave Coffee"
    async with db.session() as s:
        assert (await s.exec(select(Membership))).one().status == MembershipStatus.ACTIVE.value
    from bot.kernel.events import ActionEvent

    left = await h.core.handle(ActionEvent(actor=ana, action_id=button.action_id, value=button.value))
    assert "You've left Coffee" in text_of(left)
    async with db.session() as s:
        assert (await s.exec(select(Membership))).one().status != MembershipStatus.ACTIVE.value


async def test_goals_and_agreement_are_understood(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    ana = h.actor("U1", "Ana")
    await h.enrol(ana)
    for words in ("goals", "agreement"):
        assert "I didn't understand" not in text_of(await h.command(ana, words)), words


async def test_feedback_reaches_the_organiser_and_empty_feedback_asks(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", "Morgan", admin=True))
    ana = h.actor("U1", "Ana")
    await h.enrol(ana)
    assert "What would you like to tell" in text_of(await h.command(ana, "feedback"))
    assert "passed that on" in text_of(await h.command(ana, "feedback more chats on Fridays please"))
    await h.core.dispatch()
    note = h.last_to("UADMIN")
    assert "more chats on Fridays please" in note.message.plain_text() and "Ana" in note.message.plain_text()
    async with db.session() as s:
        steps = [d.step for d in (await s.exec(select(Delivery))).all() if d.state == DeliveryState.SENT.value]
    assert steps.count("feedback") == 1
