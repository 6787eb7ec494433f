"""The dry run's report: CSV files, PNG charts and one HTML page, every figure read from the program's own
export.

Matches, reasons and booked chats come from the export's matches.csv (the same file `tandem export`
writes), so the report and the export can never disagree; the charts are drawn from the report's CSV text
(tandem/simulate_charts.py), so they cannot disagree with the CSV files either.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from statistics import median

from bot.admin.csv_format import LIST_SEPARATOR, csv_text
from bot.matching.overlap import shared_hours, working_mask
from tandem import simulate_charts
from tandem.people import Person
from tandem.simulate import Checkpoint, SimulationRun
from tandem.simulate_charts import NONE, ReportChart

CHARTS = "charts"  # the PNGs' folder, next to report.html
ADMIN_CHART = "admin_stats.png"

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
    return NONE if value is None else f"{value:.0%}"


def _pulse(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def _weekly_counts(run: SimulationRun) -> list[tuple[Person, list[int]]]:
    """Each person's messages per week (zeros for a person who got none)."""
    return [(p, run.messages.get(p.user_id, [0] * run.weeks)) for p in run.people]


def csv_files(run: SimulationRun, report: Report) -> dict[str, str]:
    """The report's CSV files by name: the tables in report.html and the data of every chart."""
    weekly = _weekly_counts(run)
    by_week = [[counts[w] for _, counts in weekly] for w in range(run.weeks)]
    return {
        "stats_by_week.csv": csv_text(STATS_COLUMNS, [_checkpoint_row(c) for c in run.checkpoints]),
        "messages_per_person.csv": csv_text(
            ("name", "email", *(f"week_{i + 1}" for i in range(run.weeks)), "total"),
            [[p.name, run.emails.get(p.user_id, ""), *counts, sum(counts)] for p, counts in weekly],
        ),
        "messages_by_week.csv": csv_text(
            ("week", "people", "fewest", "median", "most", "weekly_cap"),
            [
                [w + 1, len(counts), min(counts), f"{median(counts):g}", max(counts), run.weekly_cap]
                for w, counts in enumerate(by_week)
                if counts
            ],
        ),
        "matches.csv": csv_text(
            ("round", "people", "why", "shared_working_hours", "chats_held_or_booked"),
            [[m.round, m.names, m.reasons, m.shared, m.meetings] for m in report.matches],
        ),
        "left_out.csv": csv_text(
            ("name", "email", "what_the_bot_said"),
            [[p.name, run.emails.get(p.user_id, ""), why] for p, why in report.left_out],
        ),
    }


STATS_COLUMNS = (
    "week",
    "active",
    "paused",
    "waitlisted",
    "rounds",
    "matches",
    "met",
    "meeting_rate",
    "response_rate",
    "average_pulse",
    "goals_done",
)


def _checkpoint_row(c: Checkpoint) -> list[object]:
    return [
        *(c.week, c.active, c.paused, c.waitlisted, c.rounds, c.matches, c.met),
        *(_rate(c.meeting_rate), _rate(c.response_rate), _pulse(c.pulse), _rate(c.goals_done)),
    ]


def write(run: SimulationRun, report: Report, out: Path) -> list[Path]:
    """The report's files in ``out`` (created if missing): CSV files, charts/*.png drawn from them, the export
    in ``out/export`` and report.html, which shows the CSV files' figures and links the charts."""
    (out / "export").mkdir(parents=True, exist_ok=True)
    (out / CHARTS).mkdir(exist_ok=True)
    tables = csv_files(run, report)
    charts = simulate_charts.draw_all(tables)
    if run.stats_chart:
        alt = "The chart the admin's stats command attaches: meeting rate, pulse and goals done by round."
        caption = "The chart the admin's stats command attaches at the end of the run (by round)."
        charts.append(ReportChart(ADMIN_CHART, caption, alt, run.stats_chart))
    files: dict[Path, str | bytes] = {out / "export" / name: text for name, text in run.export.items()}
    files |= {out / name: text for name, text in tables.items()}
    files |= {out / CHARTS / chart.name: chart.png for chart in charts}
    files[out / "report.html"] = html(run, report, tables, charts)
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


def _csv_table(text: str, header: tuple[str, ...] | None = None) -> str:
    """A report CSV file as an HTML table (its own header, or friendlier words for it)."""
    lines = list(csv.reader(io.StringIO(text)))
    return _table(header or tuple(lines[0]), [list(row) for row in lines[1:]])


def _figure(chart: ReportChart) -> str:
    return (
        f'<figure><img src="{CHARTS}/{escape(chart.name)}" alt="{escape(chart.alt)}" width="700" height="360">'
        f"<figcaption>{escape(chart.caption)}</figcaption></figure>"
    )


def html(run: SimulationRun, report: Report, tables: dict[str, str], charts: list[ReportChart]) -> str:
    """The page: every table is one of the CSV files, every chart one of the PNGs drawn from them."""
    figures = {chart.name: _figure(chart) for chart in charts}
    busiest = (
        f"The busiest person got {report.busiest[1]} messages in one week ({escape(report.busiest[0].name)})."
        if report.busiest
        else ""
    )
    sections = [
        f"<h1>Dry run: {len(run.people)} people, {run.weeks} weeks</h1>",
        f"<p>A {escape(run.kind)} program; the simulated people answer surveys {run.reply_rate:.0%} of the time "
        "(<code>--reply-rate</code>).</p>",
        "<p>Every table and chart here is read from the CSV files next to this page. Matches, reasons, people "
        "left out and booked chats come from export/, the run's own <code>tandem export</code>; "
        "stats_by_week.csv is what <code>stats</code> said after each checkpoint week.</p>",
        "<h2>What the admin sees in stats</h2>",
        _csv_table(
            tables["stats_by_week.csv"],
            ("week", "active", "paused", "waitlisted", "rounds", "matches", "met", "meeting rate", "responses")
            + ("pulse", "goals done"),
        ),
        figures.get("stats_by_week.png", ""),
        figures.get(ADMIN_CHART, ""),
        f"<h2>Groups per round ({len(report.matches)} in all)</h2>",
        figures.get("groups_per_round.png", ""),
        f"<h2>People left out ({len(report.left_out)})</h2>",
        _table(("name", "what the bot told them"), [[p.name, why] for p, why in report.left_out]),
        f"<h2>Groups with no shared working hours ({len(report.no_shared_hours)})</h2>",
        _table(("round", "people"), [[m.round, m.names] for m in report.no_shared_hours]),
        f"<h2>Chats that were never booked ({len(report.unbooked)})</h2>",
        _table(("round", "people"), [[m.round, m.names] for m in report.unbooked]),
        "<h2>Messages per person</h2>",
        f"<p>{busiest} Per person and week: messages_per_person.csv.</p>",
        figures.get("messages_per_week.png", ""),
        _csv_table(tables["messages_by_week.csv"], ("week", "people", "fewest", "median", "most", "weekly cap")),
        f"<h2>Matches ({len(report.matches)})</h2>",
        _table(
            ("round", "people", "why", "shared hours", "chats"),
            [[m.round, m.names, m.reasons.replace(LIST_SEPARATOR, "; "), m.shared, m.meetings] for m in report.matches],
        ),
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Tandem dry run</title><style>{STYLE}</style>"
        f"</head><body>{''.join(sections)}</body></html>\n"
    )


STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
    "figure{margin:1em 0}img{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}"
)
