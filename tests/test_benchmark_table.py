"""benchmarks/table.py reads the ROW lines the goal benchmarks print and orients each ratio so >= 1.0 is met."""

import pytest

from benchmarks.table import Row, parse_rows, table


def test_row_lines_are_picked_out_of_a_benchmark_report():
    out = "matching benchmark\nROW\tmatch_50k_seconds\t4.2\t5\ts\tlower\nsome figure 3.1\nROW\tquality_peers_10k\t0.996\t0.99\tratio\thigher\n"
    rows = parse_rows(out)
    assert [r.key for r in rows] == ["match_50k_seconds", "quality_peers_10k"]
    assert rows[0] == Row("match_50k_seconds", 4.2, 5.0, "s", "lower")


@pytest.mark.parametrize(
    ("row", "ratio", "met"),
    [
        (Row("t", 4.0, 5.0, "s", "lower"), 1.25, True),
        (Row("t", 10.0, 5.0, "s", "lower"), 0.5, False),
        (Row("q", 0.98, 0.99, "ratio", "higher"), 0.98 / 0.99, False),
        (Row("lost", 0.0, 0.0, "", "lower"), float("inf"), True),
        (Row("lost", 2.0, 0.0, "", "lower"), 0.0, False),
    ],
)
def test_ratio_is_at_least_one_exactly_when_the_goal_is_met(row, ratio, met):
    assert row.ratio == pytest.approx(ratio) and row.met is met


@pytest.mark.parametrize("line", ["ROW\tx\t1\t2\ts", "ROW\tx\t1\t2\ts\tsideways", "ROW\tx\tfast\t2\ts\tlower"])
def test_a_malformed_row_line_is_an_error(line):
    with pytest.raises(ValueError):
        parse_rows(line)


def test_table_lists_rows_not_measured():
    text = table([Row("t", 4.0, 5.0, "s", "lower")], [("round_20k_seconds", "script missing")])
    assert "1.25  yes" in text and "round_20k_seconds" in text and "not measured (script missing)" in text
