"""A participants CSV sent to Tandem in its Slack DM: a signed Events API ``message``/``file_share`` → an import.

There is no recorded file_share payload among the conformance fixtures, so the payload is the recorded
``message.im`` event with the documented file_share fields added (``subtype``, ``files``, ``upload``), and
the file objects carry the documented fields (``url_private``, ``url_private_download``, ``size``, …), their
addresses pointing at the fake Slack on 127.0.0.1.
"""

from __future__ import annotations

import copy
from typing import Any

from storage.tables import AuditEntry, Membership, Program
from tests.slack.fake_slack import BOT_USER_ID
from tests.slack.slack_support import load
from tests.slack.test_slack_commands import ADMIN, PERSON, create_program, rows

HEADER = "email,platform_user_id,role,timezone,work_start,work_end\n"
GOOD = HEADER + ",U301,peer,Europe/Berlin,09:00,17:00\n,U302,,UTC,08:00,16:00\n"
BAD = HEADER + ",U301,boss,Europe/Berlin,09:00,17:00\n,U302,peer,Mars/Olympus,09:00,17:00\n,U303,peer,UTC,25:00,17:00\n"


def file_share(
    files: list[dict[str, Any]],
    text: str = "import",
    *,
    user: str = ADMIN,
    event_id: str = "Ev-file-1",
    channel: str = "D111",
    channel_type: str = "im",
) -> dict[str, Any]:
    payload = copy.deepcopy(load("events/event_callback_message_im.json"))
    event = payload["event"]
    for key in ("thread_ts", "parent_user_id"):  # a new message in the DM, not a thread reply
        event.pop(key, None)
    event.update(
        subtype="file_share",
        text=text,
        files=files,
        upload=False,
        display_as_bot=False,
        user=user,
        channel=channel,
        channel_type=channel_type,
        client_msg_id="5c8e1b1c-0d2e-4c53-9a4f-3f7d2f1c1a11",
    )
    payload["event_id"] = event_id
    return payload


def answers(h, channel: str = "D111") -> list[str]:  # noqa: ANN001
    """Each answer posted in the DM, as the text of its blocks (the ``text`` fallback is only a summary)."""
    return [
        "\n".join(_texts(c.args.get("blocks") or []))
        for c in h.fake.called("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        text = node.get("text")
        return [text] if isinstance(text, str) else [t for v in node.values() for t in _texts(v)]
    return [t for v in node for t in _texts(v)] if isinstance(node, list) else []


async def members(h, program: Program) -> list[Membership]:  # noqa: ANN001
    return await rows(h, Membership, Membership.program_id == program.id)


async def send(h, payload: dict[str, Any], **headers: str) -> None:  # noqa: ANN001
    resp = await h.event(payload, **headers)
    assert resp.status == 200
    await h.settle()


async def test_an_admin_sends_a_csv_and_the_participants_are_imported(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    shared = harness.fake.add_file("people.csv", GOOD.encode())
    await send(harness, file_share([shared], text="import coffee chats"))

    [download] = harness.fake.called("download")
    assert download.token == "xoxb-test-token"
    assert download.args["path"].endswith("/download/people.csv"), "url_private_download is preferred"
    imported = await members(harness, program)
    assert sorted(m.status for m in imported) == ["invited", "invited"], "opt-in: invited, never enrolled"
    [audit] = await rows(harness, AuditEntry, AuditEntry.action == "import")
    assert audit.details["invited"] == 2
    [answer] = answers(harness)
    assert answer.startswith("Coffee chats: Imported 2 people: 2 invited")


async def test_a_csv_with_bad_rows_writes_nothing_and_names_each_line_and_field(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    await send(harness, file_share([harness.fake.add_file("people.csv", BAD.encode())]))
    assert await members(harness, program) == []
    assert await rows(harness, AuditEntry, AuditEntry.action == "import") == []
    answer = answers(harness)[-1]
    for expected in (
        "people.csv: 3 problem(s); nothing was imported",
        "line 2, role",
        "line 3, timezone",
        "line 4, work_start",
    ):
        assert expected in answer, expected


async def test_someone_who_is_not_an_admin_is_refused(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    await send(harness, file_share([harness.fake.add_file("people.csv", GOOD.encode(), user=PERSON)], user=PERSON))
    assert await members(harness, program) == []
    assert "only program admins" in answers(harness)[-1]


async def test_a_retried_event_imports_once(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    payload = file_share([harness.fake.add_file("people.csv", GOOD.encode())])
    await send(harness, payload)
    await send(harness, payload, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert len(harness.fake.called("download")) == 1
    assert len(await members(harness, program)) == 2
    assert sum("Imported 2 people" in a for a in answers(harness)) == 1


async def test_a_file_stub_is_looked_up_with_files_info_first(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    shared = harness.fake.add_file("people.csv", GOOD.encode())
    stub = {
        "id": shared["id"],
        "mode": "file_access",
        "file_access": "check_file_info",
        "created": 0,
        "timestamp": 0,
        "user": "",
    }
    await send(harness, file_share([stub]))
    [info] = harness.fake.called("files.info")
    assert info.args["file"] == shared["id"] and info.token == "xoxb-test-token"
    assert len(await members(harness, program)) == 2
    assert "Imported 2 people" in answers(harness)[-1]


async def test_a_file_slack_no_longer_has_gets_a_clear_answer(harness, conformance) -> None:  # noqa: ANN001
    await create_program(harness)
    harness.fake.fail_next("files.info", "file_not_found")
    await send(harness, file_share([{"id": "F0GONE", "file_access": "check_file_info"}]))
    assert harness.fake.called("download") == []
    assert answers(harness)[-1] == "I can't find F0GONE on Slack any more; please send it again."


async def test_download_failures_are_answered_in_one_line(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    cases = [
        ("404", "I couldn't download people.csv (Slack answered HTTP 404); please send it again."),
        ("html", "I couldn't download people.csv: Slack sent its sign-in page instead of the file."),
        ("500", "I couldn't download people.csv (Slack answered HTTP 500); please send it again."),
    ]
    for index, (fault, expected) in enumerate(cases):
        harness.fake.fail_next("download", fault)
        shared = harness.fake.add_file("people.csv", GOOD.encode())
        await send(harness, file_share([shared], event_id=f"Ev-fail-{index}"))
        answer = answers(harness)[-1]
        assert answer.startswith(expected), (fault, answer)
        assert "xoxb" not in answer and "\n" not in answer
    assert await members(harness, program) == []


async def test_a_download_that_hangs_times_out_with_an_answer(harness, conformance) -> None:  # noqa: ANN001
    await create_program(harness)
    harness.adapter.files.timeout = 0.3
    harness.fake.fail_next("download", "hang")
    await send(harness, file_share([harness.fake.add_file("people.csv", GOOD.encode())]))
    assert answers(harness)[-1] == "Downloading people.csv from Slack took too long; please send it again."


async def test_too_big_files_are_refused_before_and_during_the_download(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    limit = harness.adapter.config.download_limit_bytes
    assert limit == 5 * 1024 * 1024
    big = (HEADER + ",U301,peer,UTC,09:00,17:00\n" * (limit // 20)).encode()
    assert len(big) > limit
    honest = harness.fake.add_file("huge.csv", big)
    await send(harness, file_share([honest]))
    assert harness.fake.called("download") == [], "Slack's size says it is too big: not downloaded"
    assert answers(harness)[-1].startswith("huge.csv is too big (")
    assert "I import files up to 5 MB" in answers(harness)[-1]

    lying = harness.fake.add_file("huge.csv", big) | {"size": 100}
    await send(harness, file_share([lying], event_id="Ev-file-2"))
    assert len(harness.fake.called("download")) == 1
    assert answers(harness)[-1] == "huge.csv is too big (6.8 MB); I import files up to 5 MB.", "Content-Length"

    harness.fake.fail_next("download", "chunked")
    await send(harness, file_share([lying], event_id="Ev-file-3"))
    assert len(harness.fake.called("download")) == 2
    assert answers(harness)[-1] == "huge.csv is too big (over 5 MB); I import files up to 5 MB.", "while reading"
    assert await members(harness, program) == []


async def test_the_token_goes_only_to_slacks_file_host(harness, conformance) -> None:  # noqa: ANN001
    """An address elsewhere (here: the same fake under another host name) never sees the bot token."""
    program = await create_program(harness)
    port = harness.fake.base.rsplit(":", 1)[1]
    elsewhere = harness.fake.add_file("people.csv", GOOD.encode(), host=f"http://localhost:{port}")
    await send(harness, file_share([elsewhere]))
    assert harness.fake.called("download") == []
    assert answers(harness)[-1] == "I couldn't download people.csv: its address isn't on Slack's file server."

    shared = harness.fake.add_file("people.csv", GOOD.encode())
    harness.fake.fail_next("download", f"redirect:http://localhost:{port}/files-pri/T111-{shared['id']}/people.csv")
    await send(harness, file_share([shared], event_id="Ev-file-2"))
    [first] = harness.fake.called("download")  # the redirect to a plain-http stranger is not followed
    assert first.status == 302
    assert "sign-in page" in answers(harness)[-1]

    harness.fake.fail_next("download", f"redirect:{harness.fake.base}/files-pri/T111-{shared['id']}/people.csv")
    await send(harness, file_share([shared], event_id="Ev-file-3"))
    redirected, followed = harness.fake.called("download")[1:]
    assert redirected.status == 302 and followed.token == "xoxb-test-token", "Slack's own redirect is followed"
    assert len(await members(harness, program)) == 2


async def test_each_file_of_a_message_gets_its_own_answer(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    good = harness.fake.add_file("people.csv", GOOD.encode())
    bad = harness.fake.add_file("more.csv", BAD.encode())
    await send(harness, file_share([good, bad], text="import coffee chats"))
    first, second = answers(harness)[-2:]
    assert "Imported 2 people" in first
    assert "more.csv: 3 problem(s); nothing was imported" in second and "line 2, role" in second
    assert len(await members(harness, program)) == 2

    many = [harness.fake.add_file(f"p{i}.csv", GOOD.encode()) for i in range(7)]
    await send(harness, file_share(many, event_id="Ev-many"))
    assert answers(harness)[-1] == "I read only the first 5 files of a message; send these again: p5.csv, p6.csv"


async def test_files_in_channels_and_the_bots_own_files_are_ignored(harness, conformance) -> None:  # noqa: ANN001
    program = await create_program(harness)
    posts = len(harness.fake.called("chat.postMessage"))
    shared = harness.fake.add_file("people.csv", GOOD.encode())
    await send(harness, file_share([shared], channel="C111", channel_type="channel"))
    await send(harness, file_share([shared], user=BOT_USER_ID, event_id="Ev-own"))  # e.g. our own export
    assert harness.fake.called("download") == []
    assert len(harness.fake.called("chat.postMessage")) == posts
    assert await members(harness, program) == []
