"""Participant imports in Teams: a CSV sent in the 1:1 chat is downloaded and imported, all or nothing, and
imported e-mails resolve to Teams users through the tenant's team rosters (paged once, then cached)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams.config import TeamsConfig
from adapters.teams.downloads import FILE_DOWNLOAD_INFO, FileDownloader
from bot.kernel.port import SendError
from bot.programs.membership import ProgramSpec, create_program
from storage.tables import AuditEntry, Delivery, Membership, ProcessedEvent, User, Workspace
from tests.teams.fake_files import FakeFileHost
from tests.teams.teams_harness import Harness
from tests.teams.test_teams_roster import many_members

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SAM_AAD = "6d415fdd-f97e-4f70-ac45-e69601e4ecb2"  # the sender of message_personal
CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"  # also the team's id (its General channel)
JORDAN = "29:1QbGyCsJVZc3VhWF9ytyMM7d9wEd3-UB7DQ6BAtDADGS58gEyiTZd5ftjYt-k3MNG59Ea-eV7DwaqPY0hCnEf5g"
ALEX = "29:1CFIxRJBLjT_io3iNsDZxMk_4YPWQmr3DZUM1I6ihf5L2ocCDqg9S1vkHK6kRdGfK1P_2LFE2nQqFIvdu-GBOZA"
SAM = "29:1Y4O5HRXVkiupYCf4cFe34gbeO48BX76ZYg0rItwRUUezXv3jzKwpuTMRBkI8Uq2bY68S4Tf4UlflCKaP5EtONg"  # in the roster


def file_message(h: Harness, url: str, *, text: str = "import coffee", name: str = "participants.csv") -> dict:
    """A 1:1 message with a file, shaped like Microsoft's documented example (bots-filesv4, "Message activity
    with file attachment"): the file.download.info attachment, and the text/html copy of what was typed."""
    raw = h.activity("message_personal", text=text)
    raw["attachments"] = [
        {
            "contentType": FILE_DOWNLOAD_INFO,
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/saml_contoso_example/Documents/"
            f"Microsoft Teams Chat Files/{name}",
            "name": name,
            "content": {
                "downloadUrl": url,
                "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
                "fileType": name.rsplit(".", 1)[-1],
                "etag": "1150D938-8870-4044-9F2C-5BBDEBA70C9D,2",
            },
        },
        {"contentType": "text/html", "content": f"<p>{text}</p>"},
    ]
    return raw


def replies_to(h: Harness, conversation_id: str) -> list[str]:
    """The text of every card the bot sent into one conversation."""
    texts = []
    for call in h.connector.calls_to("POST", "/activities"):
        if call.segments[2] == conversation_id:
            card = call.body["attachments"][0]["content"]
            texts.append(" ".join(b.get("text", "") for b in card["body"] if b.get("type") == "TextBlock"))
    return texts


@asynccontextmanager
async def importing(db: Any, tmp_path: Any, *, admin: bool = True) -> AsyncIterator[tuple[Harness, FakeFileHost]]:
    """The bot installed in a team (a channel message stored its reference), a "Coffee" program on that
    channel, and Sam, who is a Tandem admin unless ``admin`` is False."""
    config = TeamsConfig(admin_ids=frozenset({SAM_AAD})) if admin else TeamsConfig()
    async with Harness(db, tmp_path, config, real_core=True) as h:
        files = await FakeFileHost().start()
        h.runtime.bot.downloads = FileDownloader(allow_loopback_http=True)
        try:
            raw = h.activity("message_channel_mention")
            raw["text"] = "<at>My Combined</at> help"
            assert (await h.post(raw))[0] == 201
            async with h.db.transaction() as session:
                workspace = (await session.exec(select(Workspace))).one()
                await create_program(
                    session, workspace, None, ProgramSpec(name="Coffee", channel_id=CHANNEL), h.core.clock.now()
                )
            h.connector.calls.clear()
            yield h, files
        finally:
            await files.stop()


async def memberships(h: Harness) -> dict[str, str]:
    async with h.db.session() as session:
        rows = (
            await session.exec(
                select(User.platform_user_id, Membership.status).join(Membership, Membership.user_id == User.id)
            )
        ).all()
    return dict(rows)


async def test_admin_imports_a_csv_sent_in_the_personal_chat(db, tmp_path):
    async with importing(db, tmp_path) as (h, files):
        csv = f"email,platform_user_id,role\n,{JORDAN},peer\n,{ALEX},peer\nSamL@contoso.example,,peer\n"
        raw = file_message(h, files.serve(csv.encode()))
        assert (await h.post(raw))[0] == 201
        assert len(files.requests) == 1
        assert await memberships(h) == {JORDAN: "invited", ALEX: "invited", SAM: "invited"}  # opt-in: asked first
        invites = [d for d in await h.rows(Delivery) if d.step == "import_invite"]
        assert len(invites) == 3
        [audit] = [a for a in await h.rows(AuditEntry) if a.action == "import"]
        assert audit.details["file"] == "participants.csv" and audit.details["via"] == "chat"
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert "Coffee: Imported 3 people: 3 invited" in answer


async def test_a_bad_csv_writes_nothing_and_names_every_line_and_field(db, tmp_path):
    async with importing(db, tmp_path) as (h, files):
        csv = (
            "email,platform_user_id,role,timezone\n"
            f",{JORDAN},captain,\n"
            "not-an-address,,peer,\n"
            f",{ALEX},peer,Mars/Olympus\n"
        )
        raw = file_message(h, files.serve(csv.encode()))
        assert (await h.post(raw))[0] == 201
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert "nothing was imported" in answer
        assert "line 2, role" in answer and "line 3, email" in answer and "line 4, timezone" in answer
        assert await memberships(h) == {}
        assert not [d for d in await h.rows(Delivery) if d.step == "import_invite"]


async def test_someone_who_is_not_an_admin_is_refused(db, tmp_path):
    async with importing(db, tmp_path, admin=False) as (h, files):
        raw = file_message(h, files.serve(f"platform_user_id,role\n{JORDAN},peer\n".encode()))
        assert (await h.post(raw))[0] == 201
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert "only program admins" in answer
        assert await memberships(h) == {}


async def test_a_redelivered_file_message_imports_once(db, tmp_path):
    async with importing(db, tmp_path) as (h, files):
        raw = file_message(h, files.serve(f"platform_user_id,role\n{JORDAN},peer\n".encode()))
        assert (await h.post(raw))[0] == 201
        assert (await h.post(copy.deepcopy(raw)))[0] == 201  # Teams retried a slow answer
        assert len(files.requests) == 1
        assert len(replies_to(h, raw["conversation"]["id"])) == 1
        assert len([d for d in await h.rows(Delivery) if d.step == "import_invite"]) == 1
        assert any(e.key.endswith(raw["id"]) for e in await h.rows(ProcessedEvent))


@pytest.mark.parametrize(
    ("served", "downloader", "expected"),
    [
        pytest.param({"status": 500}, {}, "I couldn't download participants.csv (Teams answered 500)", id="http-500"),
        pytest.param({"status": 404}, {}, "Teams answered 404", id="http-404"),
        pytest.param({"hang": True}, {"timeout": 0.5}, "took too long", id="timeout"),
        pytest.param({}, {"max_bytes": 1024}, "participants.csv is too big: files up to 1 KB", id="too-big"),
        pytest.param({"chunked": True}, {"max_bytes": 1024}, "too big", id="too-big-without-length"),
        pytest.param(
            {"location": "http://files.example.invalid/participants.csv"},
            {},
            "secure (https) address",
            id="redirect-to-plain-http",
        ),
    ],
)
async def test_a_file_that_cannot_be_downloaded_gets_a_clear_answer(db, tmp_path, served, downloader, expected):
    async with importing(db, tmp_path) as (h, files):
        h.runtime.bot.downloads = FileDownloader(allow_loopback_http=True, **downloader)
        body = ("platform_user_id,role\n" + f"{JORDAN},peer\n" * 40).encode()  # about 3 KB
        raw = file_message(h, files.serve(body, **served))
        assert (await h.post(raw))[0] == 201
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert expected in answer
        assert "\n" not in answer and "Traceback" not in answer
        assert await memberships(h) == {}


async def test_plain_http_download_urls_are_refused_outside_tests(db, tmp_path):
    async with importing(db, tmp_path) as (h, files):
        h.runtime.bot.downloads = FileDownloader()  # the production default
        raw = file_message(h, files.serve(f"platform_user_id,role\n{JORDAN},peer\n".encode()))
        assert (await h.post(raw))[0] == 201
        assert files.requests == []  # never fetched
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert "secure (https) address" in answer


async def test_a_file_in_a_channel_is_pointed_to_the_personal_chat(db, tmp_path):
    async with importing(db, tmp_path) as (h, files):
        raw = h.activity("message_channel_mention")
        raw["text"] = "<at>My Combined</at> import coffee"
        raw["attachments"] = [  # how a file shared in a channel shows up: a SharePoint reference, no download
            {
                "contentType": "reference",
                "name": "participants.csv",
                "contentUrl": "https://contoso.sharepoint.com/sites/Team/Shared Documents/General/participants.csv",
            },
            {"contentType": "text/html", "content": "<div><at>My Combined</at> import coffee</div>"},
        ]
        assert (await h.post(raw))[0] == 201
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert "our 1:1 chat" in answer and "import [program]" in answer
        assert files.requests == [] and await memberships(h) == {}


async def test_imported_emails_resolve_through_the_team_roster_paged_once(db, tmp_path):
    async with importing(db, tmp_path) as (h, files):
        h.connector.members = h.connector.members + many_members(h.connector.members[0], 1200)
        for member in h.connector.members[3:]:
            member["tenantId"] = TENANT
        # Alex is known by UPN (alexr@) but imported by mail address; Jordan and Person 1100 are new to Tandem
        csv = "email,role\nAlex.Rivera@CONTOSO.example,peer\njordank@contoso.example,peer\np1100@contoso.example,peer\n"
        raw = file_message(h, files.serve(csv.encode()))
        assert (await h.post(raw))[0] == 201
        assert "Imported 3 people" in replies_to(h, raw["conversation"]["id"])[0]
        pages = h.connector.calls_to("GET", "/pagedmembers")
        assert [c.segments[2] for c in pages] == [CHANNEL] * 3  # the team's roster, 500 a page
        assert [c.query.get("continuationToken") for c in pages] == [None, "500", "1000"]
        assert await memberships(h) == {ALEX: "invited", JORDAN: "invited", "29:member-01100": "invited"}
        newcomer = next(u for u in await h.rows(User) if u.platform_user_id == "29:member-01100")
        assert newcomer.display_name == "Person 1100"

        h.connector.calls.clear()
        csv = "email,role\nsam.lee@contoso.example,peer\np7@contoso.example,peer\n"
        raw = file_message(h, files.serve(csv.encode()), name="more.csv")
        assert (await h.post(raw))[0] == 201
        assert "Imported 2 people" in replies_to(h, raw["conversation"]["id"])[0]
        assert h.connector.calls_to("GET", "/pagedmembers") == []  # the cached roster answered
        assert {SAM, "29:member-00007"} <= set(await memberships(h))

        h.connector.calls.clear()
        raw = file_message(h, files.serve(b"email,role\nnobody@contoso.example,peer\n"), name="typo.csv")
        assert (await h.post(raw))[0] == 201
        [answer] = replies_to(h, raw["conversation"]["id"])
        assert "line 2, email: nobody with the e-mail 'nobody@contoso.example'" in answer
        assert h.connector.calls_to("GET", "/pagedmembers") == []


async def test_lookup_by_email_prefers_stored_people_and_matches_upn_or_mail(db, tmp_path):
    async with importing(db, tmp_path) as (h, _files):
        port = h.runtime.port
        alex = await port.lookup_user_by_email(TENANT, "ALEXR@contoso.example")  # stored from the member look-up
        assert alex is not None and alex.user_id == ALEX and alex.email == "alexr@contoso.example"
        assert h.connector.calls_to("GET", "/pagedmembers") == []
        sam = await port.lookup_user_by_email(TENANT, "Sam.Lee@contoso.example")
        assert sam is not None and sam.user_id == SAM and sam.name == "Sam Lee"
        assert await port.lookup_user_by_email(TENANT, "saml@contoso.example") == sam
        assert await port.lookup_user_by_email(TENANT, "nobody@contoso.example") is None
        assert len(h.connector.calls_to("GET", "/pagedmembers")) == 1


async def test_lookup_raises_send_error_when_the_connector_cannot_be_asked(db, tmp_path):
    async with importing(db, tmp_path) as (h, _files):
        port = h.runtime.port
        h.connector.fail("GET", "/pagedmembers", 401, '{"message":"Authorization has been denied for this request."}')
        with pytest.raises(SendError, match="401"):
            await port.lookup_user_by_email(TENANT, "jordank@contoso.example")
        found = await port.lookup_user_by_email(TENANT, "jordank@contoso.example")  # a failure isn't cached
        assert found is not None and found.user_id == JORDAN
        with pytest.raises(SendError, match="isn't in any team"):
            await port.lookup_user_by_email("00000000-0000-0000-0000-000000000000", "x@contoso.example")
