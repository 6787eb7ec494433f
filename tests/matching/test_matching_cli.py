"""`tandem match`: good input gives result JSON; bad input exits 2 with one line naming what is wrong."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tandem.cli import app

GOOD = {
    "mode": "peer",
    "group_size": 2,
    "avoid_repeat_rounds": 12,
    "seed": 7,
    "participants": [
        {
            "id": "U1",
            "name": "Ana",
            "role": "peer",
            "timezone": "Europe/Berlin",
            "working_hours": ["09:00", "17:00"],
            "department": "Eng",
            "skills_offered": ["Python"],
            "interests": ["climbing"],
        },
        {
            "id": "U2",
            "name": "Sam",
            "timezone": "Europe/London",
            "department": "Sales",
            "skills_wanted": ["Python"],
            "interests": ["climbing"],
        },
        {"id": "U3", "timezone": "Asia/Tokyo"},
        {"id": "U4", "timezone": "Asia/Tokyo", "paused": True},
    ],
    "history": [{"members": ["U1", "U3"], "round": 3}],
    "weights": {},
}


def run(args):
    return CliRunner().invoke(app, ["match", *args])


def write(tmp_path, data):
    path = tmp_path / "problem.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_good_input_prints_result_json(tmp_path):
    result = run(["--input", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"groups", "unmatched", "stats"}
    members = sorted(m for g in out["groups"] for m in g["members"])
    assert members == ["U1", "U2", "U3"] and out["unmatched"] == []
    assert {"objective", "repeats", "elapsed_s", "solver"} <= set(out["stats"])
    assert all(isinstance(g["score"], float | int) and g["reasons"] for g in out["groups"])


def test_output_file_and_exact_flag(tmp_path):
    target = tmp_path / "result.json"
    result = run(["--input", str(write(tmp_path, GOOD)), "--output", str(target), "--exact"])
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["stats"]["solver"].startswith("exact")


def _with_person(**fields):
    data = json.loads(json.dumps(GOOD))
    data["participants"].append({"id": "U9", **fields})
    return data


@pytest.mark.parametrize(
    ("data", "needles"),
    [
        (_with_person(role="boss"), ["U9", "role"]),
        (_with_person(timezone="Mars/Olympus"), ["U9", "timezone"]),
        (_with_person(role="mentee"), ["U9", "role"]),
        ({**GOOD, "participants": GOOD["participants"] + [{"id": "U1"}]}, ["U1", "id"]),
        ('{"mode": "peer", "participants": [', ["malformed JSON", "line 1"]),
    ],
)
def test_bad_input_exits_2_with_one_message(tmp_path, data, needles):
    result = run(["--input", str(write(tmp_path, data))])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(n in lines[0] for n in needles), lines


def test_missing_file(tmp_path):
    result = run(["--input", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "not found" in result.stderr and result.stderr.count("\n") == 1


def test_module_entry_point_runs_in_a_subprocess(tmp_path):
    path = write(tmp_path, _with_person(timezone="Nowhere/Land"))
    proc = subprocess.run(
        [sys.executable, "-m", "tandem.match_cli", "--input", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "U9" in proc.stderr and "timezone" in proc.stderr


def test_output_has_one_group_per_line(tmp_path):
    target = tmp_path / "result.json"
    result = run(["--input", str(write(tmp_path, GOOD)), "--output", str(target)])
    assert result.exit_code == 0
    text = target.read_text(encoding="utf-8")
    groups = json.loads(text)["groups"]
    group_lines = [line for line in text.splitlines() if line.startswith('    {"members"')]
    assert len(group_lines) == len(groups) >= 1
    assert [json.loads(line.rstrip(",")) for line in group_lines] == groups
