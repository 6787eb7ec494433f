"""The bolt ``AsyncApp``: listeners that acknowledge Slack at once, translate, and hand the event to the core.

Every listener acks first and does the slow part (users.info, the core, the answer) in a background task,
so Slack always gets its answer well inside 3 s. The one exception is a modal submission: its answer *is*
the validation result, so the core gets up to ``VIEW_ANSWER_BUDGET`` seconds before we ack without it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack import translate
from adapters.slack.background import Background
from adapters.slack.backpressure import Shedding, room_for_work
from adapters.slack.clients import SlackClients
from adapters.slack.config import BOT_SCOPES, SlackConfig
from adapters.slack.files import FileFetcher, FileProblem, name_of
from adapters.slack.group_dms import GroupDMs
from adapters.slack.installations import DatabaseInstallationStore, DatabaseStateStore
from adapters.slack.port import SlackPort
from adapters.slack.render import home_view, render_form
from adapters.slack.respond import Origin, deliver, form_errors
from bot.core import Tandem
from bot.kernel.events import Actor, AppInstalledEvent, Event, FormErrors, OpenForm, Reply, Response
from bot.kernel.messages import text_message
from storage.sealing import Sealer

log = logging.getLogger("tandem.slack")

VIEW_ANSWER_BUDGET = 2.5  # seconds; Slack gives a view_submission 3 s
ANY = re.compile(r".*")
ANY_COMMAND = re.compile(r"^/.+")
MAX_FILES_PER_MESSAGE = 5  # Slack allows 10 files on one message; a participant import needs one


class SlackAdapter:
    """Owns the Slack side of one Tandem process: clients, port, bolt app and background work."""

    def __init__(self, core: Tandem, config: SlackConfig) -> None:
        self.core = core
        self.config = config
        self.background = Background(config.background_concurrency, config.backlog_limit)
        self.shedding = Shedding()
        self.installations = (
            DatabaseInstallationStore(core.db, Sealer(config.secret_keys)) if config.oauth_enabled else None
        )
        lookup = self.installations.bot_token if self.installations else None
        self.clients = SlackClients(config, token_lookup=lookup)
        self.port = SlackPort(self.clients, group_dms=GroupDMs(core.db))
        self.files = FileFetcher(self.port, self.clients)
        self.bolt = build_bolt_app(self)

    async def actor(self, workspace_id: str, user_id: str, fallback_name: str | None = None) -> Actor:
        profile = await self.port.profile(workspace_id, user_id)
        return translate.actor(workspace_id, user_id, profile, fallback_name)

    async def run(
        self,
        origin: Origin,
        make_event: Callable[[Actor], Event | Awaitable[Event]],
        *,
        fallback_name: str | None = None,
    ) -> None:
        """Background half of every listener: enrich the actor, ask the core, deliver the answer.

        The core acts once per ``event_id``, retries lost races and takes the person's events in turn.
        """

        async def work(who: Actor) -> list[Response]:
            event = make_event(who)
            if inspect.isawaitable(event):
                event = await event
            return [await self.core.handle(event)]

        await self._run(origin, work, fallback_name=fallback_name)

    async def run_files(self, origin: Origin, event: dict[str, Any], event_id: str | None = None) -> None:
        """Background half of files sent to the bot's DM: download each, let the core import it, answer each.

        Each file is its own all-or-nothing import, named ``<event id>:<file id>`` so a redelivered message
        imports nothing twice. A file that can't be downloaded gets a one-line answer instead and doesn't
        stop the others.
        """
        files = translate.shared_files(event)

        def file_id(number: int, file: dict[str, Any]) -> str | None:
            return f"{event_id}:{file.get('id') or number}" if event_id else None

        async def work(who: Actor) -> list[Response]:
            todo = []
            for number, file in enumerate(files[:MAX_FILES_PER_MESSAGE]):
                probe = translate.file_event(event, who, name_of(file), b"", file_id(number, file))
                if not await self.core.handled_before(probe):  # a redelivery downloads nothing again
                    todo.append((number, file))
            if not todo:
                return []
            answers: list[Response] = []
            for number, file in todo:
                try:
                    fetched = await self.files.fetch(origin.workspace_id, file)
                except FileProblem as problem:
                    answers.append(Reply(message=text_message(str(problem))))
                    continue
                neutral = translate.file_event(event, who, fetched.filename, fetched.content, file_id(number, file))
                answers.append(await self.core.handle(neutral))
            if len(files) > MAX_FILES_PER_MESSAGE:
                skipped = ", ".join(name_of(f) for f in files[MAX_FILES_PER_MESSAGE:])
                answers.append(
                    Reply(
                        message=text_message(
                            f"I read only the first {MAX_FILES_PER_MESSAGE} files of a message; send these again: {skipped}"
                        )
                    )
                )
            return answers

        await self._run(origin, work)

    async def _run(
        self,
        origin: Origin,
        work: Callable[[Actor], Awaitable[list[Response]]],
        *,
        fallback_name: str | None = None,
    ) -> None:
        who = await self.actor(origin.workspace_id, origin.user_id, fallback_name)
        for response in await work(who):
            await deliver(self.port, origin, response)

    async def names(self, workspace_id: str, text: str) -> dict[str, str]:
        """Display names of the people ``text`` mentions as bare ``<@U123>`` (cached users.info look-ups)."""
        ids = translate.mentioned_ids(text)
        profiles = await asyncio.gather(*(self.port.profile(workspace_id, user_id) for user_id in ids))
        return {p.user_id: p.name for p in profiles if p is not None and p.name}

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self.background.spawn(coro, name)

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Let answers already being worked on go out (briefly), then stop."""
        try:
            async with asyncio.timeout(grace_seconds):
                await self.background.drain()
        except TimeoutError:
            log.warning("slack: %d answers still running at shutdown; stopping them", self.background.pending)
        await self.background.cancel_all()
        await self.clients.close()


def build_bolt_app(adapter: SlackAdapter) -> AsyncApp:
    config = adapter.config
    socket = config.socket_mode and not config.signing_secret
    common: dict[str, Any] = {
        "name": "tandem",
        "signing_secret": config.signing_secret or "socket-mode",
        "request_verification_enabled": not socket,
        "process_before_response": True,  # listeners only ack and spawn, so this is fast and avoids polling
    }
    if config.oauth_enabled:
        assert adapter.installations is not None
        app = AsyncApp(
            **common,
            client=adapter.clients.for_token(None),
            installation_store=adapter.installations,
            oauth_settings=AsyncOAuthSettings(
                client_id=config.client_id,
                client_secret=config.client_secret,
                scopes=list(config.scopes or BOT_SCOPES),
                installation_store=adapter.installations,
                state_store=DatabaseStateStore(adapter.core.db),
                callback_options=AsyncCallbackOptions(success=_on_installed(adapter), failure=_on_install_failed),
            ),
        )
    else:
        app = AsyncApp(**common, client=adapter.clients.for_token(config.bot_token))
    app.use(room_for_work(adapter.background, adapter.shedding))  # first: a full backlog costs nothing more
    app.use(_known_workspace(config))
    register_listeners(app, adapter)
    return app


def _known_workspace(config: SlackConfig) -> Callable[..., Awaitable[BoltResponse]]:
    """With one bot token, payloads from any other workspace are answered 200 and dropped."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        ctx = req.context
        auth = ctx.authorize_result
        if config.oauth_enabled or auth is None or not auth.team_id:
            return await next()
        same_team = ctx.team_id in (None, auth.team_id)
        same_org = bool(ctx.enterprise_id and ctx.enterprise_id == auth.enterprise_id)
        if not same_team and not same_org:
            log.warning(
                "slack: dropped a payload from workspace %s (this bot is installed in %s)", ctx.team_id, auth.team_id
            )
            return BoltResponse(status=200, body="")
        return await next()

    return middleware


def _on_installed(adapter: SlackAdapter) -> Callable[[AsyncSuccessArgs], Awaitable[BoltResponse]]:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        inst = args.installation
        workspace = inst.team_id or inst.enterprise_id or ""
        who = translate.actor(workspace, inst.user_id)
        event = AppInstalledEvent(actor=who, workspace_name=inst.team_name or inst.enterprise_name)
        adapter.spawn(adapter.core.handle(event), "app installed")
        return await args.default.success(args)

    return success


async def _on_install_failed(args: AsyncFailureArgs) -> BoltResponse:
    log.warning("slack: installation failed: %s", args.reason)
    return await args.default.failure(args)


def register_listeners(app: AsyncApp, adapter: SlackAdapter) -> None:

    @app.command(ANY_COMMAND)
    async def on_command(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        origin = Origin(
            workspace_id=translate.workspace_of(body) or "",
            user_id=body.get("user_id", ""),
            channel_id=body.get("channel_id"),
            trigger_id=body.get("trigger_id"),
            response_url=body.get("response_url"),
        )
        adapter.spawn(
            adapter.run(origin, lambda who: _command(adapter, body, who), fallback_name=body.get("user_name")),
            "slash command",
        )

    @app.action(ANY)
    async def on_action(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        actions = body.get("actions") or []
        user = body.get("user") or {}
        if not actions or not user.get("id"):
            log.info("slack: block_actions without actions or user; ignored")
            return
        action = actions[0]
        action_ts = action.get("action_ts") or body.get("action_ts") or ""
        # The core records this id in processed_event inside the click's own transaction, so a double
        # click (or Slack resending the payload) acts once, atomically with the effect.
        click_id = f"{user['id']}:{action.get('action_id', '')}:{action_ts}" if action_ts else None
        container = body.get("container") or {}
        origin = Origin(
            workspace_id=translate.workspace_of(body) or "",
            user_id=user["id"],
            channel_id=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            trigger_id=body.get("trigger_id"),
            response_url=body.get("response_url"),
        )
        adapter.spawn(
            adapter.run(
                origin, lambda who: translate.action_event(body, action, who, click_id), fallback_name=user.get("name")
            ),
            "click",
        )

    @app.view_submission(ANY)
    async def on_view(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        user = body.get("user") or {}
        workspace = translate.workspace_of(body) or ""
        origin = Origin(workspace_id=workspace, user_id=user.get("id", ""), trigger_id=body.get("trigger_id"))

        async def submit() -> Response:
            who = await adapter.actor(workspace, user.get("id", ""), user.get("name"))
            return await adapter.core.handle(translate.form_event(body, who))

        task = asyncio.ensure_future(submit())
        try:
            response = await asyncio.wait_for(asyncio.shield(task), VIEW_ANSWER_BUDGET)
        except TimeoutError:
            await ack()  # the core is slow: close the modal, answer by DM when it is done
            adapter.spawn(_finish_late(adapter, origin, task), "late form answer")
            return
        except Exception:
            log.exception("slack: form %s failed in the core", (body.get("view") or {}).get("callback_id"))
            await ack(response_action="errors", errors=_first_block_error(body, "Something went wrong; try again."))
            return
        if isinstance(response, FormErrors):
            await ack(**form_errors(response))
        elif isinstance(response, OpenForm):
            await ack(response_action="update", view=render_form(response.form))
        else:
            await ack()
            if isinstance(response, Reply):
                adapter.spawn(deliver(adapter.port, origin, response), "form answer")

    @app.view_closed(ANY)
    async def on_view_closed(ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    @app.options(ANY)
    async def on_options(ack: Callable[..., Awaitable[None]]) -> None:
        await ack(options=[])

    @app.shortcut(ANY)
    async def on_shortcut(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        log.info("slack: shortcut %s is not used by Tandem; ignored", body.get("callback_id"))

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        workspace = translate.workspace_of(body) or ""
        origin = Origin(
            workspace_id=workspace,
            user_id=event.get("user", ""),
            channel_id=event.get("channel"),
            thread_ts=event.get("thread_ts") or event.get("ts"),
            in_thread=True,
        )
        adapter.spawn(
            adapter.run(origin, lambda who: translate.mention_event(event, who, translate.event_id_of(body))), "mention"
        )

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        is_file = translate.is_file_share_dm(event)
        if not is_file and not translate.is_plain_dm(event):
            return
        workspace = translate.workspace_of(body) or ""
        origin = Origin(
            workspace_id=workspace,
            user_id=event["user"],
            channel_id=event.get("channel"),
            thread_ts=event.get("thread_ts"),
            in_thread=True,
        )
        if is_file:  # e.g. a participants CSV with the text "import coffee"
            adapter.spawn(adapter.run_files(origin, event, translate.event_id_of(body)), "file in a direct message")
            return
        adapter.spawn(
            adapter.run(origin, lambda who: _direct_message(adapter, body, event, who)),
            "direct message",
        )

    @app.event("member_joined_channel")
    async def on_joined(body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        if event.get("user") and event.get("user") == context.get("bot_user_id"):
            log.info("slack: Tandem itself joined %s", event.get("channel"))
            return
        origin = Origin(workspace_id=translate.workspace_of(body) or "", user_id=event.get("user", ""))
        adapter.spawn(
            adapter.run(origin, lambda who: translate.member_joined(event, who, translate.event_id_of(body))),
            "member joined",
        )

    @app.event("member_left_channel")
    async def on_left(body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        if event.get("user") and event.get("user") == context.get("bot_user_id"):
            return
        origin = Origin(workspace_id=translate.workspace_of(body) or "", user_id=event.get("user", ""))
        adapter.spawn(
            adapter.run(origin, lambda who: translate.member_left(event, who, translate.event_id_of(body))),
            "member left",
        )

    @app.event("app_home_opened")
    async def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        adapter.spawn(_publish_home(adapter, translate.workspace_of(body) or "", event["user"]), "home tab")

    @app.event("app_uninstalled")
    @app.event("tokens_revoked")
    async def on_uninstalled(body: dict[str, Any]) -> None:
        """Forget the workspace's token so nothing keeps writing with it (OAuth installs only), and tell the core
        (which forgets everyone there when TANDEM_FORGET_ON_UNINSTALL is on)."""
        if (body.get("event") or {}).get("type") == "app_uninstalled" and body.get("team_id"):
            adapter.spawn(adapter.core.uninstalled("slack", body["team_id"]), "uninstall: privacy")
        if adapter.installations is None:
            log.warning("slack: the app was uninstalled or its tokens revoked; SLACK_BOT_TOKEN no longer works")
            return
        enterprise = body.get("enterprise_id")
        team = body.get("team_id")
        adapter.clients.forget_token(team or enterprise or "")
        adapter.spawn(
            adapter.installations.async_delete_installation(enterprise_id=enterprise, team_id=team), "uninstall"
        )

    @app.event(ANY)
    async def on_other_event(body: dict[str, Any]) -> None:
        log.debug("slack: event %s is not used by Tandem", (body.get("event") or {}).get("type"))


async def _command(adapter: SlackAdapter, body: dict[str, Any], who: Actor) -> Event:
    names = await adapter.names(who.workspace_id, body.get("text") or "")
    return translate.command_event(body, who, names)


async def _direct_message(adapter: SlackAdapter, body: dict[str, Any], event: dict[str, Any], who: Actor) -> Event:
    names = await adapter.names(who.workspace_id, event.get("text") or "")
    return translate.direct_message_event(event, who, translate.event_id_of(body), names)


def _first_block_error(body: dict[str, Any], message: str) -> dict[str, str]:
    blocks = (body.get("view") or {}).get("blocks") or []
    ids = [b.get("block_id") for b in blocks if b.get("type") == "input" and b.get("block_id")]
    return {ids[0]: message} if ids else {}


async def _publish_home(adapter: SlackAdapter, workspace: str, user_id: str) -> None:
    who = await adapter.actor(workspace, user_id)
    message = await adapter.core.home(who)
    await adapter.port.publish_home(workspace, user_id, home_view(message))


async def _finish_late(adapter: SlackAdapter, origin: Origin, task: asyncio.Future[Response]) -> None:
    response = await task
    if isinstance(response, Reply):
        await deliver(adapter.port, origin, response)
