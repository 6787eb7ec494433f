"""The command, button and form registries: no silent overrides, one encoding, permission in one place."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlmodel import select

import bot.core  # noqa: F401  (registers every feature)
from bot.chat import grammar, registry
from bot.chat.errors import REFUSAL
from bot.chat.registry import ButtonKind, DuplicateRegistration, NoValue, decode, encode
from bot.kernel.events import ActionEvent, MentionRef, Reply, Response
from storage.tables import AuditEntry, Membership, Program, User
from tests.core.harness import Harness


def text_of(response: Response) -> str:
    assert isinstance(response, Reply), response
    return response.message.plain_text()


class Pair(NamedTuple):
    program_id: int
    user_id: int


class Answer(NamedTuple):
    instance_id: int
    question_id: str
    answer: str


async def _nothing(*_: object) -> Reply:
    raise AssertionError("never called")


def test_registering_a_name_twice_raises() -> None:
    with pytest.raises(DuplicateRegistration):
        registry.command("stats", "stats", "Again.", admin=True)(_nothing)
    with pytest.raises(DuplicateRegistration):
        registry.on_click(ButtonKind("book:propose", NoValue))(_nothing)
    with pytest.raises(DuplicateRegistration):
        registry.on_submit("profile")(_nothing)
    assert registry.lookup("stats") is not None and registry.lookup("stats").handler is not _nothing


def test_values_have_one_encoding_and_old_colon_values_still_decode() -> None:
    assert encode(Pair(3, 12)) == "3|12"
    assert decode(Pair, "3|12") == Pair(3, 12)
    assert decode(Pair, "3:12") == Pair(3, 12), "the risk digest's PAUSE button before the upgrade"
    assert decode(Answer, "7|met|yes") == Answer(7, "met", "yes")
    assert decode(Answer, "7|note|a|b") == Answer(7, "note", "a|b"), "the last text field keeps its bars"
    for damaged in ("", "3", "x|12", "3|12|4", "3|", "²|1"):
        assert decode(Pair, damaged) is None, damaged
    assert decode(NoValue, "42") == NoValue(), "a value the button no longer needs is ignored"


def test_mentions_and_channels_are_structured_and_left_out_of_the_words() -> None:
    bob = MentionRef(user_id="U7", text="@Bob Smith")
    parsed = grammar.parse("pause @Bob Smith until 2026-12-24", mentions=(bob,))
    assert parsed.command is not None and parsed.command.name == "pause @person"
    assert parsed.mentions == (bob,) and parsed.words == ["until", "2026-12-24"]
    own = grammar.parse("pause until 2026-12-24")
    assert own.command is not None and own.command.name == "pause" and own.args == ["until", "2026-12-24"]


async def test_help_lists_stats_with_its_chart(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    everyone = text_of(await h.command(h.actor("U1"), "help"))
    admins = text_of(await h.command(h.actor("U1"), "help admin"))
    assert "`stats [program]`: Participation, meeting rate, pulse and goals by round, with a chart." in admins
    assert "`join" in everyone and "`stats" not in everyone and "`stats" in admins
    assert admins.index("program create") < admins.index("stats") < admins.index("survey results")
    assert "with a chart" in text_of(await h.command(h.actor("U1"), "help stats"))


async def test_a_damaged_button_answers_cleanly_and_changes_nothing(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    ana = h.actor("U1", "Ana")
    for action_id, value in (("program:join", "not-a-number"), ("book:propose", "12"), ("admin:pause", "1:x")):
        reply = await h.core.handle(ActionEvent(actor=ana, action_id=action_id, value=value))
        assert text_of(reply) == "That button is damaged; please use the latest message.", action_id
    unknown = await h.core.handle(ActionEvent(actor=ana, action_id="gone:away", value="1"))
    assert "isn't something I know any more" in text_of(unknown)
    async with db.session() as s:
        assert (await s.exec(select(Membership))).all() == []


async def test_admin_commands_refuse_non_admins_but_not_a_programs_creator(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", admin=True))
    sam = h.actor("U9", "Sam")
    await h.command(sam, "help")  # Sam is known to the bot, and no admin
    for command in ("stats", "audit", "content list", "icebreaker now"):
        assert text_of(await h.command(sam, command)) == REFUSAL, command
    joinable = text_of(await h.command(sam, "program list"))  # a participant sees what they can join
    assert "join Coffee" in joinable and "#" not in joinable and "active" not in joinable
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        program.created_by_user_id = (await s.exec(select(User).where(User.platform_user_id == "U9"))).one().id
    assert "📊 Coffee" in text_of(await h.command(sam, "stats"))
    assert "Coffee" in text_of(await h.command(sam, "program list"))
    assert text_of(await h.command(sam, "program create")) == REFUSAL, "a new program needs a workspace admin"
    async with db.session() as s:
        actions = [e.action for e in (await s.exec(select(AuditEntry))).all()]
    assert actions.count("stats") == 1, "refused commands are not audited: nothing happened"
