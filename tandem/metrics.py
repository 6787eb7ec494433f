"""`/metrics` for Prometheus (prometheus-client's text format).

Message and round counts are read from the database at scrape time, so every server behind a load balancer
reports the same numbers and nothing in the core has to count. The process's own measurements (scheduler
tick duration, failed ticks, the adapters' 429 counters in adapters/metrics.py, the Socket Mode connection)
come from this process only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import case, func
from sqlmodel import col, select

from storage.database import Database
from storage.enums import DeliveryState
from storage.tables import Delivery, Round

MESSAGES = Gauge(
    "tandem_messages",
    "Outgoing messages by state: waiting (due or being sent), held (due later: a retry or a set time), "
    "sent, failed, cancelled.",
    ["state"],
)
ROUNDS = Gauge("tandem_rounds", "Matching rounds by status.", ["status"])
DATABASE_UP = Gauge("tandem_database_up", "1 when the last scrape could read the database.")
TICK_SECONDS = Histogram(
    "tandem_scheduler_tick_seconds",
    "How long one scheduler tick took.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
TICK_FAILURES = Counter("tandem_scheduler_tick_failures", "Scheduler ticks that ended with an error.")
SOCKET_MODE = Gauge("tandem_slack_socket_mode_connected", "1 while the Slack Socket Mode connection is up.")

MESSAGE_STATES = (
    "waiting",
    "held",
    *(s.value for s in DeliveryState if s not in (DeliveryState.PENDING, DeliveryState.SENDING)),
)


async def refresh_from_database(db: Database, now: datetime | None = None) -> None:
    """Set the message and round gauges from one grouped query each."""
    now = now or datetime.now(UTC)
    later = case((col(Delivery.next_attempt_at) > now, True), else_=False)
    async with db.session() as session:
        messages = (
            await session.exec(select(Delivery.state, later, func.count()).group_by(Delivery.state, later))
        ).all()
        rounds = (await session.exec(select(Round.status, func.count()).group_by(Round.status))).all()
    counts = dict.fromkeys(MESSAGE_STATES, 0)
    for state, due_later, count in messages:
        if state == DeliveryState.PENDING.value:
            name = "held" if due_later else "waiting"
        elif state == DeliveryState.SENDING.value:
            name = "waiting"
        else:
            name = state
        counts[name] = counts.get(name, 0) + count
    for name, count in counts.items():
        MESSAGES.labels(state=name).set(count)
    ROUNDS.clear()
    for status, count in rounds:
        ROUNDS.labels(status=status).set(count)


async def metrics(request: web.Request) -> web.Response:
    from adapters.slack.http import SLACK_SOCKET
    from tandem.server import DB_KEY

    try:
        await refresh_from_database(request.app[DB_KEY])
        DATABASE_UP.set(1)
    except Exception:  # the scrape still answers: the process metrics matter most when the database is down
        DATABASE_UP.set(0)
    socket = request.app.get(SLACK_SOCKET)
    if socket is not None:
        SOCKET_MODE.set(1 if await socket.is_connected() else 0)
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
