"""The dry run's report: CSV files and one HTML page, every figure read from the program's own export.

Matches, reasons and booked chats come from the export's matches.csv (the same file `tandem export`
writes), so the report and the export can never disagree.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from bot.admin.csv_format import LIST_SEPARATOR, csv_text
from bot.matching.overlap import shared_hours, working_mask
from tandem.people import Person
from tandem.simulate import SimulationRun

_ID = re.compile(r"<([^>]+)>")


@dataclass(frozen=True)
class MatchLine:
    round: str
    members: list[str]  # user ids
    names: str
    reasons: str
    meetings: int
    shared: float  # hours of working day everyone in it shares


@dataclass(frozen=True)
class Report:
    matches: list[MatchLine]
    left_out: list[tuple[Person, str]]  # never matched, and what the bot told them
    no_shared_hours: list[MatchLine]
    unbooked: list[MatchLine]  # no chat held or booked
    busiest: tuple[Person, int] | None  # most messages in one week


def build(run: SimulationRun) -> Report:
    by_id = {p.user_id: p for p in run.people}
    matches = [_line(row, by_id) for row in csv.DictReader(io.StringIO(run.export.get("matches.csv", "")))]
    matched = {u for m in matches for u in m.members}
    left_out = [(p, run.waitlist_notes.get(p.user_id, "not matched")) for p in run.people if p.user_id not in matched]
    weekly = [(by_id[u], n) for u, counts in run.messages.items() if u in by_id for n in counts]
    busiest = max(weekly, key=lambda item: item[1]) if weekly else None
    return Report(
        matches=matches,
        left_out=left_out,
        no_shared_hours=[m for m in matches if m.shared == 0],
        unbooked=[m for m in matches if m.meetings == 0],
        busiest=busiest,
    )


def _line(row: dict[str, str], by_id: dict[str, Person]) -> MatchLine:
    members = _ID.findall(row["members"])
    people = [by_id[u] for u in members if u in by_id]
    masks = [working_mask(p.timezone, p.work_start, p.work_end) for p in people]
    return MatchLine(
        round=row["round"],
        members=members,
        names=" + ".join(p.name for p in people),
        reasons=row["reasons"],
        meetings=int(row["meetings_count"] or 0),
        shared=shared_hours(*masks) if masks else 0.0,
    )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def write(run: SimulationRun, report: Report, out: Path) -> list[Path]:
    """The report's files in ``out`` (created if missing), the export in ``out/export``."""
    (out / "export").mkdir(parents=True, exist_ok=True)
    files: dict[Path, str | bytes] = {out / "export" / name: text for name, text in run.export.items()}
    files[out / "stats_by_week.csv"] = csv_text(
        ("week", "active", "paused", "waitlisted", "rounds", "matches", "met", "meeting_rate", "response_rate"),
        [
            [c.week, c.active, c.paused, c.waitlisted, c.rounds, c.matches, c.met, _rate(c.meeting_rate)]
            + [_rate(c.response_rate)]
            for c in run.checkpoints
        ],
    )
    weeks = max((len(v) for v in run.messages.values()), default=0)
    files[out / "messages_per_person.csv"] = csv_text(
        ("name", "email", *(f"week_{i + 1}" for i in range(weeks)), "total"),
        [
            [p.name, run.emails.get(p.user_id, ""), *counts, sum(counts)]
            for p in run.people
            for counts in [run.messages.get(p.user_id, [0] * weeks)]
        ],
    )
    files[out / "matches.csv"] = csv_text(
        ("round", "people", "why", "shared_working_hours", "chats_held_or_booked"),
        [[m.round, m.names, m.reasons, m.shared, m.meetings] for m in report.matches],
    )
    files[out / "left_out.csv"] = csv_text(
        ("name", "email", "what_the_bot_said"),
        [[p.name, run.emails.get(p.user_id, ""), why] for p, why in report.left_out],
    )
    if run.stats_chart:
        files[out / "stats.png"] = run.stats_chart
    files[out / "report.html"] = html(run, report)
    for path, content in files.items():
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return sorted(files)


def _table(header: tuple[str, ...], rows: list[list[object]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html(run: SimulationRun, report: Report) -> str:
    checkpoints = [
        [c.week, c.active, c.paused, c.waitlisted, c.rounds, c.matches, c.met, _rate(c.meeting_rate)]
        + [_rate(c.response_rate)]
        for c in run.checkpoints
    ]
    busiest = (
        f"The busiest person got {report.busiest[1]} messages in one week ({escape(report.busiest[0].name)})."
        if report.busiest
        else ""
    )
    chart = ""
    if run.stats_chart:
        chart = f'<img alt="stats chart" src="data:image/png;base64,{base64.b64encode(run.stats_chart).decode()}">'
    sections = [
        f"<h1>Dry run: {len(run.people)} people, {max((c.week for c in run.checkpoints), default=0)} weeks</h1>",
        "<h2>What the admin sees in stats</h2>",
        _table(
            ("week", "active", "paused", "waitlisted", "rounds", "matches", "met", "meeting rate", "responses"),
            checkpoints,
        ),
        chart,
        f"<h2>Matches ({len(report.matches)})</h2>",
        _table(
            ("round", "people", "why", "shared hours", "chats"),
            [[m.round, m.names, m.reasons.replace(LIST_SEPARATOR, "; "), m.shared, m.meetings] for m in report.matches],
        ),
        f"<h2>People left out ({len(report.left_out)})</h2>",
        _table(("name", "what the bot told them"), [[p.name, why] for p, why in report.left_out]),
        f"<h2>Groups with no shared working hours ({len(report.no_shared_hours)})</h2>",
        _table(("round", "people"), [[m.round, m.names] for m in report.no_shared_hours]),
        f"<h2>Chats that were never booked ({len(report.unbooked)})</h2>",
        _table(("round", "people"), [[m.round, m.names] for m in report.unbooked]),
        "<h2>Messages per person</h2>",
        f"<p>{busiest} Per person and week: messages_per_person.csv.</p>",
    ]
    style = "body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{border:1px solid #ccc;padding:.2em .5em}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Tandem dry run</title><style>{style}</style>"
        f"</head><body>{''.join(sections)}</body></html>\n"
    )
