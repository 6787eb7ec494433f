"""Files in Teams: the stats chart inline in its card, other files through file-consent cards in 1:1 chats.

The file-consent invokes are built from the shapes in Microsoft's "Send and receive files using bot" docs
(there is no recorded one in tests/fixtures); the envelope comes from the recorded invoke fixture.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import timedelta

import pytest
from PIL import Image as PILImage
from sqlalchemy import update

from adapters.teams import pending_files
from adapters.teams.cards import MAX_CARD_BYTES, FilePlacement
from adapters.teams.config import TeamsConfig
from adapters.teams.files import CONTEXT_KEY, UNKNOWN, offer_files
from adapters.teams.package import build_package
from bot.admin.charts import PNG_MAGIC
from bot.kernel.events import NoReply, Reply, SentRef
from bot.kernel.messages import FileAttachment, Message, Section, Text
from bot.kernel.port import SendError
from bot.programs.channel_sync import run_channel_syncs
from storage.tables import TeamsPendingFile
from tests.teams.fake_onedrive import FakeOneDrive
from tests.teams.teams_harness import Harness

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ALEX_AAD = "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4"
ALEX_PERSONAL = "a:1alex-personal-chat"
CONSENT = "application/vnd.microsoft.teams.card.file.consent"
INFO = "application/vnd.microsoft.teams.card.file.info"


def card_of(call) -> dict:
    return call.body["attachments"][0]["content"]


def texts(card: dict) -> list[str]:
    return [b["text"] for b in card.get("body", []) if b.get("type") == "TextBlock"]


def posts(h: Harness, conversation: str) -> list:
    return [c for c in h.connector.calls_to("POST", "/activities") if c.segments[2] == conversation]


def consent_calls(h: Harness, conversation: str = ALEX_PERSONAL) -> list:
    return [c for c in posts(h, conversation) if c.body["attachments"][0]["contentType"] == CONSENT]


def csv_file(name: str, text: str) -> FileAttachment:
    content = base64.b64encode(text.encode()).decode()
    return FileAttachment(filename=name, mime_type="text/csv", title=name, content_b64=content)


def alex(h: Harness) -> dict:
    return next(m for m in h.connector.members if m["objectId"] == ALEX_AAD)


async def say_personal(h: Harness, text: str) -> None:
    """Alex writes in his 1:1 chat with the bot."""
    member = alex(h)
    raw = h.activity("message_personal", text=text)
    raw["from"] = {"id": member["id"], "name": member["name"], "aadObjectId": ALEX_AAD}
    raw["conversation"] = {"conversationType": "personal", "tenantId": TENANT, "id": ALEX_PERSONAL}
    assert (await h.post(raw))[0] == 201


async def create_program(h: Harness) -> None:
    """Alex creates a program from the channel with the form card (as in test_teams_real_core)."""
    member = alex(h)
    raw = h.activity("message_channel_mention")
    raw["text"] = "<at>My Combined</at> program create"
    raw["from"] = {"id": member["id"], "name": member["name"], "aadObjectId": ALEX_AAD}
    assert (await h.post(raw))[0] == 201
    form = card_of(h.connector.calls_to("POST", "/activities")[0])
    invoke = h.submit(form, name="Coffee chats")
    invoke.update({"from": raw["from"], "conversation": raw["conversation"], "channelData": raw["channelData"]})
    assert (await h.post(invoke))[0] == 200
    await run_channel_syncs(h.core)  # the channel sync reaches the team's roster first (nothing sent yet)


def consent_invoke(
    h: Harness, action: str, token: str, *, upload_url: str = "", reply_to: str = "", name: str = "export.csv"
) -> dict:
    member = alex(h)
    raw = h.activity("invoke_adaptiveCard_action_execute")
    raw.update(
        name="fileConsent/invoke",
        **{"from": {"id": member["id"], "name": member["name"], "aadObjectId": ALEX_AAD}},
        conversation={"conversationType": "personal", "tenantId": TENANT, "id": ALEX_PERSONAL},
        channelData={"tenant": {"id": TENANT}},
        replyToId=reply_to or "1:unknown",
    )
    raw["value"] = {"type": "fileUpload", "action": action, "context": {CONTEXT_KEY: token}}
    if action == "accept":
        raw["value"]["uploadInfo"] = {
            "contentUrl": f"https://contoso.sharepoint.com/personal/alex/Documents/Applications/{name}",
            "name": name,
            "uploadUrl": upload_url,
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
            "fileType": name.rsplit(".", 1)[-1],
            "etag": "123",
        }
    return raw


async def exported(h: Harness) -> list:
    """Alex (an admin) creates a program and asks for its export in his 1:1 chat; returns the consent calls."""
    await create_program(h)
    await say_personal(h, "export")
    h.connector.calls.clear()
    assert await h.core.dispatch() >= 1
    return consent_calls(h)


# --- the chart, inline ---------------------------------------------------------------------------------


async def test_stats_in_teams_show_the_chart_inline_as_a_png_data_uri(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        await create_program(h)
        h.connector.calls.clear()
        await say_personal(h, "stats")
        [reply] = posts(h, ALEX_PERSONAL)
        assert len(reply.body["attachments"]) == 1  # the card only: no file-consent card for an inline chart
        card = card_of(reply)
        [image] = [b for b in card["body"] if b.get("type") == "Image"]
        prefix = "data:image/png;base64,"
        assert image["url"].startswith(prefix) and "meeting rate and pulse" in image["altText"]
        png = base64.b64decode(image["url"][len(prefix) :], validate=True)
        assert png.startswith(PNG_MAGIC)
        with PILImage.open(io.BytesIO(png)) as picture:
            picture.verify()
        assert len(json.dumps(reply.body).encode()) < 28_000  # the whole activity fits Teams' message limit
        assert not any("📎" in t for t in texts(card))


async def test_an_image_too_big_for_a_card_is_offered_as_a_file_instead(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD}))) as h:
        big = FileAttachment(
            filename="big.png",
            mime_type="image/png",
            title="A big chart",
            content_b64=base64.b64encode(PNG_MAGIC + bytes(MAX_CARD_BYTES)).decode(),
        )
        message = Message(summary="Stats", blocks=(Section(text=Text.of("Figures")),), files=(big,))
        rendered = h.runtime.renderer.render(message, FilePlacement.BELOW)
        assert rendered.files == (big,)
        assert not [b for b in rendered.card["body"] if b.get("type") == "Image"]
        assert "big.png follows as a file" in texts(rendered.card)[-1]

        await say_personal(h, "hello")  # stores Alex's 1:1 reference
        h.connector.calls.clear()
        await h.runtime.port.send_to_user(TENANT, alex(h)["id"], message)
        [consent] = consent_calls(h)
        assert consent.body["attachments"][0]["name"] == "big.png"
        assert consent.body["attachments"][0]["content"]["sizeInBytes"] == len(PNG_MAGIC) + MAX_CARD_BYTES


# --- export: file-consent cards in the admin's 1:1 chat -----------------------------------------------


async def test_export_sends_a_consent_card_per_csv_to_the_admins_1to1_chat(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        consents = await exported(h)
        calls = posts(h, ALEX_PERSONAL)
        [at] = [i for i, c in enumerate(calls) if "Export of" in " ".join(texts(card_of(c)))]
        assert "follow as files" in texts(card_of(calls[at]))[-1]
        assert calls[at + 1] is consents[0]  # the export card first, then its files
        assert len(consents) >= 4
        rows = {r.token: r for r in await h.rows(TeamsPendingFile)}
        for call in consents:
            attachment = call.body["attachments"][0]
            content = attachment["content"]
            token = content["acceptContext"][CONTEXT_KEY]
            assert content["declineContext"] == content["acceptContext"]
            row = rows[token]
            assert attachment["name"] == row.filename and row.filename.endswith(".csv")
            assert content["sizeInBytes"] == len(row.content) > 0 and content["description"]
            assert row.state == "offered" and row.user_id == alex(h)["id"] and row.tenant_id == TENANT
            assert row.consent_activity_id  # the card's message, to replace it once answered


async def test_accept_uploads_the_exact_bytes_and_posts_a_file_info_card(db, tmp_path):
    onedrive = await FakeOneDrive().start()
    try:
        async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
            first = (await exported(h))[0]
            token = first.body["attachments"][0]["content"]["acceptContext"][CONTEXT_KEY]
            [row] = [r for r in await h.rows(TeamsPendingFile) if r.token == token]
            expected = bytes(row.content)
            h.connector.calls.clear()

            status, body = await h.post(
                consent_invoke(
                    h,
                    "accept",
                    token,
                    upload_url=onedrive.url("s1"),
                    name=row.filename,
                    reply_to=row.consent_activity_id,
                )
            )
            assert status == 200, body
            [upload] = onedrive.uploads
            assert upload.body == expected
            assert upload.headers["Content-Range"] == f"bytes 0-{len(expected) - 1}/{len(expected)}"
            assert upload.headers["Content-Length"] == str(len(expected))
            assert "Authorization" not in upload.headers  # the session URL is the credential
            [info] = [c for c in posts(h, ALEX_PERSONAL) if c.body["attachments"][0]["contentType"] == INFO]
            attachment = info.body["attachments"][0]
            assert attachment["name"] == row.filename and attachment["contentUrl"].endswith(row.filename)
            assert attachment["content"] == {"uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C", "fileType": "csv"}
            [replaced] = h.connector.calls_to("PUT", "/activities/")
            assert replaced.segments[-1] == row.consent_activity_id
            assert "saved to your OneDrive" in texts(card_of(replaced))[0]
            [done] = [r for r in await h.rows(TeamsPendingFile) if r.token == token]
            assert done.state == "sent" and done.content == b""  # the bytes live in OneDrive now

            # Teams delivers the same answer again: nothing more is uploaded or posted
            h.connector.calls.clear()
            status, _ = await h.post(
                consent_invoke(h, "accept", token, upload_url=onedrive.url("s2"), name=row.filename)
            )
            assert status == 200
            assert len(onedrive.uploads) == 1
            assert h.connector.calls_to("POST", "/activities") == [] and h.connector.calls_to("PUT") == []
    finally:
        await onedrive.stop()


async def test_an_offer_survives_a_restart_before_it_is_accepted(db, tmp_path):
    onedrive = await FakeOneDrive().start()
    try:
        config = TeamsConfig(admin_ids=frozenset({ALEX_AAD}))
        async with Harness(db, tmp_path, config, real_core=True) as h:
            token = (await exported(h))[0].body["attachments"][0]["content"]["acceptContext"][CONTEXT_KEY]
        async with Harness(db, tmp_path, config, real_core=True) as h:  # a new process, same database
            assert (await h.post(consent_invoke(h, "accept", token, upload_url=onedrive.url("s1"))))[0] == 200
            assert len(onedrive.uploads) == 1 and onedrive.uploads[0].body
    finally:
        await onedrive.stop()


async def test_decline_drops_the_file_and_says_so(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        consent = (await exported(h))[0]
        token = consent.body["attachments"][0]["content"]["declineContext"][CONTEXT_KEY]
        h.connector.calls.clear()
        status, _ = await h.post(consent_invoke(h, "decline", token))
        assert status == 200
        [replaced] = h.connector.calls_to("PUT", "/activities/")
        assert "declined" in texts(card_of(replaced))[0]
        [row] = [r for r in await h.rows(TeamsPendingFile) if r.token == token]
        assert row.state == "declined" and row.content == b""

        h.connector.calls.clear()  # a late accept of the declined card says what happened
        assert (await h.post(consent_invoke(h, "accept", token, upload_url="http://127.0.0.1:9/x")))[0] == 200
        [said] = posts(h, ALEX_PERSONAL)
        assert "You declined" in texts(card_of(said))[0]


async def test_an_unknown_or_expired_offer_gets_a_clear_message(db, tmp_path):
    async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
        token = (await exported(h))[0].body["attachments"][0]["content"]["acceptContext"][CONTEXT_KEY]
        h.connector.calls.clear()
        status, _ = await h.post(consent_invoke(h, "accept", "not-a-token", upload_url="http://127.0.0.1:9/x"))
        assert status == 200
        [said] = posts(h, ALEX_PERSONAL)
        assert texts(card_of(said)) == [UNKNOWN]

        async with h.db.transaction() as session:  # eight days pass
            old = h.core.clock.now() - timedelta(days=8)
            await session.exec(update(TeamsPendingFile).values(created_at=old))
        h.connector.calls.clear()
        assert (await h.post(consent_invoke(h, "accept", token, upload_url="http://127.0.0.1:9/x")))[0] == 200
        [said] = posts(h, ALEX_PERSONAL)
        assert texts(card_of(said)) == [UNKNOWN]
        assert await h.count(TeamsPendingFile) == 0  # expired offers are cleaned up on the way


async def test_a_failed_upload_keeps_the_file_and_accepting_again_works(db, tmp_path):
    onedrive = await FakeOneDrive().start()
    try:
        async with Harness(db, tmp_path, TeamsConfig(admin_ids=frozenset({ALEX_AAD})), real_core=True) as h:
            token = (await exported(h))[0].body["attachments"][0]["content"]["acceptContext"][CONTEXT_KEY]
            onedrive.fail_next(503)
            h.connector.calls.clear()
            assert (await h.post(consent_invoke(h, "accept", token, upload_url=onedrive.url("s1"))))[0] == 200
            [again] = posts(h, ALEX_PERSONAL)  # what went wrong, with a fresh card for the same file
            assert "couldn't save" in again.body["text"] and "503" in again.body["text"]
            assert again.body["attachments"][0]["contentType"] == CONSENT
            assert again.body["attachments"][0]["content"]["acceptContext"] == {CONTEXT_KEY: token}
            [row] = [r for r in await h.rows(TeamsPendingFile) if r.token == token]
            assert row.state == "offered" and row.content
            assert h.connector.calls_to("PUT") == []  # the card stays answerable

            assert (await h.post(consent_invoke(h, "accept", token, upload_url=onedrive.url("s2"))))[0] == 200
            assert [u.body for u in onedrive.uploads] == [bytes(row.content)] * 2
            assert [r.state for r in await h.rows(TeamsPendingFile) if r.token == token] == ["sent"]
    finally:
        await onedrive.stop()


# --- outside 1:1 chats, and retried sends ------------------------------------------------------------


async def test_a_reply_with_files_in_a_channel_thread_sends_them_to_the_1to1_chat(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await say_personal(h, "hello")
        message = Message(
            summary="Your invite",
            blocks=(Section(text=Text.of("Booked!")),),
            files=(csv_file("invite.csv", "a,b\n1,2\n"),),
        )
        h.core.answer = lambda event: Reply(message=message, ephemeral=False) if hasattr(event, "text") else NoReply()
        h.connector.calls.clear()
        raw = h.activity("message_channel_mention", text="<at>My Combined</at> book")
        raw["from"] = {"id": alex(h)["id"], "name": "Alex Rivera", "aadObjectId": ALEX_AAD}
        assert (await h.post(raw))[0] == 201
        [consent] = consent_calls(h)
        assert consent.body["attachments"][0]["name"] == "invite.csv"
        [thread] = [c for c in h.connector.calls_to("POST", "/activities") if c.segments[2].startswith("19:")]
        assert texts(card_of(thread)) == ["Booked!", "📎 I've sent invite.csv to our 1:1 chat."]


async def test_a_channel_post_names_the_files_it_cannot_carry(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("message_channel_mention", text="<at>My Combined</at> hi")
        assert (await h.post(raw))[0] == 201
        h.connector.calls.clear()
        message = Message(
            summary="Hi", blocks=(Section(text=Text.of("Hello team")),), files=(csv_file("list.csv", "x\n"),)
        )
        await h.runtime.port.post_to_channel(TENANT, raw["channelData"]["teamsChannelId"], message)
        [post] = h.connector.calls_to("POST", "/activities")
        assert "list.csv can't be attached here" in texts(card_of(post))[-1]
        assert await h.count(TeamsPendingFile) == 0


async def test_a_send_retried_after_a_failed_offer_offers_only_the_missing_files(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        files = (csv_file("a.csv", "a\n"), csv_file("b.csv", "b\n"))
        message = Message(summary="Export", files=files)
        sent: list[str] = []

        async def flaky(activity) -> SentRef:
            name = activity.attachments[0].name
            if name == "b.csv" and "b.csv (failed)" not in sent:
                sent.append("b.csv (failed)")
                raise SendError("Teams: 502", retryable=True)
            sent.append(name)
            return SentRef(conversation_id=ALEX_PERSONAL, message_id=f"1:{name}")

        now = h.core.clock.now()
        with pytest.raises(SendError):
            await offer_files(h.db, flaky, tenant_id=TENANT, user_id="29:x", message=message, files=files, now=now)
        await offer_files(h.db, flaky, tenant_id=TENANT, user_id="29:x", message=message, files=files, now=now)
        assert sent == ["a.csv", "b.csv (failed)", "b.csv"]
        rows = await h.rows(TeamsPendingFile)
        assert sorted((r.filename, r.consent_activity_id) for r in rows) == [("a.csv", "1:a.csv"), ("b.csv", "1:b.csv")]
        assert all(r.state == pending_files.OFFERED for r in rows)


async def test_a_group_message_gives_each_member_their_own_file_in_their_1to1_chat(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        await say_personal(h, "hello")  # Alex has a 1:1 chat; Jordan never wrote to the bot
        h.connector.calls.clear()
        jordan = h.connector.members[0]["id"]
        invite = FileAttachment(
            filename="coffee-chat.ics",
            mime_type="text/calendar",
            title="Coffee chat",
            content_b64=base64.b64encode(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").decode(),
        )
        message = Message(summary="Booked", blocks=(Section(text=Text.of("Booked!")),), files=(invite,))
        await h.runtime.port.send_to_group(TENANT, [alex(h)["id"], jordan], message)
        assert len(consent_calls(h, ALEX_PERSONAL)) == 1
        assert len(consent_calls(h, f"a:fake-personal-{jordan}")) == 1
        rows = await h.rows(TeamsPendingFile)
        assert sorted(r.user_id for r in rows) == sorted([alex(h)["id"], jordan])
        assert {bytes(r.content) for r in rows} == {b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}


def test_the_manifest_lets_the_bot_send_files(tmp_path):
    path = build_package("2f1c3b9e-4d5a-4e6f-8a7b-9c0d1e2f3a4b", "tandem.example.com", tmp_path)
    with zipfile.ZipFile(path) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["bots"][0]["supportsFiles"] is True  # file-consent cards need it
