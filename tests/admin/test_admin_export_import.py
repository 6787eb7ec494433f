"""CSV export and import: round trip, all-or-nothing checks with line and field, consent on import."""

from __future__ import annotations

import base64
import csv
import io

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.admin.csv_import import import_participants
from bot.admin.export import export_program
from bot.kernel.events import FileUploadedEvent
from bot.kernel.port import UserInfo
from storage.tables import AuditEntry, Delivery, Membership, Program, SurveyAnswer, User
from tests.admin.admin_seed import program_with_people, seed_stats, text_of
from tests.core.harness import Harness

HEADER = "email,platform_user_id,role,capacity,skills_offered,interests,department,timezone,work_start,work_end\n"
GOOD = ",U1,peer,1,Python,chess,Eng,Europe/Berlin,09:00,17:00\n"


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _program(db, name: str) -> Program:  # noqa: ANN001
    async with db.session() as s:
        return (await s.exec(select(Program).where(Program.name == name))).one()


async def _counts(db) -> tuple[int, ...]:  # noqa: ANN001
    async with db.session() as s:
        return tuple(
            [
                (await s.exec(select(func.count()).select_from(t))).one()
                for t in (User, Membership, Delivery, AuditEntry)
            ]
        )


async def test_export_then_import_into_a_new_program_gives_the_same_people(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    await h.create_program(admin, "lunch", name="Lunch")
    reply = await h.command(admin, "export coffee")
    assert "in a direct message" in text_of(reply)
    await h.core.dispatch()
    dm = h.last_to("UADMIN").message
    files = {f.title: base64.b64decode(f.content_b64).decode() for f in dm.files}
    assert set(files) == {
        "participants.csv",
        "matches.csv",
        "meetings.csv",
        "goals.csv",
        "agreements.csv",
        "survey_answers.csv",
        "survey_answers_anonymous_totals.csv",
    }
    exported = rows_of(files["participants.csv"])
    assert [r["platform_user_id"] for r in exported] == [p.user_id for p in people]

    upload = FileUploadedEvent(
        actor=admin, filename="participants.csv", content=files["participants.csv"].encode(), text="import lunch"
    )
    result = await h.core.handle(upload)
    assert "6 invited" in text_of(result)
    async with db.session() as s:
        lunch = (await s.exec(select(Program).where(Program.name == "Lunch"))).one()
        coffee = (await s.exec(select(Program).where(Program.name == "Coffee"))).one()
        before = {
            (u.platform_user_id, m.role, m.department, tuple(m.skills_offered), tuple(m.interests))
            for m, u in (
                await s.exec(
                    select(Membership, User)
                    .join(User, User.id == Membership.user_id)
                    .where(Membership.program_id == coffee.id)
                )
            ).all()
        }
        after = {
            (u.platform_user_id, m.role, m.department, tuple(m.skills_offered), tuple(m.interests))
            for m, u in (
                await s.exec(
                    select(Membership, User)
                    .join(User, User.id == Membership.user_id)
                    .where(Membership.program_id == lunch.id)
                )
            ).all()
        }
        assert after == before
        statuses = (await s.exec(select(Membership.status).where(Membership.program_id == lunch.id))).all()
        assert set(statuses) == {"invited"}, "opt-in: invited, never silently enrolled"
        audit = (await s.exec(select(AuditEntry).where(AuditEntry.action == "import"))).one()
        assert audit.details["invited"] == 6 and audit.actor_user_id is not None
    await h.core.dispatch()
    invite = h.last_to("U1")
    assert "Lunch" in invite.message.plain_text() and "[Join]" in invite.message.plain_text()
    await h.click(people[0], invite, "program:join")
    async with db.session() as s:
        member = (
            await s.exec(
                select(Membership)
                .join(User, User.id == Membership.user_id)
                .where(Membership.program_id == lunch.id, User.platform_user_id == "U1")
            )
        ).one()
        assert member.status == "active" and member.skills_offered == ["Python", "SQL"]


async def test_export_contents_and_anonymous_answers_only_as_totals(db, start_time) -> None:  # noqa: ANN001
    from tests.admin.admin_seed import Seeder, users_by_id

    h = Harness.create(db, start_time)
    await program_with_people(h)
    await seed_stats(h)
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        sd = Seeder(s, program, await users_by_id(s), h.clock.now())
        from storage.tables import Match

        match = (await s.exec(select(Match))).first()
        await sd.survey(match, "midpoint", {"U1": "4", "U2": "5", "U3": "3"}, "usefulness", anonymous=True)
        await sd.survey(match, "midpoint", {"U1": "weekly", "U2": None}, "cadence", anonymous=True)
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        files = await export_program(s, program)
        anonymous_ids = {a.id for a in (await s.exec(select(SurveyAnswer).where(SurveyAnswer.user_id.is_(None)))).all()}
    assert len(anonymous_ids) == 4
    named = rows_of(files["survey_answers.csv"])
    assert len(named) == 11 and {r["survey"] for r in named} == {"did_you_meet", "pulse"}
    totals = {(r["survey"], r["question"]): r for r in rows_of(files["survey_answers_anonymous_totals.csv"])}
    assert totals[("midpoint", "usefulness")]["average"] == "4.00"
    assert totals[("midpoint", "cadence")]["counts"] == "not enough answers"
    matches = rows_of(files["matches.csv"])
    assert len(matches) == 5 and "Ana <U1> (peer)" in matches[0]["members"]


BAD_FILES = {
    "unknown role": (HEADER + GOOD + ",U2,boss,1,,,,Europe/Berlin,09:00,17:00\n", 3, "role"),
    "bad zone": (HEADER + GOOD + ",U2,peer,1,,,,Mars/Olympus,09:00,17:00\n", 3, "timezone"),
    "zone abbreviation": (HEADER + GOOD + ",U2,peer,1,,,,EST,09:00,17:00\n", 3, "timezone"),
    "bad hours": (HEADER + GOOD + ",U2,peer,1,,,,Europe/Berlin,9am,17:00\n", 3, "work_start"),
    "same start and end": (HEADER + GOOD + ",U2,peer,1,,,,Europe/Berlin,09:00,09:00\n", 3, "work_end"),
    "bad capacity": (HEADER + GOOD + ",U2,peer,many,,,,Europe/Berlin,09:00,17:00\n", 3, "capacity"),
    "unknown e-mail": (HEADER + GOOD + "nobody@example.org,,peer,1,,,,Europe/Berlin,09:00,17:00\n", 3, "email"),
    "not an e-mail": (HEADER + GOOD + "nobody,,peer,1,,,,Europe/Berlin,09:00,17:00\n", 3, "email"),
    "duplicate row": (HEADER + GOOD + GOOD, 3, "platform_user_id"),
    "missing column": ("email,platform_user_id,capacity\n,U1,1\n", 1, "role"),
    "no identity column": ("role,capacity\npeer,1\n", 1, "email"),
    "unknown column": (HEADER.strip() + ",favourite_colour\n" + GOOD.strip() + ",blue\n", 1, "favourite_colour"),
    "too many values": (HEADER + GOOD.strip() + ",extra,values\n", 2, "row"),
    "empty file": ("", 1, "header"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
async def test_import_rejects_bad_rows_and_writes_nothing(db, start_time, case: str) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    for uid in ("U1", "U2"):
        await h.command(h.actor(uid), "help")  # known to the bot, not in the program
    text, line, field = BAD_FILES[case]
    before = await _counts(db)
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        result = await import_participants(h.core, s, program, text, None, filename="people.csv")
    assert not result.ok
    assert [(p.line, p.field) for p in result.problems] == [(line, field)], result.problems
    assert await _counts(db) == before, "all or nothing: nothing was written"


async def test_every_bad_row_is_reported_at_once(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    text = HEADER + GOOD + ",U2,boss,1,,,,Mars/Olympus,09:00,17:00\n" + ",U3,peer,1,,,,UTC,25:00,17:00\n" + GOOD
    reply = await h.core.handle(
        FileUploadedEvent(actor=admin, filename="people.csv", content=text.encode(), text="import")
    )
    body = text_of(reply)
    for expected in (
        "line 3, role",
        "line 3, timezone",
        "line 4, work_start",
        "line 5, platform_user_id: duplicate of line 2",
        "nothing was imported",
    ):
        assert expected in body, expected


async def test_emails_resolve_through_the_directory_and_opt_out_enrols_with_a_leave_button(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    h.port.directory["zoe@example.org"] = UserInfo(
        user_id="UZOE", name="Zoe", email="zoe@example.org", timezone="Asia/Tokyo"
    )
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin, enrolment="opt_out")
    await h.command(h.actor("UKIM", "Kim"), "help")
    async with db.transaction() as s:  # Kim is known by e-mail in the database
        (await s.exec(select(User).where(User.platform_user_id == "UKIM"))).one().email = "kim@example.org"
    text = "email,role,skills\nZoe@Example.org,peer,Go; Rust\nkim@example.org,peer,\n"
    reply = await h.core.handle(FileUploadedEvent(actor=admin, filename="p.csv", content=text.encode()))
    assert "2 enrolled" in text_of(reply)
    await h.core.dispatch()
    notice = h.last_to("UZOE").message.plain_text()
    assert "added to" in notice and "[Leave the program]" in notice
    async with db.session() as s:
        zoe = (await s.exec(select(User).where(User.platform_user_id == "UZOE"))).one()
        assert zoe.timezone == "Asia/Tokyo" and zoe.display_name == "Zoe"
        member = (await s.exec(select(Membership).where(Membership.user_id == zoe.id))).one()
        assert member.status == "active" and member.skills_offered == ["Go", "Rust"]
    await h.click(h.actor("UZOE", "Zoe"), h.last_to("UZOE"), "program:leave")
    again = await h.core.handle(FileUploadedEvent(actor=admin, filename="p.csv", content=text.encode()))
    assert "1 invited" in text_of(again), "someone who left is only invited back, never re-enrolled"


async def test_non_admin_upload_is_refused(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await h.create_program(h.actor("UADMIN", "Morgan", admin=True))
    before = await _counts(db)
    reply = await h.core.handle(
        FileUploadedEvent(actor=h.actor("U9"), filename="p.csv", content=(HEADER + GOOD).encode(), text="import")
    )
    assert "only program admins" in text_of(reply)
    after = await _counts(db)
    assert after[1:] == before[1:] and after[0] == before[0] + 1  # only the uploader became known


async def test_formula_like_cells_are_defused_on_export_and_restored_on_import(db, start_time) -> None:  # noqa: ANN001
    from bot.admin.csv_import import parse_rows

    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    async with db.transaction() as s:
        member = (
            await s.exec(
                select(Membership).join(User, User.id == Membership.user_id).where(User.platform_user_id == "U1")
            )
        ).one()
        member.department = '=HYPERLINK("http://evil.example","click")'
    async with db.session() as s:
        files = await export_program(s, (await s.exec(select(Program))).one())
    exported = rows_of(files["participants.csv"])
    assert exported[0]["department"].startswith("'=HYPERLINK")
    rows, problems = parse_rows(
        Program(name="x", channel_id="x", kind="peer", workspace_id=1), files["participants.csv"]
    )
    assert problems == [] and rows[0].department == member.department


async def test_unknown_upload_and_wrong_text_get_a_hint(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    photo = await h.core.handle(FileUploadedEvent(actor=admin, filename="cat.jpg", content=b"\xff\xd8"))
    assert "import [program]" in text_of(photo)
    other = await h.core.handle(FileUploadedEvent(actor=admin, filename="p.csv", content=b"x", text="stats"))
    assert "only know what to do with participant CSV" in text_of(other)
    binary = await h.core.handle(
        FileUploadedEvent(actor=admin, filename="p.csv", content=b"\xff\xfe\x00bad", text="import coffee")
    )
    assert "UTF-8" in text_of(binary)
    nowhere = await h.core.handle(FileUploadedEvent(actor=admin, filename="p.csv", content=b"x", text="import tennis"))
    assert "can't find a program called 'tennis'" in text_of(nowhere)


async def test_export_lists_booked_meetings_and_the_import_command_explains_itself(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    await h.command(admin, "match now")
    await h.core.dispatch()
    intro = h.last_to("U1")
    partner = next(p for p in people if p.user_id in intro.audience and p.user_id != "U1")
    await h.click(people[0], intro, "book:propose")
    await h.core.dispatch()
    await h.click(partner, h.last_to(partner.user_id), "book:accept")
    async with db.session() as s:
        files = await export_program(s, (await s.exec(select(Program))).one())
    meetings = rows_of(files["meetings.csv"])
    assert [m["state"] for m in meetings].count("confirmed") == 1
    assert all(m["start_at"] for m in meetings if m["state"] == "confirmed")
    hint = text_of(await h.command(admin, "import"))
    assert "import Coffee" in hint and "platform_user_id" in hint


async def test_export_has_goals_agreements_and_when_each_match_started_and_ended(db, start_time) -> None:  # noqa: ANN001
    from datetime import timedelta

    from bot.admin.export import export_program
    from storage.tables import Agreement, Goal, Match, MatchMember, Round

    h = Harness.create(db, start_time)
    await program_with_people(h)
    now = h.clock.now()
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        ana, ben = (await s.exec(select(User).where(User.platform_user_id.in_(["U1", "U2"])).order_by(User.id))).all()
        rnd = Round(program_id=program.id, number=1, seed=1, status="matched", scheduled_for=now)
        s.add(rnd)
        await s.flush()
        match = Match(round_id=rnd.id, program_id=program.id, created_at=now, status="ended")
        match.ended_at, match.end_reason = now + timedelta(weeks=12), "track_over"
        s.add(match)
        await s.flush()
        s.add_all([MatchMember(match_id=match.id, user_id=ana.id), MatchMember(match_id=match.id, user_id=ben.id)])
        s.add(
            Goal(
                match_id=match.id,
                owner_user_id=ben.id,
                position=1,
                text="=lead a design review",
                status="done",
                created_at=now,
                updated_at=now + timedelta(weeks=6),
            )
        )
        s.add(
            Agreement(
                match_id=match.id,
                cadence="biweekly",
                medium="video",
                proposed_by_user_id=ben.id,
                proposed_at=now,
                confirmed_by_user_id=ana.id,
                confirmed_at=now + timedelta(days=1),
            )
        )
    async with db.session() as s:
        files = await export_program(s, (await s.exec(select(Program))).one())
    (goal,) = rows_of(files["goals.csv"])
    assert goal == {
        "match_id": str(match.id),
        "platform_user_id": "U2",
        "goal": "'=lead a design review",
        "status": "done",
        "updated_at": (now + timedelta(weeks=6)).isoformat(),
    }
    (agreement,) = rows_of(files["agreements.csv"])
    assert agreement == {
        "match_id": str(match.id),
        "cadence": "biweekly",
        "medium": "video",
        "agreed_at": (now + timedelta(days=1)).isoformat(),
    }
    (row,) = rows_of(files["matches.csv"])
    assert (row["started_at"], row["ended_at"], row["end_reason"]) == (
        now.isoformat(),
        (now + timedelta(weeks=12)).isoformat(),
        "track_over",
    )


async def test_import_keeps_what_people_entered_unless_the_admin_overwrites(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    ana = h.actor("U1", "Ana", tz="Europe/Berlin")
    await h.enrol(ana, profile={"interests": "climbing", "timezone": "America/New_York"})
    text = HEADER + ",U1,peer,1,Python,golf,Sales,Europe/Lisbon,08:00,16:00\n"

    async def upload(words: str) -> str:
        event = FileUploadedEvent(actor=admin, filename="people.csv", content=text.encode(), text=words)
        return text_of(await h.core.handle(event))

    kept = await upload("import")
    assert "Kept what people entered themselves: interests (1 person), timezone (1 person)." in kept
    assert "--overwrite" in kept
    async with db.session() as s:
        member, user = (await s.exec(select(Membership, User).join(User, User.id == Membership.user_id))).one()
    assert member.interests == ["climbing"] and user.timezone == "America/New_York", "hers, kept"
    assert member.department == "Sales" and member.skills_offered == ["Python"] and user.work_start == "08:00"

    replaced = await upload("import --overwrite")
    assert "Kept" not in replaced and "1 already in" in replaced
    async with db.session() as s:
        member, user = (await s.exec(select(Membership, User).join(User, User.id == Membership.user_id))).one()
        audit = (await s.exec(select(AuditEntry).where(AuditEntry.action == "import"))).all()
    assert member.interests == ["golf"] and user.timezone == "Europe/Lisbon"
    assert "interests" not in member.self_entered and "timezone" not in user.self_entered
    assert [a.details["kept"] for a in audit] == [{"interests": 1, "timezone": 1}, {}]
    assert [a.details["overwrite"] for a in audit] == [False, True]


async def test_a_role_chosen_with_join_as_is_kept_by_an_import(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin, "mentoring", name="Mentoring", kind="mentoring")
    ana = h.actor("U1", "Ana")
    assert "as mentor" in text_of(await h.command(ana, "join as mentor"))
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        result = await import_participants(h.core, s, program, HEADER + ",U1,mentee,1,,,,,,\n", None)
    assert result.kept == {"role": 1}
    async with db.session() as s:
        assert (await s.exec(select(Membership))).one().role == "mentor"
