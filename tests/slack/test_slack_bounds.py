"""Names and typed values that try to become markup, or are too long, through the real Slack endpoint."""

from __future__ import annotations

import logging

from storage.tables import Program, User
from tests.slack.slack_support import form_request, slash_command, view_submission
from tests.slack.test_slack_commands import ADMIN, PERSON, rows, run

HOSTILE = "<!channel> <@U999> <https://evil.example|click> \x1b[31m\x07 \u202eeman"


async def test_a_hostile_program_name_stays_text_in_the_notification(harness) -> None:  # noqa: ANN001
    harness.fake.admins.add(ADMIN)
    resp = await harness.post(
        *form_request(slash_command("program create", user=ADMIN, channel="C111", response_url=harness.fake.hook_url()))
    )
    assert resp.status == 200
    await harness.settle()
    view = harness.fake.called("views.open")[-1].args["view"]
    submit = view_submission(view, {"name": HOSTILE, "channel": "C111", "enrolment": "opt_in"}, user=ADMIN)
    assert (await harness.interact(submit)).status == 200
    await harness.settle()
    [program] = await rows(harness, Program)
    assert "\x1b" not in program.name and "\x07" not in program.name and "\u202e" not in program.name
    await run(harness, "join")
    texts = [c.args.get("text", "") for c in harness.fake.called("chat.postMessage")] + [
        h.get("text", "") for h in harness.fake.hooks
    ]
    assert any("&lt;!channel&gt;" in t for t in texts)
    for text in texts:
        assert "<!channel>" not in text and "<@U999>" not in text and "<https://evil" not in text
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


async def test_a_very_long_display_name_does_not_lock_anyone_out(harness) -> None:  # noqa: ANN001
    await _program(harness)
    harness.fake.names[PERSON] = "Ann " + "a" * 400 + "\x07"
    hook = await run(harness, "join")
    assert "You're in" in hook.get("text", "") or hook
    [user] = await rows(harness, User, User.platform_user_id == PERSON)
    assert len(user.display_name) <= 200 and "\x07" not in user.display_name
    hook = await run(harness, "status")
    assert hook.get("text")


async def test_a_ten_kilobyte_time_zone_gets_a_clear_answer(harness, caplog) -> None:  # noqa: ANN001
    await _program(harness)
    await run(harness, "join")
    await run(harness, "profile")
    view = harness.fake.called("views.open")[-1].args["view"]
    with caplog.at_level(logging.INFO):
        resp = await harness.interact(view_submission(view, {"timezone": "Europe/" + "x" * 10_000}, user=PERSON))
        await harness.settle()
    assert resp.status == 200
    answer = await resp.json()
    assert answer["response_action"] == "errors"
    assert "not a time zone I know" in answer["errors"]["timezone"]
    assert all(r.exc_info is None for r in caplog.records)
    [user] = await rows(harness, User, User.platform_user_id == PERSON)
    assert user.timezone != "Europe/" + "x" * 10_000


async def _program(h) -> None:  # noqa: ANN001
    from tests.slack.test_slack_commands import create_program

    await create_program(h)
