"""Issue #14's promise, measured on a 24-person, 12-week demo in 8 time zones: nothing that could wait reaches
anyone outside 08:00-20:00 in their zone or on their weekend, and nobody gets more unprompted messages in a
week (their own week, Monday to Sunday) than the program's cap.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.delivery.urgency import DAY_DIGEST, Urgency, urgency
from tandem.demo import DemoOptions, run_demo

CAP = 4  # the default; the demo does not change it


def _readers(target: dict) -> list[str]:
    if target.get("kind") == "user":
        return [target["user_id"]]
    return list(target.get("user_ids", [])) if target.get("kind") == "group" else []


async def test_nothing_that_can_wait_comes_at_night_and_the_weekly_cap_holds(tmp_path: Path) -> None:
    path = tmp_path / "quiet.db"
    await run_demo(DemoOptions(participants=24, weeks=12, db_url=f"sqlite:///{path}"))
    with sqlite3.connect(path) as conn:
        zones = {u: z for u, z in conn.execute("SELECT platform_user_id, timezone FROM tandem_user")}
        parts: dict[int, list[str]] = {}
        for digest_id, step in conn.execute("SELECT digest_id, step FROM delivery WHERE digest_id IS NOT NULL"):
            parts.setdefault(digest_id, []).append(step)
        sent = conn.execute(
            "SELECT id, step, target, sent_at FROM delivery WHERE state = 'sent' AND digest_id IS NULL"
        ).fetchall()
        cap = conn.execute("SELECT weekly_cap FROM program").fetchone()[0]
    assert cap == CAP

    late, per_week = [], Counter()
    for delivery_id, step, target, sent_at in sent:
        steps = parts.get(delivery_id, []) if step == DAY_DIGEST else [step]
        if all(urgency(s) == Urgency.NOW for s in steps):
            continue
        at = datetime.fromisoformat(sent_at[:19]).replace(tzinfo=UTC)
        unprompted = any(urgency(s) == Urgency.UNPROMPTED for s in steps)
        for reader in _readers(json.loads(target)):
            local = at.astimezone(ZoneInfo(zones[reader]))
            if not 8 <= local.hour < 20 or local.weekday() >= 5:
                late.append((step, reader, local.isoformat()))
            if unprompted:
                per_week[(reader, local.isocalendar()[:2])] += 1

    assert late == [], late[:10]
    assert per_week and max(per_week.values()) <= CAP, per_week.most_common(3)
    assert len(parts) > 10, "several messages due on one day went out as one digest"
