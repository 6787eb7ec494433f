"""`tandem serve`: one aiohttp process hosting the Slack and Teams endpoints, the scheduler and the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import AdminPolicy, Tandem
from bot.delivery import heartbeat
from storage.database import Database, health
from tandem import quiet_http
from tandem.leader import SchedulerLeader
from tandem.settings import Settings

log = logging.getLogger("tandem.server")

SHUTDOWN_SECONDS = 10.0  # how long a stopping server lets the sender finish its pass
CORE_KEY = web.AppKey("core", Tandem)
DB_KEY = web.AppKey("db", Database)


async def healthz(request: web.Request) -> web.Response:
    state = await health(request.app[DB_KEY])
    ok = state["database"] == "ok"
    return web.json_response({"status": "ok" if ok else "degraded", **state}, status=200 if ok else 503)


def build_core(db: Database, settings: Settings) -> Tandem:
    # TANDEM_TEAMS_ADMINS holds AAD object ids, which only the Teams adapter sees: it marks those people
    # as admins on their events itself. Slack admin ids are platform user ids, which the core compares.
    admins = AdminPolicy(extra_admins={"slack": Settings.id_list(settings.slack_admins)})
    grace = timedelta(hours=settings.step_grace_hours) if settings.step_grace_hours is not None else None
    return Tandem(db, admins=admins, default_timezone=settings.default_timezone, step_grace=grace)


def build_app(core: Tandem, settings: Settings) -> web.Application:
    """The web application: health check plus whichever platforms are configured."""
    quiet_http.install()
    app = web.Application()
    app[CORE_KEY] = core
    app[DB_KEY] = core.db
    app.router.add_get("/healthz", healthz)
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


async def tick_safely(core: Tandem, leader: SchedulerLeader | None = None) -> None:
    """One scheduler tick, only in the process that holds the scheduler lock (every process sends)."""
    if leader is not None and not leader.is_leader:
        return
    try:
        await core.tick()
    except Exception:
        log.exception("scheduler tick failed; the next one will pick up where this one stopped")


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
    scheduler = None
    leader: SchedulerLeader | None = None
    leadership: asyncio.Task | None = None
    if settings.scheduler:
        leader = SchedulerLeader(core.db, retry_seconds=settings.leader_retry_seconds)
        await leader.refresh()  # before the first tick, so a follower never ticks at start-up
        follower = leader

        async def take_over() -> None:  # a process that takes over ticks at once, not up to a minute later
            await tick_safely(core, follower)

        leader.on_acquire = take_over
        leadership = asyncio.create_task(leader.run(stop))
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            tick_safely,
            "interval",
            seconds=60,
            args=[core, leader],
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=core.clock.now(),
        )
        scheduler.start()
    sender = asyncio.create_task(sender_loop(core, stop))
    beating = asyncio.Event()  # set after the sender stopped: a server leaves only once its claims are back
    heart = asyncio.create_task(heartbeat.run(core, beating))
    log.info("Tandem is listening on http://%s:%s (database: %s)", settings.host, settings.port, core.db.describe())
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if leadership is not None:
            await leadership  # stop is set: it releases the lock so another process takes over at once
        stop.set()
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
