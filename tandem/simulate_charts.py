"""The dry run's charts, drawn from the text of the report's own CSV files.

Each chart reads the very CSV text that is written next to it (messages_by_week.csv, stats_by_week.csv,
matches.csv, left_out.csv), so a chart and its file can never disagree; the alt text states the chart's
figures in words, for a screen reader and for the tests that hold them against the export. Drawing follows
the admin's stats chart (bot/admin/charts.py): matplotlib's object API on the Agg canvas, the same colours,
and its small-palette PNG.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.admin.charts import compact_png

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

GREEN, BLUE, ORANGE, GREY = "#4C9F70", "#3D5A80", "#E07A5F", "#777777"
NONE = "–"  # how the report's CSV files write "no figure" (too few answers)


@dataclass(frozen=True)
class MessagesSeries:
    """Per week: the fewest, median and most messages any one person got, and the program's weekly cap."""

    weeks: tuple[int, ...]
    fewest: tuple[int, ...]
    median: tuple[float, ...]
    most: tuple[int, ...]
    cap: int


@dataclass(frozen=True)
class StatsSeries:
    """What `stats` says at each checkpoint week; ``None`` where it shows no figure."""

    weeks: tuple[int, ...]
    meeting_rate: tuple[float | None, ...]  # percent
    pulse: tuple[float | None, ...]  # 1..5
    goals_done: tuple[float | None, ...]  # percent


@dataclass(frozen=True)
class RoundsSeries:
    """Per round: groups with a chat held or booked, groups without one, groups with no shared hours."""

    rounds: tuple[int, ...]
    booked: tuple[int, ...]
    unbooked: tuple[int, ...]
    no_shared_hours: tuple[int, ...]
    left_out: int  # people never matched


@dataclass(frozen=True)
class ReportChart:
    name: str  # the file's name in the report's charts/ folder
    caption: str  # what it shows and the file its figures are from
    alt: str
    png: bytes


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _number(cell: str, suffix: str = "") -> float | None:
    return None if cell in ("", NONE) else float(cell.removesuffix(suffix))


def messages_series(messages_by_week: str) -> MessagesSeries:
    table = rows(messages_by_week)
    return MessagesSeries(
        weeks=tuple(int(r["week"]) for r in table),
        fewest=tuple(int(r["fewest"]) for r in table),
        median=tuple(float(r["median"]) for r in table),
        most=tuple(int(r["most"]) for r in table),
        cap=int(table[0]["weekly_cap"]) if table else 0,
    )


def stats_series(stats_by_week: str) -> StatsSeries:
    table = rows(stats_by_week)
    return StatsSeries(
        weeks=tuple(int(r["week"]) for r in table),
        meeting_rate=tuple(_number(r["meeting_rate"], "%") for r in table),
        pulse=tuple(_number(r["average_pulse"]) for r in table),
        goals_done=tuple(_number(r["goals_done"], "%") for r in table),
    )


def rounds_series(matches: str, left_out: str, rounds_held: int = 0) -> RoundsSeries:
    """Every round held, also those that matched nobody new (a mentoring pair lasts many rounds)."""
    counts: dict[int, list[int]] = {n: [0, 0, 0] for n in range(1, rounds_held + 1)}
    for r in rows(matches):
        tally = counts.setdefault(int(r["round"]), [0, 0, 0])
        tally[0 if int(r["chats_held_or_booked"]) else 1] += 1
        tally[2] += float(r["shared_working_hours"]) == 0
    numbers = sorted(counts)
    return RoundsSeries(
        rounds=tuple(numbers),
        booked=tuple(counts[n][0] for n in numbers),
        unbooked=tuple(counts[n][1] for n in numbers),
        no_shared_hours=tuple(counts[n][2] for n in numbers),
        left_out=len(rows(left_out)),
    )


def _figure(draw: Callable[[Axes], None]) -> bytes:
    """One chart in the admin chart's size and palette PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    draw(fig.add_subplot(1, 1, 1))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return compact_png(buffer.getvalue())


def _weeks_axis(axes: Axes, xs: Iterable[int], label: str) -> None:
    ticks = list(xs)
    axes.set_xlabel(label)
    axes.set_xticks(ticks if len(ticks) <= 26 else ticks[:: math.ceil(len(ticks) / 26)])
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def _nan(values: Iterable[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _messages(series: MessagesSeries) -> Callable[[Axes], None]:
    def draw(axes: Axes) -> None:
        xs = list(series.weeks)
        axes.fill_between(xs, series.fewest, series.most, color=BLUE, alpha=0.15, label="fewest to most")
        axes.plot(xs, series.median, color=BLUE, marker="o", label="median person")
        axes.plot(xs, series.most, color=ORANGE, marker="^", linestyle="none", label="busiest person")
        axes.axhline(series.cap, color=GREY, linestyle="--", label=f"weekly cap on unprompted messages ({series.cap})")
        axes.set_ylim(0, max([series.cap, *series.most]) * 1.1 + 1)
        axes.set_ylabel("Messages per person")
        _whole_numbers(axes)
        _weeks_axis(axes, xs, "Week")
        _legend_below(axes, axes.get_legend_handles_labels()[0], columns=2)
        axes.set_title("Messages per person per week")

    return draw


def _whole_numbers(axes: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _legend_below(axes: Axes, handles: list[Artist], columns: int = 3) -> None:
    """Under the plot, where it never hides a bar."""
    axes.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=columns, fontsize=8, frameon=False
    )


def _label(text: str, values: tuple[float | None, ...], missing: str) -> str:
    return text if any(v is not None for v in values) else f"{text}: {missing}"


def _stats(series: StatsSeries) -> Callable[[Axes], None]:
    def draw(axes: Axes) -> None:
        xs = list(series.weeks)
        rate = _label("Meeting rate (%)", series.meeting_rate, "too few answers")
        bars = axes.bar(xs, _nan(series.meeting_rate), width=1.2, color=GREEN, alpha=0.8, label=rate)
        axes.bar_label(bars, labels=[_figure_text(v, "%") for v in series.meeting_rate], fontsize=8, color=GREY)
        goals = _label("Goals done (%)", series.goals_done, "no goals set")
        axes.plot(xs, _nan(series.goals_done), color=BLUE, marker="s", linestyle="--", label=goals)
        axes.set_ylim(0, 110)
        axes.set_yticks(range(0, 101, 20))
        axes.set_ylabel("Met / goals done (%)")
        _weeks_axis(axes, xs, "After week")
        right = axes.twinx()
        pulse = _label("Average pulse (1-5)", series.pulse, "too few answers")
        right.plot(xs, _nan(series.pulse), color=ORANGE, marker="o", label=pulse)
        right.set_ylim(1, 5.4)
        right.set_yticks(range(1, 6))
        right.set_ylabel("Pulse")
        handles = axes.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        _legend_below(axes, handles)
        axes.set_title(f"What stats says {_after(series.weeks)}")

    return draw


def _rounds(series: RoundsSeries) -> Callable[[Axes], None]:
    def draw(axes: Axes) -> None:
        xs = list(series.rounds)
        axes.bar(xs, series.booked, color=GREEN, alpha=0.8, label="chat held or booked")
        unbooked = axes.bar(xs, series.unbooked, bottom=series.booked, color=ORANGE, alpha=0.8, label="never booked")
        axes.bar_label(unbooked, labels=[str(n) if n else "" for n in series.unbooked], fontsize=7, color=ORANGE)
        axes.bar(xs, series.no_shared_hours, width=0.3, color=BLUE, label="no shared working hours (of the above)")
        tallest = max((b + u for b, u in zip(series.booked, series.unbooked, strict=True)), default=0)
        axes.set_ylim(0, tallest * 1.15 + 1)
        axes.set_ylabel("Groups")
        _whole_numbers(axes)
        _weeks_axis(axes, xs, "Round")
        _legend_below(axes, axes.get_legend_handles_labels()[0])
        axes.set_title(f"Groups per round ({_count(series.left_out, 'person', 'people')} never matched)")

    return draw


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _figure_text(value: float | None, unit: str = "", form: str = "g") -> str:
    return "no figure" if value is None else f"{value:{form}}{unit}"


def messages_alt(series: MessagesSeries) -> str:
    if not series.weeks:
        return "Messages per person per week: no weeks."
    top = max(series.most)
    week = series.weeks[series.most.index(top)]
    return (
        f"Messages per person per week, weeks 1 to {series.weeks[-1]}: the median person got "
        f"{min(series.median):g} to {max(series.median):g} a week; the busiest person got {top} (week {week}); "
        f"the weekly cap on unprompted messages is {series.cap}."
    )


def stats_alt(series: StatsSeries) -> str:
    parts = [
        f"after week {w}: meeting rate {_figure_text(m, '%')}, pulse {_figure_text(p, form='.1f')}, "
        f"goals done {_figure_text(g, '%')}"
        for w, m, p, g in zip(series.weeks, series.meeting_rate, series.pulse, series.goals_done, strict=True)
    ]
    return "What stats says: " + ("; ".join(parts) or "no checkpoints") + "."


def rounds_alt(series: RoundsSeries) -> str:
    return (
        f"Groups per round over {_count(len(series.rounds), 'round')}: {sum(series.booked)} with a chat held or booked, "
        f"{sum(series.unbooked)} never booked, {sum(series.no_shared_hours)} with no shared working hours; "
        f"{_count(series.left_out, 'person', 'people')} never matched."
    )


def _after(weeks: tuple[int, ...]) -> str:
    """ "after 4, 8 and 12 weeks" """
    if len(weeks) < 2:
        return f"after {weeks[0] if weeks else 0} weeks"
    return f"after {', '.join(map(str, weeks[:-1]))} and {weeks[-1]} weeks"


def draw_all(csv_files: Mapping[str, str]) -> list[ReportChart]:
    """The report's charts from its CSV files' text (by file name)."""
    messages = messages_series(csv_files["messages_by_week.csv"])
    stats = stats_series(csv_files["stats_by_week.csv"])
    checkpoints = rows(csv_files["stats_by_week.csv"])
    held = int(checkpoints[-1]["rounds"]) if checkpoints else 0
    groups = rounds_series(csv_files["matches.csv"], csv_files["left_out.csv"], held)
    return [
        ReportChart(
            "stats_by_week.png",
            f"What stats says {_after(stats.weeks)}: stats_by_week.csv.",
            stats_alt(stats),
            _figure(_stats(stats)),
        ),
        ReportChart(
            "groups_per_round.png",
            "Groups per round, booked or not: matches.csv; people never matched: left_out.csv.",
            rounds_alt(groups),
            _figure(_rounds(groups)),
        ),
        ReportChart(
            "messages_per_week.png",
            "Fewest, median and most messages a person got each week: messages_by_week.csv.",
            messages_alt(messages),
            _figure(_messages(messages)),
        ),
    ]
