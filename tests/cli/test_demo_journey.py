"""The simulated programs show a whole relationship, and keep the promises issue #13 made, measured on their data.

A 24-person, 12-week mentoring demo: agreements, goals quoted in prompts, recurring chats, goal reviews at
halfway and end, wrap-ups; nobody double-booked; every match alive 8 weeks or more has at least 3 confirmed
chats; nobody told "no match" twice. A 25-person peer demo in trios for 6 weeks: every group but the last
round's has ended, and no ended group heard anything after its end.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tandem.demo import DemoOptions, run_demo


def _rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchall()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text[:19])


async def test_twelve_weeks_of_mentoring_show_the_whole_relationship(tmp_path: Path) -> None:
    path = tmp_path / "mentoring.db"
    await run_demo(DemoOptions(participants=24, weeks=12, db_url=f"sqlite:///{path}"))

    steps = dict(_rows(path, "SELECT step, count(*) FROM delivery GROUP BY step"))
    for step in ("agreement", "goal_review", "followup", "wrapup", "prompt", "celebration"):
        assert steps.get(step, 0) > 0, f"no {step} messages: {steps}"
    assert _rows(path, "SELECT count(*) FROM agreement WHERE confirmed_at IS NOT NULL")[0][0] > 0
    assert _rows(path, "SELECT count(*) FROM goal WHERE status != 'not_started'")[0][0] > 0
    assert _rows(path, "SELECT count(*) FROM recap")[0][0] > 0
    quoted = _rows(path, "SELECT count(*) FROM delivery WHERE step = 'prompt' AND message LIKE '%You set%'")
    assert quoted[0][0] > 0, "prompts quote the pair's own goals"
    assert _rows(path, "SELECT count(*) FROM match WHERE status = 'ended'")[0][0] > 0, "tracks end with a wrap-up"

    booked: dict[int, list[tuple[str, str]]] = {}
    for user_id, start, end in _rows(
        path,
        "SELECT mm.user_id, m.start_at, m.end_at FROM meeting m JOIN match_member mm ON mm.match_id = m.match_id "
        "WHERE m.state = 'confirmed' ORDER BY mm.user_id, m.start_at",
    ):
        booked.setdefault(user_id, []).append((start, end))
    clashes = [(u, a, b) for u, chats in booked.items() for a, b in zip(chats, chats[1:], strict=False) if b[0] < a[1]]
    assert clashes == [], "nobody is booked twice at once"

    last = _rows(path, "SELECT max(created_at) FROM delivery")[0][0]
    long_lived = [
        held
        for created, ended, held in _rows(
            path,
            "SELECT m.created_at, m.ended_at, (SELECT count(*) FROM meeting x WHERE x.match_id = m.id "
            "AND x.held_at IS NOT NULL) FROM match m",
        )
        if _at(ended or last) - _at(created) >= timedelta(weeks=8)
    ]
    assert long_lived and min(long_lived) >= 3, long_lived

    told = _rows(path, "SELECT target, count(*) FROM delivery WHERE step = 'waitlist' GROUP BY target")
    assert all(count == 1 for _, count in told), told


async def test_six_weeks_of_peer_trios_end_every_group_but_the_last_rounds(tmp_path: Path) -> None:
    path = tmp_path / "peer.db"
    await run_demo(DemoOptions(participants=25, weeks=6, kind="peer", group_size=3, db_url=f"sqlite:///{path}"))
    by_round = _rows(
        path,
        "SELECT r.number, count(*), sum(m.status = 'ended'), coalesce(sum(m.end_reason = 'round_over'), 0) FROM match m "
        "JOIN round r ON r.id = m.round_id GROUP BY r.number ORDER BY r.number",
    )
    assert len(by_round) >= 2
    *earlier, latest = by_round
    assert all(total == ended for _, total, ended, _ in earlier), by_round
    assert latest[3] == 0, "the latest round's groups are still on (a 'we can't meet' answer may end one early)"
    late = _rows(
        path,
        "SELECT d.step FROM delivery d JOIN match m ON m.id = d.match_id "
        "WHERE m.ended_at IS NOT NULL AND d.created_at > m.ended_at",
    )
    assert late == [], "ended groups hear nothing after their end"
