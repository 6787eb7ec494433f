"""``SlackPort``: the core's ``ChatPort`` on Slack's Web API (send, group DM, channel post, update)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.clients import NoToken, SlackClients, retry_handlers
from adapters.slack.directory import Directory, Profile, profile_from
from adapters.slack.errors import to_send_error
from adapters.slack.group_dms import GroupDMs
from adapters.slack.pacing import Pacer, Paused
from adapters.slack.render import Rendered, render_message, render_single
from bot.kernel.events import SentRef
from bot.kernel.messages import Message
from bot.kernel.port import PlatformCapabilities, SendError, ThreadReply, UserInfo

log = logging.getLogger("tandem.slack")
GROUP_CACHE_SIZE = 20_000
MEMBERS_PAGE = 500  # conversations.members page size (Slack's own examples stay at or under 1,000)
MAX_MEMBER_PAGES = 1_000  # 500,000 people: a guard against a cursor that never ends
NOT_PEOPLE_CACHE_SIZE = 50_000
LISTING_RETRIES = 5  # rate limits waited out by one call of a channel listing before it gives up
PROGRESS_CACHE_SIZE = 2_000  # messages part-way out (some posts sent, a later one or the files failed)


class SlackPort:
    """Implements ``bot.kernel.port.ChatPort``; every failure surfaces as ``SendError``."""

    capabilities = PlatformCapabilities(group_conversations=True, threads=True, reactions=True)

    def __init__(
        self,
        clients: SlackClients,
        pacer: Pacer | None = None,
        directory: Directory | None = None,
        group_dms: GroupDMs | None = None,
    ) -> None:
        self.clients = clients
        self.group_dms = group_dms  # the group DMs opened before a restart (None: memory only)
        self.pacer = pacer or Pacer(clients.config.limits)
        self.directory = directory or Directory(clients.config.user_cache_seconds)
        # Slack gives the same group DM for the same people, so a retry (or their next round) skips the
        # Tier 3 conversations.open call, the scarcest budget in a big round.
        self._groups: dict[tuple[str, str], str] = {}
        self._progress: dict[str, tuple[SentRef, int]] = {}
        # bots and deactivated accounts met in channels: a later sync skips them without asking users.info
        self._not_people: dict[tuple[str, str], None] = {}

    # --- ChatPort -------------------------------------------------------------------------------------

    async def send_to_user(self, workspace_id: str, user_id: str, message: Message) -> SentRef:
        """Posting to a user id lands in the app's DM with them (no conversations.open round trip)."""
        return await self._post(workspace_id, user_id, message)

    async def send_to_group(self, workspace_id: str, user_ids: list[str], message: Message) -> SentRef:
        """Open (or reopen: Slack returns the same one) the group DM, then post the intro there."""
        if len(user_ids) == 1:
            return await self.send_to_user(workspace_id, user_ids[0], message)
        key = (workspace_id, ",".join(sorted(user_ids)))
        channel = self._groups.get(key)
        if channel is None and self.group_dms is not None:
            channel = await self.group_dms.find(*key)
        if channel is None:
            resp = await self._call(workspace_id, "conversations.open", users=",".join(user_ids), return_im=False)
            channel = (resp.get("channel") or {}).get("id")
            if not channel:
                raise SendError("conversations.open: no channel in the answer", retryable=True)
            if self.group_dms is not None:
                await self.group_dms.remember(*key, channel)
        if key not in self._groups and len(self._groups) >= GROUP_CACHE_SIZE:
            self._groups.pop(next(iter(self._groups)))
        self._groups[key] = channel
        try:
            return await self._post(workspace_id, channel, message)
        except SendError as exc:
            if exc.gone:
                self._groups.pop(key, None)
                if self.group_dms is not None:
                    await self.group_dms.forget(*key)
            raise

    async def post_to_channel(
        self, workspace_id: str, channel_id: str, message: Message, thread_id: str | None = None
    ) -> SentRef:
        return await self._post(workspace_id, channel_id, message, thread_id)

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        rendered = render_single(message)
        await self._call(
            workspace_id,
            "chat.update",
            channel=ref.conversation_id,
            ts=ref.message_id,
            text=rendered.text,
            blocks=rendered.blocks,
        )

    async def top_replies(self, workspace_id: str, channel_id: str, thread_id: str, limit: int) -> list[ThreadReply]:
        """Best-loved human answers in an icebreaker thread: most reactions first, then earliest."""
        resp = await self._call(workspace_id, "conversations.replies", channel=channel_id, ts=thread_id, limit=200)
        replies = []
        for index, msg in enumerate(resp.get("messages") or []):
            if msg.get("ts") == thread_id or msg.get("bot_id") or msg.get("subtype") or not msg.get("user"):
                continue
            count = sum(int(r.get("count", 0)) for r in msg.get("reactions") or [])
            replies.append((-count, index, msg))
        best = []
        for negative, _, msg in sorted(replies, key=lambda r: (r[0], r[1]))[:limit]:
            link = None
            try:
                link = (
                    await self._call(workspace_id, "chat.getPermalink", channel=channel_id, message_ts=msg["ts"])
                ).get("permalink")
            except SendError:
                pass  # a highlight without a link is still a highlight
            best.append(
                ThreadReply(
                    user_id=str(msg["user"]), text=str(msg.get("text", "")), reactions=-negative, permalink=link
                )
            )
        return best

    async def channel_members(
        self, workspace_id: str, channel_id: str, known: frozenset[str] = frozenset()
    ) -> list[UserInfo]:
        """The people in a channel: ``conversations.members`` page by page, then ``users.info`` for the ids
        Tandem doesn't know yet, to leave out bots and deactivated accounts (both paced at their tiers)."""
        ids: list[str] = []
        cursor = ""
        for _page in range(MAX_MEMBER_PAGES):
            args: dict[str, Any] = {"channel": channel_id, "limit": MEMBERS_PAGE}
            if cursor:
                args["cursor"] = cursor
            resp = await self._patient_call(workspace_id, "conversations.members", **args)
            ids.extend(str(m) for m in resp.get("members") or [])
            cursor = str((resp.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        else:
            log.warning("slack: members of %s stopped after %d pages", channel_id, MAX_MEMBER_PAGES)
        people: list[UserInfo] = []
        for user_id in dict.fromkeys(ids):
            if user_id in known:
                people.append(UserInfo(user_id=user_id))
            elif (workspace_id, user_id) not in self._not_people:
                person = await self._person(workspace_id, user_id)
                if person is not None:
                    people.append(person)
        return people

    async def _person(self, workspace_id: str, user_id: str) -> UserInfo | None:
        """``users.info`` for someone Tandem doesn't know yet; None (and remembered) for a bot or a deactivated
        account."""
        found = profile_from((await self._patient_call(workspace_id, "users.info", user=user_id)).get("user") or {})
        if found.is_bot or found.deleted or not found.user_id:
            if len(self._not_people) >= NOT_PEOPLE_CACHE_SIZE:
                self._not_people.pop(next(iter(self._not_people)))
            self._not_people[(workspace_id, user_id)] = None
            return None
        return UserInfo(user_id=user_id, name=found.name or "", email=found.email, timezone=found.timezone)

    async def channel_name(self, workspace_id: str, channel_id: str) -> str | None:
        """The channel's name (conversations.info), for naming a program; None when Slack gives none."""
        resp = await self._call(workspace_id, "conversations.info", outbound=False, channel=channel_id)
        name = (resp.get("channel") or {}).get("name")
        return str(name) if name else None

    async def lookup_user_by_email(self, workspace_id: str, email: str) -> UserInfo | None:
        """Resolve an imported e-mail to a Slack user (users.lookupByEmail); None when Slack has nobody."""
        try:
            resp = await self._call(workspace_id, "users.lookupByEmail", email=email)
        except SendError as exc:
            if "users_not_found" in str(exc):
                return None
            raise
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        return UserInfo(
            user_id=str(user.get("id")),
            name=profile.get("display_name") or user.get("real_name") or "",
            email=profile.get("email") or email,
            timezone=user.get("tz"),
        )

    # --- helpers used by the listeners (a person is waiting: interactive client) -----------------------

    async def client(self, workspace_id: str, *, outbound: bool = False) -> AsyncWebClient:
        try:
            return await self.clients.for_workspace(workspace_id, outbound=outbound)
        except NoToken as exc:
            raise SendError(str(exc), retryable=False) from exc

    async def profile(self, workspace_id: str, user_id: str) -> Profile | None:
        try:
            client = await self.client(workspace_id)
        except SendError:
            return None
        return await self.directory.profile(client, workspace_id, user_id)

    async def reply(self, workspace_id: str, channel: str, message: Message, thread_ts: str | None = None) -> SentRef:
        return await self._post(workspace_id, channel, message, thread_ts, outbound=False)

    async def post_ephemeral(self, workspace_id: str, channel: str, user_id: str, message: Message) -> None:
        """Only ``user_id`` sees it; a message over 50 blocks continues in more ephemeral messages."""
        rendered = render_message(message)
        for blocks in rendered.chunks:
            await self._call(
                workspace_id,
                "chat.postEphemeral",
                outbound=False,
                channel=channel,
                user=user_id,
                text=rendered.text,
                blocks=blocks,
            )

    async def respond(self, response_url: str, body: dict[str, Any]) -> None:
        """Answer through a ``response_url`` (on the shared connection pool, unlike bolt's ``respond()``)."""
        config = self.clients.config
        webhook = AsyncWebhookClient(
            response_url,
            session=self.clients.http(),
            timeout=max(1, int(config.http_timeout)),
            retry_handlers=retry_handlers(False, config.retry_backoff),
        )
        try:
            resp = await webhook.send_dict(body)
        except Exception as exc:
            raise to_send_error("response_url", exc) from exc
        if resp.status_code != 200:
            log.warning("slack: response_url answered %s: %s", resp.status_code, resp.body)

    async def file_info(self, workspace_id: str, file_id: str) -> dict[str, Any]:
        """The full file object (name, size, download address) when an event carried only a stub."""
        resp = await self._call(workspace_id, "files.info", outbound=False, file=file_id)
        return dict(resp.get("file") or {})

    async def open_view(self, workspace_id: str, trigger_id: str, view: dict[str, Any]) -> None:
        await self._call(workspace_id, "views.open", outbound=False, trigger_id=trigger_id, view=view)

    async def publish_home(self, workspace_id: str, user_id: str, view: dict[str, Any]) -> None:
        await self._call(workspace_id, "views.publish", outbound=False, user_id=user_id, view=view)

    # --- plumbing -------------------------------------------------------------------------------------

    async def _post(
        self, workspace_id: str, channel: str, message: Message, thread_ts: str | None = None, *, outbound: bool = True
    ) -> SentRef:
        rendered: Rendered = render_message(message)
        # A long message goes out in several posts (and its files after them). When a later step fails the
        # outbox sends the whole message again; the posts that already went out are skipped, not repeated.
        key = _progress_key(workspace_id, channel, thread_ts, rendered, message)
        first, done = self._progress.get(key, (None, 0))
        for index, chunk in enumerate(rendered.chunks):
            if index < done:
                continue
            args: dict[str, Any] = {"channel": channel, "text": rendered.text, "blocks": chunk, "unfurl_links": False}
            if thread_ts:
                args["thread_ts"] = thread_ts
            resp = await self._call(workspace_id, "chat.postMessage", outbound=outbound, pace_channel=channel, **args)
            ref = SentRef(conversation_id=str(resp.get("channel") or channel), message_id=str(resp.get("ts")))
            first = first or ref
            self._remember_progress(key, first, index + 1)
        assert first is not None
        if message.files:
            await self._upload(workspace_id, first.conversation_id, message, thread_ts)
        self._progress.pop(key, None)
        return first

    def _remember_progress(self, key: str, first: SentRef, done: int) -> None:
        if len(self._progress) >= PROGRESS_CACHE_SIZE and key not in self._progress:
            self._progress.pop(next(iter(self._progress)))
        self._progress[key] = (first, done)

    async def _upload(self, workspace_id: str, channel: str, message: Message, thread_ts: str | None) -> None:
        uploads = [
            {"content": base64.b64decode(f.content_b64), "filename": f.filename, "title": f.title or f.filename}
            for f in message.files
        ]
        client = await self.client(workspace_id, outbound=True)
        await self._pace(workspace_id, "files.getUploadURLExternal")
        try:
            await client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts)
        except Exception as exc:
            raise to_send_error("files.upload", exc) from exc

    async def _pace(self, workspace_id: str, method: str, channel: str | None = None) -> None:
        try:
            await self.pacer.wait(workspace_id, method, channel)
        except Paused as exc:  # the outbox sends other messages meanwhile and retries this one after the pause
            raise SendError(str(exc), retryable=True, retry_after=exc.seconds) from exc

    async def _patient_call(self, workspace_id: str, method: str, **kwargs: Any) -> Any:
        """A call of a long background listing: a rate limit is waited out (nobody is waiting for the answer,
        and starting the listing over would cost more), a few times at most."""
        for attempt in range(LISTING_RETRIES):
            try:
                return await self._call(workspace_id, method, **kwargs)
            except SendError as exc:
                if exc.retry_after is None or not exc.retryable or attempt == LISTING_RETRIES - 1:
                    raise
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")

    async def _call(
        self, workspace_id: str, method: str, *, outbound: bool = True, pace_channel: str | None = None, **kwargs: Any
    ) -> Any:
        client = await self.client(workspace_id, outbound=outbound)
        await self._pace(workspace_id, method, pace_channel)
        try:
            return await getattr(client, method.replace(".", "_"))(**kwargs)
        except Exception as exc:
            err = to_send_error(method, exc)
            if err.retry_after is not None:  # a 429: leave this method alone in this workspace for a while
                # expected under load and retried after the pause: a line at info, not a warning per call
                log.info("slack: %s rate limited; waiting %.1f s before the next", method, err.retry_after)
                self.pacer.pause(workspace_id, method, err.retry_after, channel=pace_channel)
            else:
                log.warning("slack: %s failed (%s)", method, err)
            if any(code in str(err) for code in ("invalid_auth", "token_revoked", "account_inactive_token")):
                self.clients.forget_token(workspace_id)  # look it up again: the app may have been reinstalled
            raise err from exc


def _progress_key(workspace_id: str, channel: str, thread_ts: str | None, rendered: Rendered, message: Message) -> str:
    """The same message to the same place, whatever the retry: a digest of where and what."""
    body = json.dumps(
        [workspace_id, channel, thread_ts, rendered.text, rendered.chunks, [f.filename for f in message.files]],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()
