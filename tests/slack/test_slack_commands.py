"""Slash commands and modals end to end: signed request in, the core's effect in the database, answer out."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.tables import AuditEntry, Avoidance, Membership, Program, User
from tests.slack.slack_support import form_request, slash_command, view_submission

ADMIN = "W111"
PERSON = "U222"


async def run(h, text: str, user: str = PERSON, channel: str = "C111") -> dict:  # noqa: ANN001
    """Send ``/tandem <text>`` and return the answer posted to its response_url."""
    before = len(h.fake.hooks)
    fields = slash_command(text, user=user, channel=channel, response_url=h.fake.hook_url(f"cmd{before}"))
    resp = await h.post(*form_request(fields))
    assert resp.status == 200
    assert await resp.text() == ""  # acked at once, empty: the answer follows via response_url
    await h.settle()
    return h.fake.hooks[before] if len(h.fake.hooks) > before else {}


async def rows(h, model, *where):  # noqa: ANN001, ANN201
    async with h.core.db.session() as s:
        return list((await s.exec(select(model).where(*where))).all())


async def create_program(h, channel: str = "C111", enrolment: str = "opt_in") -> Program:  # noqa: ANN001
    h.fake.admins.add(ADMIN)
    resp = await h.post(
        *form_request(
            slash_command("program create", user=ADMIN, channel=channel, response_url=h.fake.hook_url("create"))
        )
    )
    assert resp.status == 200
    await h.settle()
    opened = h.fake.called("views.open")[-1].args
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "program_create"
    assert opened["trigger_id"].startswith(f"trig-{ADMIN}")
    submit = view_submission(view, {"name": "Coffee chats", "channel": channel, "enrolment": enrolment}, user=ADMIN)
    resp = await h.interact(submit)
    assert resp.status == 200
    await h.settle()
    [program] = await rows(h, Program, Program.channel_id == channel)
    return program


async def test_help_answers_ephemerally_through_response_url(harness) -> None:  # noqa: ANN001
    hook = await run(harness, "help")
    assert hook["response_type"] == "ephemeral"
    text = str(hook["blocks"])
    assert "join" in text and "pause" in text
    assert "**" not in text  # core markup was turned into Slack mrkdwn


async def test_admin_creates_a_program_through_the_modal(harness) -> None:  # noqa: ANN001
    program = await create_program(harness)
    assert program.name == "Coffee chats"
    [creator] = await rows(harness, User, User.platform_user_id == ADMIN)
    assert creator.is_platform_admin  # from users.info is_admin
    assert creator.display_name == f"name-{ADMIN}"
    assert await rows(harness, AuditEntry, AuditEntry.action == "program_create")


async def test_form_errors_come_back_inline_on_the_modal(harness) -> None:  # noqa: ANN001
    harness.fake.admins.add(ADMIN)
    await run(harness, "program create", user=ADMIN)
    view = harness.fake.called("views.open")[-1].args["view"]
    resp = await harness.interact(view_submission(view, {"channel": "", "time": "25:99"}, user=ADMIN))
    assert resp.status == 200
    answer = await resp.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) >= {"channel"}
    assert {b["block_id"] for b in view["blocks"] if b["type"] == "input"} >= set(answer["errors"])
    assert await rows(harness, Program) == []


async def test_people_who_are_not_admins_cannot_create_programs(harness) -> None:  # noqa: ANN001
    hook = await run(harness, "program create", user=PERSON)
    assert "only program admins" in str(hook["blocks"])
    assert harness.fake.called("views.open") == []


async def test_configured_admins_need_not_be_workspace_admins(database, fake) -> None:  # noqa: ANN001
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from adapters.slack.http import mount
    from bot.core import Tandem
    from tests.slack.slack_harness import slack_config

    core = Tandem(database, pacing=False)  # real wall clock: quiet hours would make the test depend on the time of day
    app = web.Application()
    mount(app, core, slack_config(fake, admin_ids=frozenset({PERSON})))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        body, headers = form_request(
            slash_command("program create", user=PERSON, channel="C9", response_url=fake.hook_url("x"))
        )
        assert (await client.post("/slack/events", data=body, headers=headers)).status == 200
        await fake.wait_for("views.open")


async def test_join_pause_status_avoid_resume_leave(harness) -> None:  # noqa: ANN001
    program = await create_program(harness)

    hook = await run(harness, "join")
    assert "Welcome to Coffee chats" in str(hook["blocks"])
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.status == "active"

    await run(harness, "pause 2w")
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.paused_until is not None
    assert member.paused_until - harness.core.clock.now() > timedelta(days=13)

    hook = await run(harness, "status")
    assert hook["response_type"] == "ephemeral" and hook["blocks"]

    hook = await run(harness, f"avoid <@{ADMIN}|primary-owner>")
    assert "won't match you" in str(hook["blocks"])
    assert len(await rows(harness, Avoidance)) == 1

    await run(harness, "resume")
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.paused_until is None or member.paused_until <= harness.core.clock.now()

    await run(harness, "leave")
    [member] = await rows(harness, Membership, Membership.program_id == program.id)
    assert member.status == "left"


async def test_profile_opens_a_modal_and_saves(harness) -> None:  # noqa: ANN001
    program = await create_program(harness)
    await run(harness, "join")
    await run(harness, "profile")
    view = harness.fake.called("views.open")[-1].args["view"]
    assert view["callback_id"] == "profile" and view["private_metadata"] == str(program.id)
    assert len(view["title"]["text"]) <= 24
    resp = await harness.interact(view_submission(view, {}, user=PERSON))
    assert resp.status == 200
    await harness.settle()
    dm = harness.fake.called("chat.postMessage")[-1].args
    assert dm["channel"] == PERSON and "Saved your profile" in dm["text"]


async def test_admin_commands_reach_the_core(harness) -> None:  # noqa: ANN001
    await create_program(harness)
    hook = await run(harness, "program list", user=ADMIN)
    assert "Coffee chats" in str(hook["blocks"])
    hook = await run(harness, "match preview", user=ADMIN)
    assert hook["blocks"]
    await run(harness, "program settings", user=ADMIN)
    assert harness.fake.called("views.open")[-1].args["view"]["callback_id"] == "program_settings"


async def test_an_expired_trigger_gets_an_apology_instead_of_silence(harness) -> None:  # noqa: ANN001
    harness.fake.admins.add(ADMIN)
    harness.fake.fail_next("views.open", "expired_trigger_id")
    hook = await run(harness, "program create", user=ADMIN)
    assert "took me too long" in hook["text"]


async def test_stats_chart_follows_the_ephemeral_answer_in_the_admins_dm(harness) -> None:  # noqa: ANN001
    await create_program(harness)
    answer = await run(harness, "stats", user=ADMIN)
    assert "Coffee chats" in str(answer) and answer.get("response_type") == "ephemeral"
    uploads = harness.fake.called("files.completeUploadExternal")
    assert len(uploads) == 1
    assert uploads[0].args["channel_id"].startswith("D"), "the chart goes to the admin's DM, not the channel"
    (upload,) = harness.fake.called("upload")
    assert b"\x89PNG\r\n\x1a\n" in upload.args["body"], "the chart itself, as a PNG"
    nothing = await run(harness, "help", user=ADMIN)
    assert nothing and len(harness.fake.called("files.completeUploadExternal")) == 1, "answers without files: none"
