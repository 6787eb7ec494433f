"""The Teams bot: each inbound turn → store the conversation reference → neutral event → core → reply.

``http.py`` has already checked the request (content type, JSON, activity shape, card signatures), so the
turn only meets activities it can act on; the raw JSON body is on the turn state under ``RAW_KEY``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import FileConsentCardResponse, TeamInfo, TeamsChannelAccount

from adapters.teams import store
from adapters.teams.cards import CARD_CONTENT_TYPE, CardRenderer, FilePlacement, files_note
from adapters.teams.config import TeamsConfig
from adapters.teams.downloads import DownloadError, FileDownloader, SentFile, sent_files
from adapters.teams.files import ConsentAnswers
from adapters.teams.form_store import SEARCH_PAGE, load_form, save_form, search, split_dataset
from adapters.teams.outbound import card_activity
from adapters.teams.port import TeamsPort
from adapters.teams.roster import person_of
from adapters.teams.signing import CardSigner
from adapters.teams.store import Person
from adapters.teams.translate import (
    TeamsContext,
    activity_id,
    actor_of,
    bot_removed,
    card_action_event,
    context_of,
    file_event,
    installed_event,
    membership_events,
    message_event,
)
from bot.core import Tandem
from bot.kernel.events import (
    Actor,
    FileUploadedEvent,
    FormErrors,
    FormSubmittedEvent,
    NoReply,
    OpenForm,
    Reply,
    Response,
)
from bot.kernel.messages import Context, FileAttachment, Form, Message, Option, Section, text_message
from bot.kernel.port import SendError

log = logging.getLogger("tandem.teams")

RAW_KEY = "tandem.teams.raw"
SEARCH_RESPONSE = "application/vnd.microsoft.search.searchResponse"
ADMIN_ROLES = frozenset({"owner", "admin", "administrator"})
SORRY = "Sorry, something went wrong on my side. Please try again in a minute."
PRIVATE_NOTE = "📬 I've answered you in our 1:1 chat."
PRIVATE_FAILED = "I couldn't message you privately. Open a chat with me (Chat → New chat → Tandem) and try again."
FILES_IN_PERSONAL_CHAT = (
    "I can only read files sent to me in our 1:1 chat: open a chat with me (Chat → New chat → Tandem), attach the "
    "CSV file and write `import [program]`."
)
ONE_FILE = "Please send one file at a time, with the text `import [program]`."


class MemberCache:
    """Member look-ups (UPN, role) cached for a while: one connector call per person, not per message."""

    def __init__(self, ttl: float = 600.0, size: int = 5000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[tuple[str, str], tuple[float, Person | None]] = {}

    def get(self, key: tuple[str, str]) -> tuple[bool, Person | None]:
        hit = self._items.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return True, hit[1]
        return False, None

    def put(self, key: tuple[str, str], person: Person | None) -> None:
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic(), person)


# Universal Actions invoke responses as plain JSON: botbuilder's AdaptiveCardInvokeResponse model cannot
# serialize the string ``value`` that the "activity.message" type requires.
InvokeBody = dict[str, Any]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def card_invoke_response(card: dict[str, Any]) -> InvokeBody:
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def message_invoke_response(text: str) -> InvokeBody:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


PLAIN_ANSWER_CHARS = 500  # longer answers (or any with buttons or files) come as a card of their own


def is_plain_answer(message: Message) -> bool:
    """A few lines of text and nothing to click: Teams can show it as the click's own answer."""
    return (
        not message.files
        and all(isinstance(block, Section | Context) and not getattr(block, "fields", ()) for block in message.blocks)
        and len(message.plain_text()) <= PLAIN_ANSWER_CHARS
    )


def error_invoke_response(status: int, code: str, message: str) -> InvokeBody:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }


class TeamsBot(TeamsActivityHandler):
    def __init__(self, core: Tandem, config: TeamsConfig, renderer: CardRenderer, signer: CardSigner) -> None:
        self.core = core
        self.config = config
        self.renderer = renderer
        self.signer = signer
        self.members = MemberCache()
        self.downloads = FileDownloader()
        self.consent = ConsentAnswers(core.db, renderer, core.clock.now)

    # --- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def raw(turn: TurnContext) -> dict[str, Any]:
        return turn.turn_state.get(RAW_KEY) or turn.activity.serialize()

    def _ctx(self, turn: TurnContext) -> TeamsContext:
        return context_of(self.raw(turn))

    async def _member(self, turn: TurnContext, ctx: TeamsContext) -> Person | None:
        """Best effort: the sender's UPN and role from the connector (cached)."""
        key = (ctx.tenant_id, ctx.user_id)
        found, person = self.members.get(key)
        if found:
            return person
        try:
            member = await TeamsInfo.get_member(turn, ctx.user_id)
            person = person_of(member)
        except Exception as exc:  # noqa: BLE001 - a missing UPN or role must not fail the turn
            log.info("teams: member look-up for %s failed: %s", ctx.user_id, exc)
            person = None
        self.members.put(key, person)
        return person

    def _is_admin(self, ctx: TeamsContext, person: Person | None) -> bool | None:
        """TANDEM_TEAMS_ADMINS (AAD object ids) or an owner/admin role on the member record.

        Known-but-not-admin is False (so removing someone from the list takes effect); ``None`` only when
        the member look-up failed and nothing is known. Bot Framework's member API reports ``userRole``
        (user/guest) but usually not team ownership, so the env list is the dependable way."""
        if self.config.is_admin(ctx.aad_object_id or (person.aad_object_id if person else None)):
            return True
        if person is None:
            return None
        role = (person.role or "").lower()
        return role in ADMIN_ROLES

    async def _remember(self, turn: TurnContext, ctx: TeamsContext, email: str | None = None) -> bool:
        reference = TurnContext.get_conversation_reference(turn.activity).serialize()
        return await store.remember_turn(self.core.db, ctx, reference, self.core.clock.now(), email=email)

    async def _handle(self, event: Any) -> Response:
        return await self.core.handle(event)

    async def form_card(
        self,
        tenant_id: str,
        form: Form,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The form's card, the form kept so its submit (and its typeahead searches) can find it."""
        ref = await save_form(self.core.db, tenant_id, form, self.core.clock.now())
        return self.renderer.form_card(form, errors, values, ref=ref)

    async def _cards_of(self, tenant_id: str, response: Response) -> tuple[list[dict[str, Any]], str] | None:
        """The cards answering ``response`` (a long reply takes several) and their notification text."""
        if isinstance(response, Reply):
            return self.renderer.message_cards(response.message), response.message.summary
        if isinstance(response, OpenForm):
            return [await self.form_card(tenant_id, response.form)], response.form.title
        if isinstance(response, FormErrors):
            message = text_message("\n".join(f"• {msg}" for msg in response.errors.values()))
            return self.renderer.message_cards(message), message.summary
        return None

    async def _send_response(self, turn: TurnContext, ctx: TeamsContext, response: Response) -> None:
        """Answer where the person spoke. Teams has no ephemeral messages, so in a channel or group chat a
        private answer (an ephemeral reply, a form with their data) goes to their 1:1 chat instead, with a
        short public pointer in the thread."""
        if isinstance(response, Reply) and response.message.files:
            await self._send_reply_with_files(turn, ctx, response)
            return
        rendered = await self._cards_of(ctx.tenant_id, response)
        if rendered is None:
            return
        cards, summary = rendered
        private = isinstance(response, OpenForm | FormErrors) or (isinstance(response, Reply) and response.ephemeral)
        port = self.core.ports.get("teams")
        if ctx.is_personal or not private or not isinstance(port, TeamsPort):
            for card in cards:
                await turn.send_activity(card_activity(card, summary))
            return
        try:
            for card in cards:
                await port.send_card_to_user(ctx.tenant_id, ctx.user_id, card, summary)
            note = PRIVATE_NOTE
        except SendError as exc:
            log.warning("teams: private answer to %s failed: %s", ctx.user_id, exc)
            note = PRIVATE_FAILED
        await turn.send_activity(card_activity(self.renderer.message_card(text_message(note)), note))

    # --- files (Teams sends files only in 1:1 chats, with file-consent cards: see files.py) -------------

    async def _send_reply_with_files(self, turn: TurnContext, ctx: TeamsContext, response: Reply) -> None:
        """In a 1:1 chat: the card, then a consent card per file. Elsewhere a private answer goes to the 1:1
        chat whole (files included); a public one stays here and says the files went to the 1:1 chat."""
        message = response.message
        port = self.core.ports.get("teams")
        if ctx.is_personal:
            rendered = self.renderer.render(message, FilePlacement.BELOW)
            for card in rendered.cards:
                await turn.send_activity(card_activity(card, message.summary))
            if rendered.files and not await self._offer(ctx, message, rendered.files):
                note = files_note(FilePlacement.PRIVATE_FAILED, rendered.files)
                await turn.send_activity(card_activity(self.renderer.message_card(text_message(note)), note))
            return
        if response.ephemeral and isinstance(port, TeamsPort):
            try:
                await port.send_to_user(ctx.tenant_id, ctx.user_id, message)
                note = PRIVATE_NOTE
            except SendError as exc:
                log.warning("teams: private answer to %s failed: %s", ctx.user_id, exc)
                note = PRIVATE_FAILED
            await turn.send_activity(card_activity(self.renderer.message_card(text_message(note)), note))
            return
        for card in await self._files_first(ctx, message):
            await turn.send_activity(card_activity(card, message.summary))

    async def _files_first(self, ctx: TeamsContext, message: Message) -> list[dict[str, Any]]:
        """The card for a reply shown where the person acted (a thread, or a card action's answer), after
        its files were offered in their 1:1 chat; the card says whether that worked."""
        placement = FilePlacement.BELOW if ctx.is_personal else FilePlacement.PRIVATE
        rendered = self.renderer.render(message, placement)
        if rendered.files and not await self._offer(ctx, message, rendered.files):
            rendered = self.renderer.render(message, FilePlacement.PRIVATE_FAILED)
        return rendered.cards

    async def _invoke_reply(self, turn: TurnContext, message: Message) -> InvokeBody:
        """A card action's answer replaces the card; the rest of a long answer follows as new messages."""
        cards = await self._files_first(self._ctx(turn), message)
        for card in cards[1:]:
            await turn.send_activity(card_activity(card, message.summary))
        return card_invoke_response(cards[0])

    async def _offer(self, ctx: TeamsContext, message: Message, files: tuple[FileAttachment, ...]) -> bool:
        port = self.core.ports.get("teams")
        if not isinstance(port, TeamsPort):
            return False
        try:
            await port.offer_files(ctx.tenant_id, ctx.user_id, message, files)
        except SendError as exc:
            log.warning("teams: could not offer %d file(s) to %s: %s", len(files), ctx.user_id, exc)
            return False
        return True

    async def on_teams_file_consent_accept(self, turn: TurnContext, response: FileConsentCardResponse) -> None:
        await self.consent.accept(turn, response)

    async def on_teams_file_consent_decline(self, turn: TurnContext, response: FileConsentCardResponse) -> None:
        await self.consent.decline(turn, response)

    # --- messages ---------------------------------------------------------------------------------------

    async def on_message_activity(self, turn: TurnContext) -> None:
        raw = self.raw(turn)
        ctx = context_of(raw)
        if not raw.get("text") and raw.get("value") is not None:
            log.info(
                "teams: ignoring a legacy Action.Submit from %s (Tandem cards use Action.Execute)",
                ctx.user_id,
            )
            return
        person = await self._member(turn, ctx)
        await self._remember(turn, ctx, email=person.email if person else None)
        actor = actor_of(ctx, is_admin=self._is_admin(ctx, person), email=person.email if person else None)
        files = sent_files(raw)
        if files:
            event: Any = await self._file_event(turn, raw, ctx, actor, files)
        else:
            event = message_event(raw, ctx, actor)
        if event is None:
            return
        try:
            response = await self._handle(event)
        except Exception:
            log.exception("teams: the core failed on a message from %s", ctx.user_id)
            await self._say(turn, SORRY)
            return
        await self._send_response(turn, ctx, response)

    async def _say(self, turn: TurnContext, text: str) -> None:
        await turn.send_activity(card_activity(self.renderer.message_card(text_message(text)), text))

    async def _file_event(
        self, turn: TurnContext, raw: dict[str, Any], ctx: TeamsContext, actor: Actor, files: list[SentFile]
    ) -> FileUploadedEvent | None:
        """A message with a file: downloaded in the 1:1 chat and handed to the core (a participant import);
        anywhere else Teams gives the bot no file to read, so the person is pointed to the 1:1 chat.
        Returns the event, or ``None`` once the person has been answered here."""
        if not ctx.is_personal:
            await self._say(turn, FILES_IN_PERSONAL_CHAT)
            return None
        if len(files) > 1:
            await self._say(turn, ONE_FILE)
            return None
        [file] = files
        if await self.core.handled_before(file_event(raw, ctx, actor, file.name, b"")):
            log.info("teams: %s was delivered again; not downloading it twice", file.name)
            return None
        try:
            content = await self.downloads.fetch(file)
        except DownloadError as exc:
            await self._say(turn, str(exc))
            return None
        log.info("teams: %s sent %s (%d bytes)", ctx.user_id, file.name, len(content))
        return file_event(raw, ctx, actor, file.name, content)

    # --- card actions -----------------------------------------------------------------------------------

    async def on_invoke_activity(self, turn: TurnContext) -> InvokeResponse:
        """``adaptiveCard/action`` is answered here with a plain JSON body; other invokes go to botbuilder
        (which answers 501 for the ones Tandem does not handle)."""
        if turn.activity.name == "adaptiveCard/action":
            body = await self._card_action(turn)
            return InvokeResponse(status=500 if body["statusCode"] >= 500 else 200, body=body)
        if turn.activity.name == "application/search":
            return InvokeResponse(status=200, body=await self._search(turn))
        return await super().on_invoke_activity(turn)

    async def _search(self, turn: TurnContext) -> dict[str, Any]:
        """A typeahead drop-down asks for the options matching what the person typed (``Data.Query``)."""
        raw = self.raw(turn)
        ctx = context_of(raw)
        value = _object(raw.get("value"))
        where = split_dataset(str(value.get("dataset") or ""))
        form = await load_form(self.core.db, where[0], ctx.tenant_id) if where else None
        paging = _object(value.get("queryOptions"))
        found: list[Option] = []
        if form is not None and where is not None:
            skip, top = _int(paging.get("skip"), 0), _int(paging.get("top"), SEARCH_PAGE)
            found = search(form, where[1], str(value.get("queryText") or ""), skip, top)
        results = [{"title": o.label, "value": o.value} for o in found]
        return {"type": SEARCH_RESPONSE, "value": {"results": results}}

    async def _card_action(self, turn: TurnContext) -> InvokeBody:
        raw = self.raw(turn)
        ctx = context_of(raw)
        person = await self._member(turn, ctx)
        actor = actor_of(ctx, is_admin=self._is_admin(ctx, person), email=person.email if person else None)
        event, payload = card_action_event(raw, ctx, actor, self.signer)  # verified already by http.py
        form = await self._form_of(ctx.tenant_id, payload)
        await self._remember(turn, ctx, email=actor.email)
        try:
            response = await self._handle(event)
        except Exception:
            log.exception("teams: the core failed on card action %s", getattr(event, "action_id", None))
            return error_invoke_response(500, "InternalError", SORRY)
        if isinstance(event, FormSubmittedEvent):
            return await self._form_answer(turn, ctx, response, form, event)
        return await self._action_answer(turn, response)

    async def _form_of(self, tenant_id: str, payload: dict[str, Any]) -> Form | None:
        """The submitted form: kept under the card's reference (cards made before it may carry the form)."""
        if isinstance(payload.get("ref"), str):
            return await load_form(self.core.db, payload["ref"], tenant_id)
        try:
            return Form.model_validate(payload["form"]) if payload.get("form") else None
        except ValueError:
            return None

    async def _form_answer(
        self, turn: TurnContext, ctx: TeamsContext, response: Response, form: Form | None, event: FormSubmittedEvent
    ) -> InvokeBody:
        """A submitted form turns into its answered state, or comes back with the problems marked."""
        if isinstance(response, FormErrors):
            if form is None:
                return error_invoke_response(400, "BadRequest", "; ".join(response.errors.values()))
            return card_invoke_response(await self.form_card(ctx.tenant_id, form, response.errors, event.values))
        if isinstance(response, Reply):
            return await self._invoke_reply(turn, response.message)
        if isinstance(response, OpenForm):
            return card_invoke_response(await self.form_card(ctx.tenant_id, response.form))
        return self._answered(form, event)

    def _answered(self, form: Form | None, event: FormSubmittedEvent) -> InvokeBody:
        if form is not None:
            return card_invoke_response(self.renderer.answered_card(form, event.values))
        return message_invoke_response("Saved.")

    async def _action_answer(self, turn: TurnContext, response: Response) -> InvokeBody:
        if isinstance(response, Reply):
            if not response.replace_original and is_plain_answer(response.message):
                # one answer per click: a short text is shown on the card itself, not repeated as a new card
                return message_invoke_response(response.message.plain_text().replace("**", ""))
            if response.replace_original:
                return await self._invoke_reply(turn, response.message)
            for card in await self._files_first(self._ctx(turn), response.message):
                await turn.send_activity(card_activity(card, response.message.summary))
            return message_invoke_response(response.message.notification() or "Done.")
        if isinstance(response, OpenForm):
            return card_invoke_response(await self.form_card(self._ctx(turn).tenant_id, response.form))
        if isinstance(response, FormErrors):
            return error_invoke_response(400, "BadRequest", "; ".join(response.errors.values()))
        assert isinstance(response, NoReply)
        return message_invoke_response("Done.")

    # --- membership and installation -------------------------------------------------------------------

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn: TurnContext
    ) -> None:
        """Like botbuilder's, but a failed member look-up falls back to the activity's own data instead of
        failing the whole install turn."""
        accounts: list[TeamsChannelAccount] = []
        for member in members_added:
            account = TeamsChannelAccount(id=member.id, name=member.name, aad_object_id=member.aad_object_id)
            if member.id != turn.activity.recipient.id:
                try:
                    account = await TeamsInfo.get_member(turn, member.id)
                except Exception as exc:  # noqa: BLE001 - best effort, see docstring
                    log.info("teams: look-up of new member %s failed: %s", member.id, exc)
            accounts.append(account)
        await self.on_teams_members_added(accounts, team_info, turn)

    async def on_teams_members_added(
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn: TurnContext
    ) -> None:
        raw = self.raw(turn)
        ctx = context_of(raw)
        emails = {m.id: p.email for m in teams_members_added if (p := person_of(m)).email}
        new_here = await self._remember(turn, ctx, email=emails.get(ctx.user_id))
        if emails:
            people = [person_of(m) for m in teams_members_added if m.id != ctx.bot_id]
            await store.save_people(self.core.db, ctx.tenant_id, people, self.core.clock.now())
        actor = actor_of(ctx, is_admin=self._is_admin(ctx, None))
        channels = await store.team_channels(self.core.db, ctx.tenant_id, ctx.team_id) if ctx.team_id else []
        for event in membership_events(raw, ctx, actor, emails, channels):
            if type(event).__name__ == "AppInstalledEvent" and not new_here:
                continue  # installationUpdate already announced this install
            await self._deliver(turn, ctx, event)

    async def on_teams_members_removed(
        self, teams_members_removed: list[TeamsChannelAccount], team_info: TeamInfo, turn: TurnContext
    ) -> None:
        raw = self.raw(turn)
        ctx = context_of(raw)
        if bot_removed(raw, ctx):
            await store.mark_conversation_gone(self.core.db, ctx.tenant_id, ctx.conversation_id, self.core.clock.now())
        actor = actor_of(ctx)
        channels = await store.team_channels(self.core.db, ctx.tenant_id, ctx.team_id) if ctx.team_id else []
        for event in membership_events(raw, ctx, actor, channels=channels):
            await self._deliver(turn, ctx, event)

    async def on_installation_update_add(self, turn: TurnContext) -> None:
        raw = self.raw(turn)
        ctx = context_of(raw)
        if await self._remember(turn, ctx):
            actor = actor_of(ctx, is_admin=self._is_admin(ctx, None))
            await self._deliver(turn, ctx, installed_event(ctx, actor, activity_id(raw, ctx)))

    async def on_installation_update_remove(self, turn: TurnContext) -> None:
        ctx = context_of(self.raw(turn))
        await store.mark_conversation_gone(self.core.db, ctx.tenant_id, ctx.conversation_id, self.core.clock.now())

    async def _deliver(self, turn: TurnContext, ctx: TeamsContext, event: Any) -> None:
        """Hand a membership/installation event to the core; a private answer goes to the event's person."""
        try:
            response = await self._handle(event)
        except Exception:
            log.exception("teams: the core failed on %s", type(event).__name__)
            return
        await self._send_response(turn, replace(ctx, user_id=event.actor.user_id), response)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn: TurnContext) -> None:
        return  # handled in on_teams_members_added, which sees the Teams details
