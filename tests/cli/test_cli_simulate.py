"""`tandem simulate`: a bad roster gets the import's line-numbered problems and nothing runs; a clean one
writes a report whose figures are the run's own export."""

from __future__ import annotations

import csv
import io
import random
import statistics
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from bot.admin.charts import PNG_MAGIC
from tests.cli.test_cli_demo import tandem

ZONES = (
    ("Europe/London", "09:00", "17:00"),
    ("America/New_York", "09:00", "17:30"),
    ("Asia/Kolkata", "10:00", "18:00"),
    ("Australia/Sydney", "08:30", "16:30"),
)
HEADER = "email,name,role,interests,department,timezone,work_start,work_end"


def roster(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    lines = [HEADER]
    for i in range(count):
        zone, start, end = ZONES[rng.randrange(len(ZONES))]
        lines.append(f"p{i}@example.com,Person {i},peer,chess;running,Team {i % 5},{zone},{start},{end}")
    return lines


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_a_bad_roster_reports_each_bad_line_and_simulates_nothing(tmp_path: Path) -> None:
    lines = roster(200)
    lines[11] = lines[11].replace("@example.com", "-at-example")
    lines[22] = "p21@example.com,Person 21,peer,chess,Team 1,EST,09:00,17:00"
    lines[33] = lines[33].replace(",peer,", ",mentor,")
    lines[44] = lines[44].rsplit(",", 2)[0] + ",9am,17:00"
    lines[155] = lines[5]
    (tmp_path / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = tandem("simulate", "--roster", "people.csv", "--out", "report", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    reported = [line for line in result.stderr.splitlines() if line.startswith("tandem: people.csv line")]
    assert [line.split(",")[0] for line in reported] == [
        f"tandem: people.csv line {n}" for n in (12, 23, 34, 45, 156)
    ], result.stderr
    assert "duplicate of line 6" in reported[-1] and "EST" in reported[1]
    assert result.stderr.strip().endswith("5 problem(s); nothing was simulated.")
    assert not (tmp_path / "report").exists() and "Traceback" not in result.stderr


def test_a_clean_roster_writes_a_report_that_matches_its_export(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("\n".join(roster(11)) + "\n", encoding="utf-8")
    result = tandem(
        "simulate", "--roster", "people.csv", "--weeks", "5", "--reply-rate", "0.5", "--out", "out", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    exported = rows(out / "export" / "matches.csv")
    reported = rows(out / "matches.csv")
    assert len(reported) == len(exported) > 0
    assert [(r["round"], r["why"]) for r in reported] == [(m["round"], m["reasons"]) for m in exported]
    stats = rows(out / "stats_by_week.csv")
    assert [s["week"] for s in stats] == ["4", "5"]
    assert int(stats[-1]["matches"]) == len(exported)
    assert int(stats[-1]["met"]) == sum(1 for m in exported if m["met_at"])
    unbooked = sum(1 for m in exported if m["meetings_count"] == "0")
    assert sum(1 for m in reported if m["chats_held_or_booked"] == "0") == unbooked
    matched = {p for m in exported for p in m["members"].split("; ")}
    participants = rows(out / "export" / "participants.csv")
    left_out = len(participants) - len(matched)
    matched_ids = {member.split("<")[1].split(">")[0] for member in matched}
    never = {p["email"] for p in participants if p["platform_user_id"] not in matched_ids}
    assert {p["email"] for p in rows(out / "left_out.csv")} == never and len(never) == left_out
    goals = rows(out / "export" / "goals.csv")
    done = sum(1 for g in goals if g["status"] == "done")
    assert stats[-1]["goals_done"] == (f"{done / len(goals):.0%}" if goals else "–")
    messages = rows(out / "messages_per_person.csv")
    assert len(messages) == 11 and all(int(m["total"]) > 0 for m in messages)
    weekly = [[int(m[f"week_{w}"]) for m in messages] for w in range(1, 6)]
    by_week = rows(out / "messages_by_week.csv")
    assert [(int(w["fewest"]), float(w["median"]), int(w["most"])) for w in by_week] == [
        (min(counts), statistics.median(counts), max(counts)) for counts in weekly
    ]
    assert {w["weekly_cap"] for w in by_week} == {"4"}  # the program form's default
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Dry run: 11 people, 5 weeks" in page and "data:image" not in page
    assert "A peer program; the simulated people answer surveys 50% of the time" in page
    assert f"Matches ({len(exported)})" in page and "The busiest person got" in page
    assert f"{len(exported)} matches" in result.stdout
    alts = images(page, out)
    assert set(alts) == {f"charts/{p.name}" for p in (out / "charts").iterdir()}
    assert set(alts) >= {f"charts/{n}.png" for n in ("stats_by_week", "groups_per_round", "messages_per_week")}
    busiest = max(max(counts) for counts in weekly)
    assert f"the busiest person got {busiest} (week " in alts["charts/messages_per_week.png"]
    booked = len(exported) - unbooked
    assert f"{booked} with a chat held or booked, {unbooked} never booked" in alts["charts/groups_per_round.png"]
    never = f"{left_out} {'person' if left_out == 1 else 'people'} never matched"
    assert f"; {never}." in alts["charts/groups_per_round.png"]
    for s in stats:
        assert (
            f"after week {s['week']}: meeting rate {s['meeting_rate'].replace('–', 'no figure')},"
            in (alts["charts/stats_by_week.png"])
        )


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            found = dict(attrs)
            self.found[found.get("src") or ""] = found.get("alt") or ""


def images(page: str, folder: Path) -> dict[str, str]:
    """The page's images (relative path → alt text), each checked to be a real PNG file next to the page."""
    parser = _Images()
    parser.feed(page)
    for src, alt in parser.found.items():
        assert not Path(src).is_absolute() and ".." not in src and alt, (src, alt)
        data = (folder / src).read_bytes()
        assert data.startswith(PNG_MAGIC), src
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            assert image.format == "PNG" and image.size[0] >= 600, (src, image.size)
    return parser.found


def test_bad_options_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(HEADER + "\n", encoding="utf-8")
    for args, expected in (
        (["--roster", "missing.csv"], "--roster: missing.csv: no such file"),
        (["--roster", "people.csv", "--reply-rate", "2"], "--reply-rate must be between 0 and 1 (got 2.0)"),
        (["--roster", "people.csv", "--kind", "x"], "--kind must be mentoring or peer (got x)"),
    ):
        result = tandem("simulate", *args, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.strip().endswith(expected), result.stderr
