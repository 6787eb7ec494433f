"""At-risk pairs, the weekly admin digest and its buttons, and pausing people who ignore intros."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.admin.risk import find_at_risk, send_digest, update_ignored_intros
from storage.tables import AuditEntry, Delivery, Match, Membership, Program, StepRun, User
from tests.admin.admin_seed import Seeder, program_with_people, text_of, users_by_id
from tests.core.harness import Harness


async def _seed_risky(h: Harness) -> None:
    async with h.core.db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        sd = Seeder(s, program, await users_by_id(s), h.clock.now())
        rnd = await sd.round(1)
        quiet = await sd.match(rnd, ["U1", "U2"])
        await sd.survey(quiet, "did_you_meet", {"U1": None, "U2": None}, "met")
        s.add(
            Delivery(
                idempotency_key=f"match:{quiet.id}:prompt:2",
                workspace_id=program.workspace_id,
                match_id=quiet.id,
                step="prompt",
                target={},
                message={},
            )
        )
        await sd.survey(quiet, "pulse", {"U1": "1", "U2": "1"}, "match_rating", anonymous=True)  # never flags
        unhappy = await sd.match(rnd, ["U3", "U4"], met=True)
        await sd.survey(unhappy, "pulse", {"U3": "2", "U4": "4"}, "match_rating")
        misfit = await sd.match(rnd, ["U5", "U6"], met=True)
        await sd.survey(misfit, "good_fit", {"U5": "not_a_fit", "U6": "good_fit"}, "fit")
        over = await sd.match(rnd, ["U2", "U5"], met=True)
        over.status = "ended"  # a finished pair's old low pulse is history, not a warning sign
        await sd.survey(over, "pulse", {"U2": "1", "U5": None}, "match_rating")
        fine = await sd.match(rnd, ["U1", "U3"], met=True)
        await sd.survey(fine, "pulse", {"U1": "5", "U3": "3"}, "match_rating")


async def test_at_risk_pairs_are_found_with_reasons(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await program_with_people(h)
    await _seed_risky(h)
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        items = await find_at_risk(s, program, h.clock.now())
    found = {tuple(u.platform_user_id for u in i.members): i.reasons for i in items}
    assert found == {
        ("U1", "U2"): ["no meeting yet after 2 prompts"],
        ("U3", "U4"): ["pulse rating 2/5 from Chen"],
        ("U5", "U6"): ["Elif said it's not a good fit"],
    }
    h.clock.advance(timedelta(days=15))  # answers older than two weeks no longer count
    async with db.session() as s:
        items = await find_at_risk(s, program, h.clock.now())
    assert [tuple(u.platform_user_id for u in i.members) for i in items] == [("U1", "U2")]


async def test_digest_buttons_nudge_rematch_and_pause_are_admin_only_and_audited(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    await _seed_risky(h)
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        assert await send_digest(h.core, s, program, week=0) == 1
    await h.core.dispatch()
    digest = h.last_to("UADMIN")
    assert "pairs that may need a hand" in digest.message.plain_text()
    assert "[Nudge] [Rematch next round] [Pause Ana] [Pause Ben]" in digest.message.plain_text()

    sam = h.actor("U9", "Sam")
    for action in ("admin:nudge", "admin:rematch", "admin:pause"):
        assert "only program admins" in text_of(await h.click(sam, digest, action))

    match_id = next(
        e.value
        for b in digest.message.blocks
        if hasattr(b, "elements")
        for e in b.elements
        if getattr(e, "action_id", "") == "admin:nudge"
    )
    assert "Nudged Ana and Ben" in text_of(await h.click(admin, digest, "admin:nudge", match_id))
    await h.core.dispatch()
    nudge = h.last_to("U1")
    assert "friendly nudge" in nudge.message.plain_text() and sorted(nudge.audience) == ["U1", "U2"]
    assert "new match" in text_of(await h.click(admin, digest, "admin:rematch", match_id))
    pause_value = next(
        e.value
        for b in digest.message.blocks
        if hasattr(b, "elements")
        for e in b.elements
        if getattr(e, "label", "") == "Pause Ben"
    )
    assert "Paused Ben" in text_of(await h.click(admin, digest, "admin:pause", pause_value))
    await h.core.dispatch()
    assert "paused your matches" in h.last_to("U2").message.plain_text()
    async with db.session() as s:
        members = {
            u.platform_user_id: m
            for m, u in (await s.exec(select(Membership, User).join(User, User.id == Membership.user_id))).all()
        }
        ended = (await s.exec(select(Match).where(Match.end_reason == "rematch"))).all()
        assert len(ended) == 1 and ended[0].status == "ended", "the rematch ends that pair's match, and only it"
        assert members["U2"].paused_until == h.clock.now() + timedelta(weeks=4)
        actions = [
            (a.action, a.actor_user_id is not None)
            for a in (
                await s.exec(select(AuditEntry).where(AuditEntry.action.in_(["nudge", "rematch", "pause"])))
            ).all()
        ]
        assert actions == [("nudge", True), ("rematch", True), ("pause", True)]


async def test_three_ignored_intros_in_a_row_pause_and_tell_acting_resets(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await program_with_people(h)
    now = h.clock.now()
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        sd = Seeder(s, program, await users_by_id(s), now)
        for week in (3, 2, 1):
            rnd = await sd.round(4 - week)
            match = await sd.match(rnd, ["U1", "U2"], created_days_ago=7 * week)
            # Ben answers the first check-in, then goes quiet; Ana never reacts
            await sd.survey(match, "did_you_meet", {"U1": None, "U2": "not_yet" if week == 3 else None}, "met")
    for week in (3, 2, 1):
        async with db.transaction() as s:
            program = (await s.exec(select(Program))).one()
            paused = await update_ignored_intros(
                h.core, s, program, now - timedelta(days=7 * week + 1), now - timedelta(days=7 * week - 1)
            )
        if week > 1:
            assert paused == []
    assert [u.platform_user_id for u in paused] == ["U1"]
    async with db.session() as s:
        members = {
            u.platform_user_id: m
            for m, u in (await s.exec(select(Membership, User).join(User, User.id == Membership.user_id))).all()
        }
        assert members["U1"].paused_until is not None and members["U1"].ignored_intros == 0
        assert members["U2"].ignored_intros == 2 and members["U2"].paused_until is None
        auto = (await s.exec(select(AuditEntry).where(AuditEntry.action == "auto_pause"))).one()
        assert auto.details["ignored_intros"] == 3 and auto.actor_user_id is None
    await h.core.dispatch()
    told = h.last_to("U1").message.plain_text()
    assert "last 3 introductions" in told and "[I'm back: resume]" in told


async def test_digest_is_a_weekly_step(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await program_with_people(h)
    await _seed_risky(h)
    h.clock.advance(timedelta(days=2, hours=2))  # the digest is due two days after Monday's 10:00 anchor
    await h.core.tick()
    async with db.session() as s:
        run = (await s.exec(select(StepRun).where(StepRun.kind == "digest"))).one()
        assert run.state == "done" and run.key.endswith(":digest:week:0")
    digest = h.last_to("UADMIN").message.plain_text()
    assert "pairs that may need a hand" in digest and "Elif said it's not a good fit" in digest


async def test_risk_command_lists_pairs_for_admins_only(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    await _seed_risky(h)
    assert "Elif said it's not a good fit" in text_of(await h.command(admin, "risk"))
    assert "only program admins" in text_of(await h.command(people[0], "risk"))


async def test_any_click_resets_the_ignored_intro_count(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    async with db.transaction() as s:
        for member in (await s.exec(select(Membership))).all():
            member.ignored_intros = 2
    await h.command(admin, "match now")
    await h.core.dispatch()
    await h.click(people[0], h.last_to("U1"), "book:propose")
    async with db.session() as s:
        counts = {
            u.platform_user_id: m.ignored_intros
            for m, u in (await s.exec(select(Membership, User).join(User, User.id == Membership.user_id))).all()
        }
    assert counts["U1"] == 0 and counts["U2"] == 2


async def test_ended_matches_are_never_listed_as_at_risk(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await program_with_people(h)
    await _seed_risky(h)
    async with db.transaction() as s:  # the misfit pair was rematched, the unhappy one wrapped up
        for match in (await s.exec(select(Match))).all():
            if match.status == "met":
                match.status = "ended"
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        items = await find_at_risk(s, program, h.clock.now())
    assert [tuple(u.platform_user_id for u in i.members) for i in items] == [("U1", "U2")]
