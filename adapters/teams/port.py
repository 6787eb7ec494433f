"""``TeamsPort``: the core's ``ChatPort`` for Microsoft Teams, over stored conversation references.

Teams lets a bot write proactively only where it holds a conversation reference (or can create a 1:1 chat
with the tenant id), cannot create group chats, and throttles per conversation and per tenant. This module
hides all of that behind send_to_user / send_to_group / post_to_channel / update_message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationParameters
from botbuilder.schema import ConversationReference as BFReference
from botframework.connector.aio import ConnectorClient
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from adapters.metrics import rate_limited
from adapters.teams import store
from adapters.teams.cards import CardRenderer, FilePlacement
from adapters.teams.config import TeamsConfig
from adapters.teams.files import offer_files
from adapters.teams.outbound import card_activity, is_retryable, retry_after_of, send_error, status_of
from adapters.teams.pacing import Pacer
from adapters.teams.store import Address, Person
from bot.kernel.clock import Clock
from bot.kernel.events import SentRef
from bot.kernel.messages import FileAttachment, Message
from bot.kernel.port import PlatformCapabilities, SendError, UserInfo
from storage.database import Database

log = logging.getLogger("tandem.teams")

CHANNEL_ID = "msteams"
PROGRESS_CACHE_SIZE = 1_000


def bf_reference(address: Address | dict[str, Any]) -> BFReference:
    """botbuilder's ConversationReference from our stored JSON (without Tandem's extra keys)."""
    data = dict(address.reference if isinstance(address, Address) else address)
    data.pop(store.EXTRA_KEY, None)
    return BFReference().deserialize(data)


def connector_of(turn: TurnContext) -> ConnectorClient:
    return turn.turn_state[turn.adapter.BOT_CONNECTOR_CLIENT_KEY]


def _counted_retryable(exc: BaseException) -> bool:
    """tenacity's retry test, which sees every failed attempt: the place to count Teams' 429s for /metrics."""
    if status_of(exc) == 429:
        rate_limited("teams", "bot_connector")
    return is_retryable(exc)


class Backoff:
    """Exponential backoff with full jitter, honouring Retry-After when Teams sends one."""

    def __init__(self, initial: float = 1.0, maximum: float = 32.0, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** (state.attempt_number - 1))
        wait = self.initial / 2 + self.rng.uniform(0, ceiling)
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_of(exc) if exc else None
        return max(wait, hinted or 0.0)


class TeamsPort:
    """Sends through the CloudAdapter; raises ``SendError`` the core understands."""

    capabilities = PlatformCapabilities(group_conversations=False, threads=True, reactions=False)

    def __init__(
        self,
        adapter: Any,
        config: TeamsConfig,
        db: Database,
        renderer: CardRenderer,
        clock: Clock,
        *,
        pacer: Pacer | None = None,
        attempts: int = 5,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.adapter = adapter
        self.config = config
        self.db = db
        self.renderer = renderer
        self.clock = clock
        self.pacer = pacer or Pacer(sleep=sleep)
        self.attempts = attempts
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self._progress: dict[str, tuple[SentRef, int]] = {}  # a long message's cards sent so far

    # --- the ChatPort interface ---------------------------------------------------------------------

    async def send_to_user(self, workspace_id: str, user_id: str, message: Message) -> SentRef:
        """The card in the person's 1:1 chat (and the cards that continue a long message), then a
        file-consent card for each file not shown inline."""
        rendered = self.renderer.render(message, FilePlacement.BELOW)

        async def send(card: dict[str, Any]) -> SentRef:
            return await self.send_card_to_user(workspace_id, user_id, card, message.summary)

        ref = await self._send_cards(["user", workspace_id, user_id], rendered.cards, send)
        if rendered.files:
            await self.offer_files(workspace_id, user_id, message, rendered.files)
        return ref

    async def send_card_to_user(self, workspace_id: str, user_id: str, card: dict[str, Any], summary: str) -> SentRef:
        """Any card (a message or a form) in the person's 1:1 chat, opening the chat if needed."""
        return await self.send_activity_to_user(workspace_id, user_id, card_activity(card, summary))

    async def offer_files(
        self, workspace_id: str, user_id: str, message: Message, files: tuple[FileAttachment, ...]
    ) -> None:
        """File-consent cards in the person's 1:1 chat (the only place Teams lets a bot send files).

        A send that failed half-way and is retried offers only the files not offered yet."""

        async def send(activity: Activity) -> SentRef:
            return await self.send_activity_to_user(workspace_id, user_id, activity)

        await offer_files(
            self.db, send, tenant_id=workspace_id, user_id=user_id, message=message, files=files, now=self.clock.now()
        )

    async def send_activity_to_user(self, workspace_id: str, user_id: str, activity: Activity) -> SentRef:
        address = await store.personal_address(self.db, workspace_id, user_id)
        if address is not None and address.gone:
            raise SendError(f"Teams: {user_id} blocked or removed the bot", retryable=False, gone=True)
        if address is None:
            return await self._open_personal_chat(workspace_id, user_id, activity)
        return await self._send(workspace_id, address, address.conversation_id, activity)

    async def send_to_group(self, workspace_id: str, user_ids: list[str], message: Message) -> SentRef:
        """Bots cannot create group chats in Teams: each member gets the card 1:1 (with the core's
        GroupChatButton). Returns the first person's message; fails only if nobody could be reached."""
        first: SentRef | None = None
        failure: SendError | None = None
        for user_id in dict.fromkeys(user_ids):
            try:
                ref = await self.send_to_user(workspace_id, user_id, message)
            except SendError as exc:
                log.warning("teams: group message to %s failed: %s", user_id, exc)
                failure = failure if failure and failure.retryable else exc
                continue
            first = first or ref
        if first is None:
            raise failure or SendError("Teams: send_to_group with nobody to send to", retryable=False)
        return first

    async def post_to_channel(
        self, workspace_id: str, channel_id: str, message: Message, thread_id: str | None = None
    ) -> SentRef:
        address = await store.conversation_address(self.db, workspace_id, channel_id)
        if address is None:
            raise SendError(f"Teams: the bot is not installed where channel {channel_id} lives", retryable=False)
        if address.gone:
            raise SendError(f"Teams: the bot was removed from {channel_id}", retryable=False, gone=True)
        target = f"{address.conversation_id};messageid={thread_id}" if thread_id else address.conversation_id
        # no file-consent in channels: the card names any file it could not carry
        cards = self.renderer.render(message, FilePlacement.NOT_SENT).cards

        async def send(card: dict[str, Any]) -> SentRef:  # a long message continues in the same thread
            return await self._send(workspace_id, address, target, card_activity(card, message.summary))

        return await self._send_cards(["channel", workspace_id, target], cards, send)

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        address = await store.conversation_address(self.db, workspace_id, ref.conversation_id)
        if address is None:
            raise SendError(f"Teams: no stored conversation {ref.conversation_id}", retryable=False)
        if address.gone:
            raise SendError(f"Teams: conversation {ref.conversation_id} is gone", retryable=False, gone=True)
        cards = self.renderer.message_cards(message)
        activity = card_activity(cards[0], message.summary)
        activity.id = ref.message_id

        async def call(turn: TurnContext) -> Any:
            activity.conversation = ConversationAccount(id=ref.conversation_id)
            return await connector_of(turn).conversations.update_activity(ref.conversation_id, ref.message_id, activity)

        await self._with_connector(workspace_id, address, ref.conversation_id, call, updating=True)
        for card in cards[1:]:  # the rest of a message grown too long for one card follows it
            await self._send(workspace_id, address, ref.conversation_id, card_activity(card, message.summary))

    # --- helpers for the rest of the adapter --------------------------------------------------------

    async def with_turn(
        self, workspace_id: str, address: Address, call: Callable[[TurnContext], Awaitable[Any]]
    ) -> Any:
        """Run ``call`` in a proactive turn on ``address``, with pacing and retries (roster paging)."""
        return await self._with_connector(workspace_id, address, None, call)

    async def channel_members(
        self, workspace_id: str, channel_id: str, known: frozenset[str] = frozenset()
    ) -> list[UserInfo]:
        """Everyone in the team that owns ``channel_id``, paged (so teams over 5,000 members work). The roster
        carries names and UPNs already, so ``known`` saves no calls here."""
        from adapters.teams.roster import team_roster

        return await team_roster(self, workspace_id, channel_id)

    async def channel_name(self, workspace_id: str, channel_id: str) -> str | None:
        """The channel's name from its team's channel list (the General channel comes without one)."""
        address = await store.conversation_address(self.db, workspace_id, channel_id)
        if address is None:
            return None
        team_id = address.extra.get("team_id") or channel_id

        async def call(turn: TurnContext) -> Any:
            client = await TeamsInfo.get_teams_connector_client(turn)
            # botbuilder's Teams operations are synchronous (requests): off the event loop
            return (await asyncio.to_thread(client.teams.get_teams_channels, team_id)).conversations

        try:
            channels = await self.in_turn(workspace_id, address, None, call)
        except Exception as exc:
            raise send_error(exc) from exc
        for channel in channels or []:
            if channel.id == channel_id:
                return channel.name or "General"
        return None

    # --- internals ----------------------------------------------------------------------------------

    async def _send_cards(
        self, where: list[str], cards: list[dict[str, Any]], send: Callable[[dict[str, Any]], Awaitable[SentRef]]
    ) -> SentRef:
        """Send a message's cards in order. When a later card fails, the outbox sends the whole message
        again; the cards that already went out are skipped, not repeated (remembered in memory, as the
        Slack port does for its chunks)."""
        key = hashlib.sha256(json.dumps([where, cards], sort_keys=True, default=str).encode()).hexdigest()
        first, done = self._progress.get(key, (None, 0))
        for index, card in enumerate(cards):
            if index < done:
                continue
            ref = await send(card)
            first = first or ref
            if len(cards) > 1:
                if len(self._progress) >= PROGRESS_CACHE_SIZE and key not in self._progress:
                    self._progress.pop(next(iter(self._progress)))
                self._progress[key] = (first, index + 1)
        self._progress.pop(key, None)
        assert first is not None
        return first

    async def _send(self, workspace_id: str, address: Address, conversation_id: str, activity: Activity) -> SentRef:
        async def call(turn: TurnContext) -> Any:
            activity.conversation = ConversationAccount(id=conversation_id)
            reference = bf_reference(address)
            activity.from_property = reference.bot
            activity.recipient = reference.user
            return await connector_of(turn).conversations.send_to_conversation(conversation_id, activity)

        response = await self._with_connector(workspace_id, address, conversation_id, call)
        return SentRef(conversation_id=conversation_id, message_id=getattr(response, "id", None) or "")

    async def _with_connector(
        self,
        workspace_id: str,
        address: Address,
        conversation_id: str | None,
        call: Callable[[TurnContext], Awaitable[Any]],
        *,
        updating: bool = False,
    ) -> Any:
        try:
            return await self.in_turn(workspace_id, address, conversation_id, call)
        except Exception as exc:
            error = send_error(exc)
            status = status_of(exc)
            if status == 403 or (status == 404 and not updating):
                log.warning("teams: marking %s gone after %s", address.conversation_id, exc)
                await store.mark_gone(self.db, address.id, self.clock.now())
            elif error.gone:
                error = SendError(str(error), retryable=False)
            raise error from exc

    async def in_turn(
        self,
        workspace_id: str,
        address: Address,
        conversation_id: str | None,
        call: Callable[[TurnContext], Awaitable[Any]],
    ) -> Any:
        """One connector call in a proactive turn, paced and retried; raises the last error as it came.

        Writes nothing, so it may run inside the core's transaction (the e-mail look-up does)."""
        reference = bf_reference(address)

        async def attempt() -> Any:
            await self.pacer.acquire(workspace_id, conversation_id)
            box: dict[str, Any] = {}

            async def logic(turn: TurnContext) -> None:
                try:
                    box["result"] = await call(turn)
                except Exception as exc:  # noqa: BLE001 - re-raised below, outside botbuilder's pipeline
                    box["error"] = exc

            await self.adapter.continue_conversation(reference, logic, bot_app_id=self.config.app_id or None)
            if "error" in box:
                raise box["error"]
            return box.get("result")

        return await self._retrying(attempt)

    async def _open_personal_chat(self, tenant_id: str, user_id: str, activity: Activity) -> SentRef:
        """No reference yet: create the 1:1 chat with the tenant id, send, and store the new reference."""
        service_url, bot_id = await store.workspace_info(self.db, tenant_id)
        if not service_url:
            raise SendError(f"Teams: tenant {tenant_id} has never talked to the bot", retryable=False)
        bot = ChannelAccount(id=bot_id or f"28:{self.config.app_id}")
        params = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )
        box: dict[str, Any] = {}

        async def logic(turn: TurnContext) -> None:
            try:
                conversation_id = turn.activity.conversation.id
                connector = connector_of(turn)
                activity.conversation = ConversationAccount(id=conversation_id)
                activity.from_property = bot
                activity.recipient = ChannelAccount(id=user_id)
                box["conversation_id"] = conversation_id
                box["response"] = await connector.conversations.send_to_conversation(conversation_id, activity)
            except Exception as exc:  # noqa: BLE001 - re-raised below
                box["error"] = exc

        async def attempt() -> Any:
            box.clear()
            await self.pacer.acquire(tenant_id, None)
            await self.adapter.create_conversation(self.config.app_id or None, logic, params, CHANNEL_ID, service_url)
            if "error" in box and "conversation_id" not in box:
                raise box["error"]

        try:
            await self._retrying(attempt)
        except Exception as exc:
            raise send_error(exc) from exc
        reference = {
            "bot": {"id": bot.id},
            "user": {"id": user_id},
            "channelId": CHANNEL_ID,
            "serviceUrl": service_url,
            "conversation": {
                "id": box["conversation_id"],
                "conversationType": "personal",
                "tenantId": tenant_id,
            },
            store.EXTRA_KEY: {"tenant_id": tenant_id},
        }
        await store.save_personal_address(self.db, tenant_id, user_id, reference, self.clock.now())
        if "error" in box:  # the chat exists now; the message itself failed
            error = box["error"]
            address = await store.personal_address(self.db, tenant_id, user_id)
            if address is not None and is_retryable(error):  # retry over the stored reference
                return await self._send(tenant_id, address, address.conversation_id, activity)
            if address is not None and status_of(error) == 403:
                await store.mark_gone(self.db, address.id, self.clock.now())
            raise send_error(error) from error
        return SentRef(conversation_id=box["conversation_id"], message_id=getattr(box["response"], "id", "") or "")

    async def _retrying(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.backoff,
            retry=retry_if_exception(_counted_retryable),
            sleep=self.sleep,
            reraise=True,
            before_sleep=lambda s: log.info("teams: retrying after %s", s.outcome.exception() if s.outcome else "?"),
        )
        async for try_ in retrying:
            with try_:
                return await attempt()
        return None  # pragma: no cover - reraise=True always returns or raises above

    async def remember_people(self, workspace_id: str, people: list[Person]) -> None:
        await store.save_people(self.db, workspace_id, people, self.clock.now())

    # --- participant imports ------------------------------------------------------------------------

    @property
    def directory(self) -> Any:
        """The per-tenant roster cache that resolves e-mails (made on first use)."""
        from adapters.teams.directory import EmailDirectory

        if getattr(self, "_directory", None) is None:
            self._directory = EmailDirectory(self)
        return self._directory

    async def lookup_user_by_email(self, workspace_id: str, email: str) -> UserInfo | None:
        """An imported e-mail → the person's Teams id (29:…): people Tandem already stored first, then the
        rosters of the tenant's teams, matched on mail address or UPN (case-insensitive) and cached for a
        few minutes. None when nobody matches; ``SendError`` when the connector can't be asked."""
        return await self.directory.lookup(workspace_id, email)
