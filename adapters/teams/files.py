"""Sending files in Teams: file-consent cards in 1:1 chats, and the upload once someone accepts one.

A Teams bot cannot attach a file to a message. In a 1:1 chat it sends a ``FileConsentCard`` (name, size,
description); when the person accepts, Teams creates an upload session in their OneDrive and sends a
``fileConsent/invoke`` with its URL; the bot PUTs the bytes there and posts a ``FileInfoCard`` pointing at
the stored file. Group chats and channels have no such flow, so files always go to a 1:1 chat.

The bytes wait in the database (adapters/teams/pending_files.py) between offer and answer, so an answer
after a restart works, a repeated answer uploads once, and an unanswered offer is dropped after a week.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botbuilder.schema.teams import FileConsentCard, FileConsentCardResponse, FileInfoCard, FileUploadInfo
from botbuilder.schema.teams.additional_properties import ContentType

from adapters.teams import pending_files
from adapters.teams.cards import CardRenderer
from adapters.teams.outbound import card_activity
from adapters.teams.pending_files import PendingFile
from bot.kernel.events import SentRef
from bot.kernel.messages import FileAttachment, Message, text_message
from storage.database import Database

log = logging.getLogger("tandem.teams")

CONTEXT_KEY = "tandemFile"  # in acceptContext/declineContext: the pending file's token
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60)

UNKNOWN = "I don't have that file any more: files wait 7 days for an answer. Ask me for it again."
DECLINED_BEFORE = "You declined {name} earlier, so I dropped it. Ask me for it again if you want it."


def offer_key(tenant_id: str, user_id: str, message: Message, index: int) -> str:
    """The same file of the same message to the same person: a retried send finds its earlier offer."""
    basis = f"{tenant_id}\n{user_id}\n{index}\n{message.model_dump_json()}"
    return hashlib.sha256(basis.encode()).hexdigest()


def consent_activity(file: PendingFile) -> Activity:
    """The message holding a file-consent card; both answers carry the file's token back."""
    context = {CONTEXT_KEY: file.token}
    card = FileConsentCard(
        description=file.title or file.filename,
        size_in_bytes=len(file.content),
        accept_context=context,
        decline_context=context,
    )
    return Activity(
        type=ActivityTypes.message,
        summary=f"File: {file.filename}"[:200],
        attachments=[
            Attachment(content_type=ContentType.FILE_CONSENT_CARD, name=file.filename, content=card.serialize())
        ],
    )


def info_activity(upload: FileUploadInfo, text: str) -> Activity:
    """The message showing the uploaded file (open, preview or download it from Teams)."""
    card = FileInfoCard(unique_id=upload.unique_id, file_type=upload.file_type)
    return Activity(
        type=ActivityTypes.message,
        text=text,
        attachments=[
            Attachment(
                content_type=ContentType.FILE_INFO_CARD,
                name=upload.name,
                content_url=upload.content_url,
                content=card.serialize(),
            )
        ],
    )


def _bytes_of(file: FileAttachment) -> bytes | None:
    try:
        return base64.b64decode(file.content_b64, validate=True)
    except (binascii.Error, ValueError):
        log.error("teams: file %s is not valid base64; not offered", file.filename)
        return None


SendActivity = Callable[[Activity], Awaitable[SentRef]]


async def offer_files(
    db: Database,
    send: SendActivity,
    *,
    tenant_id: str,
    user_id: str,
    message: Message,
    files: tuple[FileAttachment, ...],
    now: datetime,
) -> None:
    """One consent card per file in the person's 1:1 chat (``send``). Offers already sent for this message
    (a retry after a failure half-way) are not sent again; a failed send raises ``SendError``."""
    await pending_files.purge_expired(db, now)
    index = {id(f): i for i, f in enumerate(message.files)}
    for file in files:
        content = _bytes_of(file)
        if content is None:
            continue
        pending = await pending_files.offer(
            db,
            offer_key=offer_key(tenant_id, user_id, message, index.get(id(file), -1)),
            tenant_id=tenant_id,
            user_id=user_id,
            filename=file.filename,
            mime_type=file.mime_type,
            title=file.title,
            content=content,
            now=now,
        )
        if pending.consent_activity_id:
            log.info("teams: %s was already offered to %s", file.filename, user_id)
            continue
        ref = await send(consent_activity(pending))
        await pending_files.set_consent_activity(db, pending.id, ref.message_id, now)


class UploadFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def upload(url: str, content: bytes, session: aiohttp.ClientSession | None = None) -> None:
    """PUT the whole file to a OneDrive upload session in one request (no Authorization header: the
    session URL is the credential)."""
    size = len(content)
    headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}" if size else "bytes */0"}
    own = session is None
    session = session or aiohttp.ClientSession(timeout=UPLOAD_TIMEOUT)
    try:
        async with session.put(url, data=content, headers=headers) as response:
            if response.status not in (200, 201):
                body = (await response.text())[:200]
                raise UploadFailed(f"OneDrive answered {response.status}" + (f": {body}" if body else ""))
    except aiohttp.ClientError as exc:
        raise UploadFailed(f"OneDrive could not be reached ({type(exc).__name__})") from exc
    except TimeoutError as exc:
        raise UploadFailed("OneDrive took too long to answer") from exc
    finally:
        if own:
            await session.close()


class ConsentAnswers:
    """What the bot does when someone answers a file-consent card (``fileConsent/invoke``).

    Every answer is acknowledged with 200 by botbuilder; what went wrong is told in the chat instead."""

    def __init__(self, db: Database, renderer: CardRenderer, now: Callable[[], datetime]) -> None:
        self.db = db
        self.renderer = renderer
        self.now = now

    async def _say(self, turn: TurnContext, text: str) -> None:
        await turn.send_activity(card_activity(self.renderer.message_card(text_message(text)), text))

    async def _file_of(self, turn: TurnContext, response: FileConsentCardResponse) -> PendingFile | None:
        """The pending file the answer is about, if it is this person's and still known."""
        await pending_files.purge_expired(self.db, self.now())
        context = response.context if isinstance(response.context, dict) else {}
        token = context.get(CONTEXT_KEY)
        file = await pending_files.find(self.db, token) if isinstance(token, str) else None
        activity = turn.activity
        tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id") or (
            activity.conversation.tenant_id if activity.conversation else None
        )
        if file is None or file.user_id != activity.from_property.id or (tenant and tenant != file.tenant_id):
            log.info("teams: file-consent answer with an unknown context from %s", activity.from_property.id)
            await self._say(turn, UNKNOWN)
            return None
        if file.expired(self.now()):
            await self._say(turn, UNKNOWN)
            return None
        return file

    async def accept(self, turn: TurnContext, response: FileConsentCardResponse) -> None:
        file = await self._file_of(turn, response)
        if file is None:
            return
        if file.state == pending_files.DECLINED:
            await self._say(turn, DECLINED_BEFORE.format(name=file.filename))
            return
        info = response.upload_info
        if info is None or not info.upload_url:
            await self._say(turn, f"Teams didn't give me a place to save {file.filename}. Please try again.")
            return
        if not await pending_files.claim_upload(self.db, file.token, self.now()):
            log.info("teams: %s is already uploaded or uploading; repeated accept ignored", file.filename)
            return
        try:
            await upload(info.upload_url, file.content)
        except UploadFailed as exc:
            await pending_files.release(self.db, file.token, self.now())
            log.warning("teams: upload of %s for %s failed: %s", file.filename, file.user_id, exc.reason)
            await self._offer_again(turn, file, exc.reason)
            return
        await pending_files.mark_sent(self.db, file.token, self.now())
        name = info.name or file.filename
        await turn.send_activity(info_activity(info, f"Saved {name} to your OneDrive."))
        await self._replace_card(turn, file, f"✅ {name}: saved to your OneDrive.")

    async def decline(self, turn: TurnContext, response: FileConsentCardResponse) -> None:
        file = await self._file_of(turn, response)
        if file is None:
            return
        if not await pending_files.decline(self.db, file.token, self.now()):
            log.info("teams: %s was already answered (%s); decline ignored", file.filename, file.state)
            return
        if not await self._replace_card(turn, file, f"{file.filename}: declined, so I didn't send it."):
            await self._say(turn, f"OK, I won't send {file.filename}.")

    async def _offer_again(self, turn: TurnContext, file: PendingFile, reason: str) -> None:
        """Tell what failed and put a fresh card for the same file under it (Teams may not let the person
        answer the first card twice); either card works, and only one upload will happen."""
        activity = consent_activity(file)
        activity.text = f"⚠️ I couldn't save {file.filename} to your OneDrive ({reason}). Accept again to retry:"
        sent = await turn.send_activity(activity)
        if sent is not None and getattr(sent, "id", None):
            await pending_files.set_consent_activity(self.db, file.id, sent.id, self.now())

    async def _replace_card(self, turn: TurnContext, file: PendingFile, text: str) -> bool:
        """Turn the answered consent card into one line, so it cannot be answered again (best effort)."""
        activity_id = file.consent_activity_id or turn.activity.reply_to_id
        if not activity_id:
            return False
        replacement = card_activity(self.renderer.message_card(text_message(text)), text)
        replacement.id = activity_id
        try:
            await turn.update_activity(replacement)
        except Exception as exc:  # noqa: BLE001 - the answer itself has been handled; this is cosmetics
            log.info("teams: could not replace the consent card %s: %s", activity_id, exc)
            return False
        return True
