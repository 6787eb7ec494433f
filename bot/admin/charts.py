"""Stats charts as PNG bytes: meeting rate, average pulse and the share of goals done, by round.

Rendering uses matplotlib's object API on the Agg canvas (no pyplot global state, so it is safe in a
worker thread) and runs through ``asyncio.to_thread``: drawing takes long enough to stall the event loop.
Rounds without enough answers are drawn as gaps, never as numbers (anonymous-survey rule).
The PNG is stored with a small palette: a chart of flat colours looks the same and is about a quarter of
the size, which keeps it small enough to travel inside a message (Teams shows it inline in a card, and a
Teams message must stay under about 28 KB).
"""

from __future__ import annotations

import asyncio
import io
import math
from dataclasses import dataclass

from bot.admin.stats import ProgramStats

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PALETTE_COLOURS = 64  # enough for the anti-aliased edges of three series, text and grid


@dataclass(frozen=True)
class ChartSeries:
    """Exactly what is plotted; ``None`` means 'not enough answers' and is left blank."""

    title: str
    rounds: tuple[int, ...]
    meeting_rate: tuple[float | None, ...]  # 0..1
    pulse: tuple[float | None, ...]  # 1..5
    goals_done: tuple[float | None, ...] = ()  # 0..1: share of the round's goals done; None: no goals set


@dataclass(frozen=True)
class Chart:
    png: bytes
    series: ChartSeries


def stats_series(stats: ProgramStats) -> ChartSeries:
    return ChartSeries(
        title=stats.program.name,
        rounds=tuple(r.number for r in stats.rounds),
        meeting_rate=tuple(r.meeting_rate for r in stats.rounds),
        pulse=tuple(r.average_pulse for r in stats.rounds),
        goals_done=tuple(r.goal_rate for r in stats.rounds),
    )


def _nan(values: tuple[float | None, ...], scale: float = 1.0) -> list[float]:
    return [math.nan if v is None else v * scale for v in values]


def render_png(series: ChartSeries) -> bytes:
    """Blocking: draw the chart. Call through :func:`render_chart` from async code."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    left = fig.add_subplot(1, 1, 1)
    xs = list(series.rounds)
    left.bar(xs, _nan(series.meeting_rate, 100), color="#4C9F70", alpha=0.8, label="Meeting rate (%)")
    left.set_ylim(0, 100)
    left.set_ylabel("Met (%)")
    left.set_xlabel("Round")
    left.set_xticks(xs)
    if any(v is not None for v in series.goals_done):
        left.plot(xs, _nan(series.goals_done, 100), color="#3D5A80", marker="s", linestyle="--", label="Goals done (%)")
        left.set_ylabel("Met / goals done (%)")
    right = left.twinx()
    right.plot(xs, _nan(series.pulse), color="#E07A5F", marker="o", label="Average pulse (1-5)")
    right.set_ylim(1, 5)
    right.set_ylabel("Pulse")
    for x, rate, pulse in zip(xs, series.meeting_rate, series.pulse, strict=True):
        if rate is None and pulse is None:
            left.annotate("not enough\nanswers", (x, 2), ha="center", fontsize=7, color="#777777")
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="upper left", fontsize=8)
    what = (
        "meeting rate, pulse and goals done"
        if any(v is not None for v in series.goals_done)
        else "meeting rate and pulse"
    )
    left.set_title(f"{series.title}: {what} by round" if xs else f"{series.title}: no rounds yet")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return compact_png(buffer.getvalue())


def compact_png(png: bytes) -> bytes:
    """The same picture as a palette PNG (matplotlib writes 32-bit RGBA, mostly flat colour); other charts use it too."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(colors=PALETTE_COLOURS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def render_chart(stats: ProgramStats) -> Chart:
    """The chart for a program's stats, drawn off the event loop."""
    series = stats_series(stats)
    return Chart(png=await asyncio.to_thread(render_png, series), series=series)
