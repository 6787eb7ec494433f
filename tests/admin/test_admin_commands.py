"""announce, remove, pause @person, audit; and no admin command works for someone who isn't an admin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from bot.kernel.events import MentionRef, NoReply
from storage.tables import AuditEntry, Delivery, Membership, User
from tests.admin.admin_seed import program_with_people, text_of
from tests.core.harness import Harness

ANA = MentionRef(user_id="U1", text="@Ana")
ADMIN_COMMANDS: tuple[tuple[str, tuple[MentionRef, ...]], ...] = (
    ("stats", ()),
    ("risk", ()),
    ("export", ()),
    ("import", ()),
    ("announce Hello everyone", ()),
    ("remove @Ana", (ANA,)),
    ("pause @Ana until 2026-04-01", (ANA,)),
    ("audit", ()),
)


async def test_announce_posts_to_the_program_channel_and_is_audited(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with_people(h)
    await h.create_program(admin, "lunch", name="Lunch club")
    reply = await h.command(admin, "announce lunch club Pizza on Friday!")
    assert "channel of Lunch club" in text_of(reply) and "#lunch" not in text_of(reply)  # no platform id
    await h.core.dispatch()
    post = h.port.sent[-1]
    assert post.channel == "lunch" and "Pizza on Friday!" in post.message.plain_text()
    assert "Lunch club" in post.message.plain_text()
    await h.command(admin, "announce Coffee is back", channel="coffee")
    await h.core.dispatch()
    assert h.port.sent[-1].channel == "coffee" and "Coffee is back" in h.port.sent[-1].message.plain_text()
    async with db.session() as s:
        entries = (await s.exec(select(AuditEntry).where(AuditEntry.action == "announce"))).all()
        assert [e.details["text"] for e in entries] == ["Pizza on Friday!", "Coffee is back"]


async def test_remove_and_pause_someone_tell_them_and_show_in_the_audit_log(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    assert "Removed Ana" in text_of(await h.command(admin, "remove @Ana coffee", mentions=(ANA,)))
    assert "isn't in" in text_of(await h.command(admin, "remove @Ana", mentions=(ANA,)))
    reply = await h.command(admin, "pause @Ben until 2026-04-01")
    assert "Paused Ben in Coffee until" in text_of(reply)
    bad = await h.command(admin, "pause @Cy until someday", mentions=(MentionRef(user_id="U3", text="@Cy"),))
    assert "not" in text_of(bad).lower()
    await h.core.dispatch()
    assert "taken you out" in h.last_to("U1").message.plain_text()
    assert "paused your matches until" in h.last_to("U2").message.plain_text()
    async with db.session() as s:
        members = {
            u.platform_user_id: m
            for m, u in (await s.exec(select(Membership, User).join(User, User.id == Membership.user_id))).all()
        }
        assert members["U1"].status == "left"
        assert members["U2"].paused_until is not None and members["U2"].paused_until.date().isoformat() >= "2026-03-31"
        assert members["U3"].paused_until is None

    self_pause = await h.command(people[2], "pause 1w")  # the participant's own pause still works
    assert "Paused until" in text_of(self_pause)

    log = text_of(await h.command(admin, "audit"))
    assert "Morgan · **pause** · user=U2" in log or "Morgan · pause · user=U2" in log
    assert "remove" in log and "program_create" in log
    assert log.index("pause") < log.index("remove"), "newest first"


async def test_non_admins_cannot_run_any_admin_command(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await program_with_people(h)
    ben = people[1]
    h.clock.advance(timedelta(minutes=1))

    async def counts() -> tuple[int, int]:
        async with db.session() as s:
            return (
                (await s.exec(select(func.count()).select_from(Delivery))).one(),
                (await s.exec(select(func.count()).select_from(AuditEntry))).one(),
            )

    before = await counts()
    for command, mentions in ADMIN_COMMANDS:
        reply = await h.command(ben, command, mentions=mentions)
        assert not isinstance(reply, NoReply)
        assert "only program admins" in text_of(reply), command
    assert await counts() == before
    async with db.session() as s:
        member = (
            await s.exec(
                select(Membership).join(User, User.id == Membership.user_id).where(User.platform_user_id == "U1")
            )
        ).one()
        assert member.status == "active" and member.paused_until is None


async def test_help_lists_the_admin_commands(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    text = text_of(await h.command(h.actor("U1"), "help admin"))
    for usage in ("export [program]", "announce [program] text", "audit [program]", "remove @person [program]"):
        assert usage in text
