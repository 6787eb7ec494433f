"""The dry run's charts read the report's CSV text: the figures they plot and state are the files' own."""

from __future__ import annotations

import io

from PIL import Image

from tandem.simulate_charts import draw_all, messages_series, rounds_series, stats_series

STATS = (
    "week,active,paused,waitlisted,rounds,matches,met,meeting_rate,response_rate,average_pulse,goals_done\n"
    "4,30,0,10,4,10,9,90%,88%,–,–\n"
    "8,30,0,10,8,10,10,100%,91%,4.2,10%\n"
)
MESSAGES = "week,people,fewest,median,most,weekly_cap\n1,30,2,5.5,9,4\n2,30,0,3,14,4\n"
MATCHES = (
    "round,people,why,shared_working_hours,chats_held_or_booked\n"
    "1,A + B,same team,6.0,1\n"
    "1,C + D,,0.0,0\n"
    "3,E + F,,0.0,2\n"
)
LEFT_OUT = "name,email,what_the_bot_said\nG,g@example.com,No match this round.\n"
FILES = {
    "stats_by_week.csv": STATS,
    "messages_by_week.csv": MESSAGES,
    "matches.csv": MATCHES,
    "left_out.csv": LEFT_OUT,
}


def test_series_are_the_csv_figures_and_a_dash_is_no_figure() -> None:
    stats = stats_series(STATS)
    assert stats.weeks == (4, 8) and stats.meeting_rate == (90.0, 100.0)
    assert stats.pulse == (None, 4.2) and stats.goals_done == (None, 10.0)
    messages = messages_series(MESSAGES)
    assert (messages.fewest, messages.median, messages.most, messages.cap) == ((2, 0), (5.5, 3.0), (9, 14), 4)
    groups = rounds_series(MATCHES, LEFT_OUT, rounds_held=4)
    assert groups.rounds == (1, 2, 3, 4)  # rounds that matched nobody new are bars of nothing, not gaps
    assert (groups.booked, groups.unbooked, groups.no_shared_hours) == ((1, 0, 1, 0), (1, 0, 0, 0), (1, 0, 1, 0))
    assert groups.left_out == 1


def test_each_chart_is_a_png_whose_alt_text_states_its_figures() -> None:
    charts = {c.name: c for c in draw_all(FILES)}
    assert set(charts) == {"stats_by_week.png", "groups_per_round.png", "messages_per_week.png"}
    for chart in charts.values():
        with Image.open(io.BytesIO(chart.png)) as image:
            assert image.format == "PNG" and image.size == (700, 360) and image.mode == "P"
    assert charts["stats_by_week.png"].caption == "What stats says after 4 and 8 weeks: stats_by_week.csv."
    assert charts["stats_by_week.png"].alt == (
        "What stats says: after week 4: meeting rate 90%, pulse no figure, goals done no figure; "
        "after week 8: meeting rate 100%, pulse 4.2, goals done 10%."
    )
    assert charts["groups_per_round.png"].alt == (
        "Groups per round over 8 rounds: 2 with a chat held or booked, 1 never booked, "
        "2 with no shared working hours; 1 person never matched."
    )
    assert charts["messages_per_week.png"].alt == (
        "Messages per person per week, weeks 1 to 2: the median person got 3 to 5.5 a week; "
        "the busiest person got 14 (week 2); the weekly cap on unprompted messages is 4."
    )


def test_a_run_with_no_weeks_of_figures_still_draws() -> None:
    empty = {name: text.split("\n", 1)[0] + "\n" for name, text in FILES.items()}
    charts = draw_all(empty)
    assert [c.alt for c in charts] == [
        "What stats says: no checkpoints.",
        "Groups per round over 0 rounds: 0 with a chat held or booked, 0 never booked, "
        "0 with no shared working hours; 0 people never matched.",
        "Messages per person per week: no weeks.",
    ]
    assert all(c.png.startswith(b"\x89PNG") for c in charts)
