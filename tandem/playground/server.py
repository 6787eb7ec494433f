"""The playground's web server: one page, and a POST per step that redirects back to it (POST-redirect-GET).

It listens on loopback unless told otherwise (the CLI refuses another address without --allow-remote): the
page acts as anyone in the simulated program and carries no login. It never talks to Slack or Teams.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from multidict import MultiDictProxy

from bot.kernel.clock import SimulatedClock
from storage.database import check_connection, open_database, upgrade
from tandem.people import Person
from tandem.playground.page import render_page
from tandem.playground.port import PlaygroundPort
from tandem.playground.state import NotFound, Playground
from tandem.session import Session, SessionOptions, Values, names_and_zones, open_session

PLAYGROUND = web.AppKey("playground", Playground)
Posted = MultiDictProxy[str | bytes | bytearray | web.FileField]  # a submitted form
Step = Callable[[Playground, Posted], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class PlaygroundOptions(SessionOptions):
    panes: int = 3  # people driven from the browser; the rest of ``people`` are simulated


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _page(request: web.Request) -> web.Response:
    playground = request.app[PLAYGROUND]
    async with playground.lock:
        body = render_page(playground)
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})


def _field_values(form: Posted, playground: Playground, pane: str) -> Values:
    opened = playground.forms.get(pane)
    if opened is None:
        raise NotFound("no form is open in this pane")
    values: Values = {}
    for f in opened.form.fields:
        got = [str(v).replace("\r\n", "\n") for v in form.getall(f"field.{f.field_id}", [])]  # textareas send CRLF
        if getattr(f, "multiple", False):
            values[f.field_id] = got
        else:
            values[f.field_id] = (got[0] if got else "") or (None if f.type != "text" else "")
    return values


async def _say(playground: Playground, form: Posted) -> None:
    await playground.say(str(form.get("pane", "")), str(form.get("text", "")))


async def _click(playground: Playground, form: Posted) -> None:
    fields = [str(form.get(k, "")) for k in ("pane", "message", "action_id", "value")]
    await playground.click(*fields)


async def _submit(playground: Playground, form: Posted) -> None:
    pane = str(form.get("pane", ""))
    await playground.submit(pane, _field_values(form, playground, pane))


async def _cancel(playground: Playground, form: Posted) -> None:
    playground.cancel(str(form.get("pane", "")))


async def _wait(playground: Playground, form: Posted) -> None:
    await playground.wait(str(form.get("span", "")))


def _step(step: Step) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A POST: check the page's token, take the step as the pane's person, then back to the page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        playground = request.app[PLAYGROUND]
        form = await request.post()
        if form.get("token") != playground.token:
            raise web.HTTPForbidden(text="This form is not from this playground page; reload it.")
        async with playground.lock:
            try:
                await step(playground, form)
            except NotFound as exc:
                raise web.HTTPBadRequest(text=f"{exc}; reload the page.") from None
        pane = str(form.get("pane", ""))
        raise web.HTTPSeeOther(f"/#pane-{pane}" if pane else "/")

    return handler


def _host_name(header: str) -> str:
    """The name in a Host header, without its port ("[::1]:8765" → "::1")."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@web.middleware
async def _loopback_names_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On loopback, only loopback names: a page elsewhere that points its own name at 127.0.0.1 (DNS
    rebinding) could otherwise read this page, token and all."""
    if not is_loopback(_host_name(request.headers.get("Host", ""))):
        raise web.HTTPForbidden(text="The playground answers only to 127.0.0.1 or localhost.")
    return await handler(request)


def build_app(playground: Playground, loopback: bool = True) -> web.Application:
    app = web.Application(middlewares=[_loopback_names_only] if loopback else [])
    app[PLAYGROUND] = playground
    app.router.add_get("/", _page)
    for path, step in (
        ("/say", _say),
        ("/click", _click),
        ("/submit", _submit),
        ("/cancel", _cancel),
        ("/wait", _wait),
    ):
        app.router.add_post(path, _step(step))
    return app


async def open_playground(db, options: PlaygroundOptions) -> Playground:  # noqa: ANN001
    """The session engine with the first ``panes`` people seated in the browser."""
    seated: list[Person] = []

    def make_port(clock: SimulatedClock, people: list[Person]) -> PlaygroundPort:
        names, zones = names_and_zones(people)
        return PlaygroundPort(clock=clock, names=names, zones=zones)

    def seat(session: Session) -> None:
        seated.extend(session.people[: options.panes])
        session.seat(*seated)

    session = await open_session(db, options, make_port, seat)
    return Playground(session, seated)


@contextlib.asynccontextmanager
async def running_playground(options: PlaygroundOptions, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """The playground served on ``host``:``port`` (0: any free port) for as long as the block runs; yields
    its address. The database is a throwaway SQLite file unless the options name one."""
    with tempfile.TemporaryDirectory(prefix="tandem-playground-") as tmp:
        db = open_database(options.db_url or f"sqlite:///{Path(tmp) / 'playground.db'}")
        try:
            await check_connection(db)
            await upgrade(db)
            playground = await open_playground(db, options)
            runner = web.AppRunner(build_app(playground, is_loopback(host)), access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, host, port)
                await site.start()
                bound = runner.addresses[0]
                shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
                yield f"http://{shown}:{bound[1]}/"
            finally:
                await runner.cleanup()
        finally:
            await db.dispose()


async def serve_playground(options: PlaygroundOptions, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Serve until Ctrl-C or SIGTERM; either way the throwaway database goes with it."""
    logging.getLogger().setLevel(logging.ERROR)
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows: Ctrl-C still ends it
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with running_playground(options, host, port) as url:
        ready(url)
        await stop.wait()
