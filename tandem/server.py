"""`tandem serve`: one aiohttp process hosting the Slack and Teams endpoints, the scheduler and the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from aiohttp import web

from bot.core import AdminPolicy, Tandem
from bot.delivery import heartbeat
from storage.database import Database, head_revision, health
from tandem import quiet_http
from tandem.leader import SchedulerLeader
from tandem.metrics import metrics
from tandem.pages import privacy, terms
from tandem.settings import Settings
from tandem.ticker import Ticker, tick_safely

log = logging.getLogger("tandem.server")

SHUTDOWN_SECONDS = 10.0  # how long a stopping server lets the sender finish its pass and the scheduler its tick
CORE_KEY = web.AppKey("core", Tandem)
DB_KEY = web.AppKey("db", Database)
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)

__all__ = ["build_app", "build_core", "serve", "tick_safely"]


async def healthz(request: web.Request) -> web.Response:
    state = await health(request.app[DB_KEY])
    ok = state["database"] == "ok"
    return web.json_response({"status": "ok" if ok else "degraded", **state}, status=200 if ok else 503)


async def livez(_: web.Request) -> web.Response:
    """The process answers: restart it only when this fails (a database outage is not a reason)."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """Send traffic here? Database reachable with the current schema, Socket Mode connected, not stopping."""
    problems: list[str] = []
    if request.app[STOPPING_KEY].is_set():
        problems.append("shutting down")
    state = await health(request.app[DB_KEY])
    if state["database"] != "ok":
        problems.append(f"database unreachable: {state.get('error', '')}")
    elif state["revision"] != head_revision():
        problems.append(f"database at revision {state['revision']}, needs {head_revision()}: run `tandem db upgrade`")
    from adapters.slack.http import SLACK_SOCKET

    socket = request.app.get(SLACK_SOCKET)
    if socket is not None and not await socket.is_connected():
        problems.append("Slack Socket Mode is not connected")
    body = {"status": "ready" if not problems else "not ready", "problems": problems}
    return web.json_response(body, status=200 if not problems else 503)


def build_core(db: Database, settings: Settings) -> Tandem:
    # TANDEM_TEAMS_ADMINS holds AAD object ids, which only the Teams adapter sees: it marks those people
    # as admins on their events itself. Slack admin ids are platform user ids, which the core compares.
    admins = AdminPolicy(extra_admins={"slack": Settings.id_list(settings.slack_admins)})
    grace = timedelta(hours=settings.step_grace_hours) if settings.step_grace_hours is not None else None
    return Tandem(
        db,
        admins=admins,
        default_timezone=settings.default_timezone,
        step_grace=grace,
        privacy=settings.privacy_policy(),
    )


def build_app(core: Tandem, settings: Settings) -> web.Application:
    """The web application: health check plus whichever platforms are configured."""
    quiet_http.install()
    app = web.Application()
    app[CORE_KEY] = core
    app[DB_KEY] = core.db
    app[STOPPING_KEY] = asyncio.Event()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/privacy", privacy)  # the Teams manifest's privacyUrl and termsOfUseUrl
    app.router.add_get("/terms", terms)
    from tandem.platforms import mount_platforms

    mount_platforms(app, core, settings)
    return app


async def sender_loop(core: Tandem, stop: asyncio.Event, idle_seconds: float = 5.0) -> None:
    """Send deliveries as soon as they're written (woken by the core) and at least every few seconds."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(core.wakeup.wait(), timeout=idle_seconds)
        core.wakeup.clear()
        try:
            await core.dispatch()
        except Exception:  # keep sending after a bad moment (e.g. the database restarting)
            log.exception("sender pass failed; trying again shortly")


async def channel_sync_loop(core: Tandem, stop: asyncio.Event, interval: float = 30.0) -> None:
    """Reach the people already in programs' channels, in a loop of its own: listing a big Slack channel is
    paced at Slack's tiers and can take minutes, which must not hold up the scheduler's tick. Every server
    runs it; a lease on each sync keeps two servers from working on the same one."""
    while True:
        try:
            await core.sync_channels()
        except Exception as exc:  # noqa: BLE001 - the next pass carries on from the last saved batch
            log.warning("channel sync pass failed (%s); the next pass carries on", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return


async def serve(
    core: Tandem, settings: Settings, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop``), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app = build_app(core, settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    ticker: Ticker | None = None
    ticking: asyncio.Task | None = None
    leader: SchedulerLeader | None = None
    leadership: asyncio.Task | None = None
    if settings.scheduler:
        leader = SchedulerLeader(core.db, retry_seconds=settings.leader_retry_seconds)
        await leader.refresh()  # before the first tick, so a follower never ticks at start-up
        ticker = Ticker(core, leader)
        the_ticker = ticker

        async def take_over() -> None:  # a process that takes over ticks at once, not up to a minute later
            the_ticker.poke()

        leader.on_acquire = take_over
        leadership = asyncio.create_task(leader.run(stop))
        ticking = asyncio.create_task(ticker.run(stop))
    sender = asyncio.create_task(sender_loop(core, stop))
    syncing = asyncio.create_task(channel_sync_loop(core, stop))
    beating = asyncio.Event()  # set after the sender stopped: a server leaves only once its claims are back
    heart = asyncio.create_task(heartbeat.run(core, beating))
    log.info("Tandem is listening on http://%s:%s (database: %s)", settings.host, settings.port, core.db.describe())
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        app[STOPPING_KEY].set()  # /readyz says so while the last work finishes
        stop.set()
        if ticker is not None and ticking is not None:
            await ticker.stop(ticking, SHUTDOWN_SECONDS)  # a running tick finishes; no new one starts
        if leadership is not None:
            await leadership  # stop is set: it releases the lock so another process takes over at once
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):  # a batch commits whole or not at all
            await asyncio.wait_for(asyncio.shield(syncing), timeout=SHUTDOWN_SECONDS)
        syncing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await syncing
        core.wakeup.set()
        # let the current send pass finish (it stops after it); cancelling is the fallback, and even then the
        # sender records what it sent and hands back the rest of its claim (docs/delivery.md)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(sender), timeout=SHUTDOWN_SECONDS)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        beating.set()
        await heart
        await runner.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
