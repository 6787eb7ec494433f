"""Slack adapter benchmark (not a test): ack latency over HTTP, and delivery of a 1,000-pair round.

    .venv/bin/python benchmarks/slack_http.py [--rate 100] [--seconds 10] [--pairs 1000] [--speedup 20]

Part 1 runs Tandem (bolt app, core, SQLite) and a fake Slack Web API in a child process on 127.0.0.1 and
fires signed slash commands and button clicks at it from this process at a fixed rate (open loop), then
as fast as 32 concurrent senders allow. It reports the ack latency Slack would see: the time until the
HTTP answer, which must come within 3 s (target here: p99 ≤ 50 ms at 100 req/s).

Part 2 writes 1,000 group intros to the core's outbox and lets ``Tandem.dispatch()`` deliver them through
``SlackPort`` (paced at its production defaults) to a fake Web API that enforces Slack's documented limits
(conversations.open 50/min, chat.postMessage 1/s per channel and 300/min per workspace), time-compressed by
``--speedup``, and answers 5 % of calls with 429 + Retry-After: 1 s. Then it sends a second message to every
pair (group DM remembered: posts only). Each phase is measured against the least time any client needs for
the calls that succeeded under the binding limit. Target: ≥ 90 % of that rate, nothing lost, nothing sent
twice.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from adapters.slack.config import SlackConfig  # noqa: E402
from adapters.slack.http import SLACK_ADAPTER, mount  # noqa: E402
from adapters.slack.pacing import RateLimits  # noqa: E402
from bot.core import Tandem  # noqa: E402
from bot.delivery.outbox import Outgoing, enqueue, to_group  # noqa: E402
from bot.kernel.messages import text_message  # noqa: E402
from storage.database import open_database, upgrade  # noqa: E402
from storage.tables import Delivery, Workspace  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402
from tests.slack.slack_support import SECRET, sign  # noqa: E402

TEAM = "T111"


# --- part 1: the server, in its own process ---------------------------------------------------------------


def _fake(ports: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    """The fake Slack Web API in its own process, so it doesn't share Tandem's event loop."""

    async def run() -> None:
        fake = await FakeSlack().start()
        ports.put(fake.base)
        await asyncio.to_thread(stop.wait)
        ports.put({"hooks": len(fake.hooks), "api_calls": len(fake.calls)})
        await fake.close()

    asyncio.run(run())


def _serve(folder: str, fake_base: str, ports: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    profile = os.environ.get("BENCH_PROFILE")  # a file for the server process's cProfile statistics
    if not profile:
        asyncio.run(_serve_async(folder, fake_base, ports, stop))
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(_serve_async(folder, fake_base, ports, stop))
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


async def _serve_async(folder: str, fake_base: str, ports: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    import logging

    logging.basicConfig(level=logging.WARNING)
    url = os.environ.get("BENCH_DB")  # a PostgreSQL URL: the server uses a schema of its own there
    schema = f"bench_{os.getpid()}" if url else None
    if url:
        from sqlalchemy import text

        admin = open_database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    db = open_database(url or f"sqlite:///{folder}/bench.db", schema=schema)
    await upgrade(db)
    core = Tandem(db, pacing=False)
    app = web.Application()
    concurrency = int(os.environ.get("BENCH_BACKGROUND", "2"))
    mount(
        app,
        core,
        SlackConfig(
            bot_token="xoxb-bench",
            signing_secret=SECRET,
            api_url=fake_base + "/api/",
            background_concurrency=concurrency,
            backlog_limit=int(os.environ.get("BENCH_BACKLOG", "1000")),
        ),
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    ports.put(port)
    await asyncio.to_thread(stop.wait)
    adapter = app[SLACK_ADAPTER]
    started = time.perf_counter()
    await adapter.background.drain()
    ports.put(
        {
            "backlog_seconds_at_stop": round(time.perf_counter() - started, 2),
            "backlog_max": adapter.background.max_pending,
            "backlog_limit": adapter.background.limit + adapter.background.headroom,
            "shed": dict(adapter.shedding.total),
        }
    )
    await runner.cleanup()
    await db.dispose()
    if url:
        admin = open_database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def _command(i: int, hook: str) -> tuple[bytes, dict[str, str]]:
    fields = {
        "token": "x",
        "team_id": TEAM,
        "team_domain": "bench",
        "channel_id": "C111",
        "channel_name": "bench",
        "user_id": f"U{i % 50:04d}",
        "user_name": f"user{i % 50}",
        "command": "/tandem",
        "text": ("help", "status", "resume")[i % 3],
        "response_url": hook,
        "trigger_id": f"{i}.1.x",
    }
    body = urlencode(fields).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}


def _click(i: int, hook: str) -> tuple[bytes, dict[str, str]]:
    payload = {
        "type": "block_actions",
        "user": {"id": f"U{i % 50:04d}", "name": "u", "team_id": TEAM},
        "api_app_id": "A111",
        "token": "x",
        "trigger_id": f"{i}.2.x",
        "team": {"id": TEAM, "domain": "bench"},
        "channel": {"id": "D111", "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "D111", "is_ephemeral": False},
        "response_url": hook,
        "actions": [
            {
                "action_id": "pause:resume",
                "block_id": "b",
                "value": "",
                "type": "button",
                "action_ts": f"{1700000000 + i}.{i:06d}",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}


async def _one(session: aiohttp.ClientSession, url: str, i: int, hook: str, out: list[float], errors: Counter) -> None:
    body, headers = (_command if i % 2 else _click)(i, hook)
    start = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            answer = await resp.read()
            if resp.status != 200:
                errors[resp.status] += 1
                return
            if b"busy right now" in answer:  # a slash command turned away by back-pressure
                errors["busy"] += 1
                return
    except aiohttp.ClientError as exc:
        errors[type(exc).__name__] += 1
        return
    out.append((time.perf_counter() - start) * 1000)


async def _hooks(session: aiohttp.ClientSession, fake_base: str) -> int:
    async with session.get(f"{fake_base}/stats") as resp:
        return int((await resp.json())["hooks"])


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def ack_latency(rate: float, seconds: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    ports, stop, fake_ports, fake_stop = ctx.Queue(), ctx.Event(), ctx.Queue(), ctx.Event()
    with tempfile.TemporaryDirectory() as folder:
        fake_proc = ctx.Process(target=_fake, args=(fake_ports, fake_stop), daemon=True)
        fake_proc.start()
        fake_base = fake_ports.get(timeout=60)
        proc = ctx.Process(target=_serve, args=(folder, fake_base, ports, stop), daemon=True)
        proc.start()
        port = ports.get(timeout=60)
        url = f"http://127.0.0.1:{port}/slack/events"
        hook = f"{fake_base}/hooks/bench"
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as session:
            warm: list[float] = []
            await _one(session, url, 0, hook, warm, Counter())
            await asyncio.gather(*(_one(session, url, i, hook, warm, Counter()) for i in range(100)))
            # open loop at a fixed rate
            latencies: list[float] = []
            errors: Counter = Counter()
            total = int(rate * seconds)
            t0 = time.perf_counter()
            tasks = []
            for i in range(total):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(_one(session, url, 1000 + i, hook, latencies, errors)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - t0
            # every request gets an answer through its response_url: when has the last one arrived?
            expected = 100 + len(latencies)  # the warm-up repeats click 0 once: a double click, answered once
            answers_lag = None
            while time.perf_counter() - t0 < elapsed + 120:
                if await _hooks(session, fake_base) >= expected:
                    answers_lag = round(time.perf_counter() - t0 - elapsed, 2)
                    break
                await asyncio.sleep(0.05)
            # closed loop: how many acks per second the server can give, and how many events it works off
            answered_before = await _hooks(session, fake_base)
            done: list[float] = []
            max_errors: Counter = Counter()
            counter = iter(range(100_000, 10_000_000))
            deadline = time.perf_counter() + min(seconds, 5)

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    await _one(session, url, next(counter), hook, done, max_errors)

            t1 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(32)))
            max_elapsed = time.perf_counter() - t1
            # every accepted request is answered through its response_url: the events per second one process
            # keeps up with is accepted requests over the time until the last of their answers arrived
            worked_off = None
            while time.perf_counter() - t1 < max_elapsed + 300:
                if await _hooks(session, fake_base) - answered_before >= len(done):
                    worked_off = time.perf_counter() - t1
                    break
                await asyncio.sleep(0.05)
        stop.set()
        server_stats = ports.get(timeout=300)
        proc.join(timeout=30)
        fake_stop.set()
        fake_stats = fake_ports.get(timeout=30)
        fake_proc.join(timeout=30)
    return {
        "offered_rate": rate,
        "requests": total,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_pct(latencies, 50), 2),
        "p99_ms": round(_pct(latencies, 99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "errors": dict(errors),
        "last_answer_after_last_request_s": answers_lag,
        "max_throughput_rps": round(len(done) / max_elapsed, 1),
        "events_per_second": round(len(done) / worked_off, 1) if worked_off else 0.0,
        "events_accepted": len(done),
        "max_p99_ms": round(_pct(done, 99), 2),
        "max_errors": dict(max_errors),
        "answers_posted": fake_stats.get("hooks"),
        **server_stats,
    }


# --- part 2: delivering a round ----------------------------------------------------------------------

# Slack's documented per-workspace limits for what a round calls (calls per minute, and the calls the fake lets
# through back-to-back after a quiet spell; Slack allows "occasional bursts" without saying how many):
# https://api.slack.com/apis/rate-limits and each method's page. conversations.open is Tier 3 (50+/min);
# chat.postMessage allows about 1 message/s per channel (short bursts tolerated) and "several hundred" per
# minute per workspace, taken here at 300/min like the pacer.
SLACK_PER_MINUTE = {"conversations.open": 50.0, "chat.postMessage": 300.0}
SLACK_PER_CHANNEL_PER_SECOND = 1.0
FAKE_BURST = 5
FAKE_CHANNEL_BURST = 3


class SlackLimitsFake(FakeSlack):
    """The fake Web API enforcing Slack's documented limits per method and, for posts, per channel.

    Time runs ``speedup`` times faster than Slack's: every rate is multiplied and every Retry-After divided
    by it (sent as a decimal, like "0.05"), so a round that takes 20 minutes on Slack takes one here. A call
    over a limit gets 429 with the Retry-After until its next free slot, rounded up to whole Slack seconds;
    on top, ``random_429`` of the calls that were within the limits get 429 + Retry-After: 1 Slack second
    (and still use up their slot: the allowance counts calls, not successes).
    """

    def __init__(self, speedup: float, random_429: float) -> None:
        super().__init__(random_429=random_429)
        self.speedup = speedup
        self.limits = {m: r * speedup / 60.0 for m, r in SLACK_PER_MINUTE.items()}  # calls per (fast) second
        self.per_channel = SLACK_PER_CHANNEL_PER_SECOND * speedup
        self._tat: dict[str, float] = {}  # GCRA theoretical arrival time per limit key
        self.over_limit = 0
        self.random_answered = 0

    def _admit(self, key: str, rate: float, burst: int, now: float) -> float:
        """0 when the call fits (and takes its slot), else seconds until it would fit."""
        interval = 1.0 / rate
        slot = max(self._tat.get(key, 0.0), now - (burst - 1) * interval)
        if slot > now:
            return slot - now
        self._tat[key] = slot + interval
        return 0.0

    async def _respond(self, method: str, args: dict[str, Any]) -> web.Response:
        if method in self.limits:
            now = time.monotonic()
            wait = self._admit(method, self.limits[method], FAKE_BURST, now)
            if not wait and method == "chat.postMessage":
                wait = self._admit("#" + str(args.get("channel")), self.per_channel, FAKE_CHANNEL_BURST, now)
            if wait:
                self.over_limit += 1
                return self._too_many(math.ceil(wait * self.speedup))
            if self._rng.random() < self.random_429:
                self.random_answered += 1
                return self._too_many(1)
        return web.json_response(self._answer(method, args))

    def _too_many(self, slack_seconds: int) -> web.Response:
        self.answered_429 += 1
        return web.Response(
            status=429,
            text=self.body_429,
            content_type="application/json",
            headers={"retry-after": f"{max(1, slack_seconds) / self.speedup:.4f}"},
        )

    def bound_seconds(self, calls: list[Any]) -> dict[str, float]:
        """Per limit: the least time any client needs for these calls, less the burst it may start with."""
        need: Counter[str] = Counter()
        for call in calls:
            if call.method in self.limits:
                need[call.method] += 1
                if call.method == "chat.postMessage":
                    need["#" + str(call.args.get("channel"))] += 1
        out = {}
        for key, count in need.items():
            rate, burst = (
                (self.per_channel, FAKE_CHANNEL_BURST) if key.startswith("#") else (self.limits[key], FAKE_BURST)
            )
            out[key] = max(0, count - (burst - 1)) / rate
        return out


async def _deliver_all(core: Tandem, db: Any) -> float:
    """Dispatch until nothing is pending (like the sender loop, woken when the next retry is due)."""
    from sqlmodel import func, select

    t0 = time.perf_counter()
    while True:
        await core.dispatch()
        async with db.session() as s:
            pending = (
                await s.exec(
                    select(func.count()).select_from(Delivery).where(Delivery.state.in_(("pending", "sending")))
                )
            ).one()  # type: ignore[attr-defined]
            nxt = (await s.exec(select(func.min(Delivery.next_attempt_at)).where(Delivery.state == "pending"))).one()
        if not pending:
            return time.perf_counter() - t0
        wait = max(0.01, (nxt.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()) if nxt else 0.05
        await asyncio.sleep(min(wait, 1.0))


def _phase(
    fake: SlackLimitsFake,
    calls: list[Any],
    rows: list[Any],
    pairs: int,
    elapsed: float,
    speedup: float,
    over_limit: int,
) -> dict[str, Any]:
    ok = [c for c in calls if c.ok]
    bounds = fake.bound_seconds(ok)
    binding = max(bounds, key=lambda k: bounds[k])
    all_bounds = fake.bound_seconds(calls)
    posts = Counter(c.args.get("channel") for c in ok if c.method == "chat.postMessage")
    states = Counter(r.state for r in rows)
    return {
        "pairs": pairs,
        "seconds": round(elapsed, 2),
        "slack_minutes": round(elapsed * speedup / 60, 1),
        "binding": binding,
        "bound_seconds": round(bounds[binding], 2),
        "fraction_of_rate": round(bounds[binding] / elapsed, 3),
        "fraction_incl_429": round(max(all_bounds.values()) / elapsed, 3),
        "delivered": states.get("sent", 0),
        "failed": states.get("failed", 0),
        "lost": pairs - states.get("sent", 0) - states.get("failed", 0),
        "duplicates": sum(n - 1 for n in posts.values() if n > 1),
        "distinct_conversations": len(posts),
        "calls": dict(Counter(c.method for c in calls)),
        "answered_429": sum(1 for c in calls if c.status == 429),
        "over_limit_429": over_limit,
    }


def _limits(speedup: float, burst: int | None) -> RateLimits:
    """The pacer's production defaults, sped up like the fake (and with another burst, for experiments)."""
    limits = RateLimits().scaled(speedup)
    return limits if burst is None else dataclasses.replace(limits, burst=burst)


async def round_delivery(
    pairs: int, speedup: float, fraction_429: float, burst: int | None = None
) -> list[dict[str, Any]]:
    """Phase 1: a round's group intros (conversations.open + chat.postMessage each). Phase 2: the next message
    to every pair (the group DM is remembered: posts only), so both binding limits are measured."""
    from sqlmodel import select

    results = []
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{folder}/round.db")
        await upgrade(db)
        fake = SlackLimitsFake(speedup, fraction_429)
        await fake.start()
        core = Tandem(db, pacing=False)  # measure sending, not the quiet hours
        app = web.Application()
        mount(
            app,
            core,
            SlackConfig(
                bot_token="xoxb-bench", signing_secret=SECRET, api_url=fake.api_url, limits=_limits(speedup, burst)
            ),
        )
        async with db.transaction() as s:
            ws = Workspace(platform="slack", external_id=TEAM, name="Bench")
            s.add(ws)
            await s.flush()
            ws_id = ws.id or 0
        for phase, text in (("intro", "Meet each other! (pair {i})"), ("prompt", "This week's question (pair {i})")):
            async with db.transaction() as s:
                items = [
                    Outgoing(
                        key=f"bench:{phase}:{i}",
                        step=phase,
                        target=to_group([f"U{2 * i:05d}", f"U{2 * i + 1:05d}"]),
                        message=text_message(text.format(i=i)),
                    )
                    for i in range(pairs)
                ]
                await enqueue(s, ws_id, items, datetime.now(UTC))
            first, over_limit = len(fake.calls), fake.over_limit
            elapsed = await _deliver_all(core, db)
            async with db.session() as s:
                rows = (await s.exec(select(Delivery).where(Delivery.step == phase))).all()
            calls = [c for c in fake.calls[first:] if c.method != "auth.test"]
            results.append(
                {"phase": phase, **_phase(fake, calls, rows, pairs, elapsed, speedup, fake.over_limit - over_limit)}
            )
        await app[SLACK_ADAPTER].close()
        await fake.close()
        await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests per second (part 1)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument(
        "--speedup",
        type=float,
        default=20.0,
        help="part 2: Slack's limits this many times faster (1: real time, ~20 min per 1,000 pairs)",
    )
    parser.add_argument("--share-429", type=float, default=0.05)
    parser.add_argument("--burst", type=int, default=None, help="experiment: the pacer's burst (default: production)")
    parser.add_argument(
        "--no-pause",
        action="store_true",
        help="experiment: a 429 delays only the delivery that got it, not its method (as before)",
    )
    parser.add_argument("--skip-ack", action="store_true")
    parser.add_argument("--skip-round", action="store_true")
    args = parser.parse_args()
    if args.no_pause:
        from adapters.slack.pacing import Pacer

        Pacer.pause = lambda self, workspace_id, method, seconds, channel=None: None  # type: ignore[method-assign]
    rows: list[tuple[str, float, float, str, str]] = []
    if not args.skip_ack:
        ack = asyncio.run(ack_latency(args.rate, args.seconds))
        print("ack latency:", json.dumps(ack))
        verdict = "OK" if ack["p99_ms"] <= 50 and not ack["errors"] else "MISSED"
        print(
            f"  {ack['achieved_rate']} req/s, p50 {ack['p50_ms']} ms, p99 {ack['p99_ms']} ms "
            f"(target p99 ≤ 50 ms: {verdict}); max {ack['max_throughput_rps']} req/s acked, "
            f"{ack['events_per_second']} events/s worked off; backlog at most {ack['backlog_max']} "
            f"(bound {ack['backlog_limit']}), turned away {ack['shed'] or 'none'}"
        )
        rows.append(("events_per_second", ack["events_per_second"], 1000, "events/s", "higher"))
        rows.append(("event_backlog_max", ack["backlog_max"], ack["backlog_limit"], "requests", "lower"))
    if not args.skip_round:
        results = asyncio.run(round_delivery(args.pairs, args.speedup, args.share_429, args.burst))
        posts = next(r for r in results if r["phase"] == "prompt")  # the posts-only phase
        rows.append(("slack_posts_share", posts["fraction_of_rate"], 0.90, "of limit", "higher"))
        rows.append(("slack_lost", sum(r["lost"] for r in results), 0, "messages", "lower"))
        rows.append(("slack_duplicates", sum(r["duplicates"] for r in results), 0, "messages", "lower"))
        for result in results:
            print("round delivery:", json.dumps(result))
            ok = result["fraction_of_rate"] >= 0.9 and not result["lost"] and not result["duplicates"]
            print(
                f"  {result['phase']}: {result['pairs']} pairs in {result['seconds']} s "
                f"(= {result['slack_minutes']} min at Slack's rates), {100 * result['fraction_of_rate']:.0f} % of "
                f"the {result['binding']} limit ({100 * result['fraction_incl_429']:.0f} % counting 429s), "
                f"lost {result['lost']}, duplicates {result['duplicates']}, 429s {result['answered_429']} "
                f"({result['over_limit_429']} over a limit) "
                f"(target ≥ 90 %, 0, 0: {'OK' if ok else 'MISSED'})"
            )
    for key, measured, goal, unit, better in rows:  # the issue-18 table (benchmarks/table.py)
        print(f"ROW\t{key}\t{measured}\t{goal}\t{unit}\t{better}")


if __name__ == "__main__":
    main()
