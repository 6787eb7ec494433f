"""`tandem demo` and the CLI's promises: one clear line and exit code 2 on bad input, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.database import head_revision

REPO = Path(__file__).resolve().parents[2]


def tandem(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "SLACK_", "MICROSOFT_"))}
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(REPO)
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args], cwd=cwd, env=full_env, text=True, capture_output=True, timeout=300
    )


@pytest.mark.parametrize(
    "args, expected",
    [
        (["demo", "--participants", "1"], "--participants must be between 2 and 2000"),
        (["demo", "--weeks", "0"], "--weeks must be between 1 and 52"),
        (["demo", "--colour", "red"], "No such option: --colour"),
        (["demo", "--participants", "many"], "Invalid value for '--participants'"),
        (["demo", "--kind", "sometimes"], "--kind must be mentoring or peer (got sometimes)"),
        (["demo", "--kind", "peer", "--group-size", "9"], "--group-size must be between 2 and 8 (got 9)"),
        (["demo", "--group-size", "3"], "--group-size is for peer programs"),
        (["demo", "--db", "mysql://x/y"], "unsupported database 'mysql'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, args: list[str], expected: str) -> None:
    result = tandem(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_unreachable_database_is_a_runtime_error_exit_1(tmp_path: Path) -> None:
    result = tandem("demo", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", cwd=tmp_path)
    assert result.returncode == 1 and "cannot reach the database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = tandem("db", "upgrade", cwd=tmp_path, env={"TANDEM_DEFAULT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "tandem: bad setting TANDEM_DEFAULT_TIMEZONE: 'Mars/Olympus' is not a time zone I know. Use a name like "
        "Europe/Berlin."
    )
    result = tandem("db", "upgrade", cwd=tmp_path, env={"TANDEM_DATABASE_URL": "not a url"})
    assert result.returncode == 1 and "TANDEM_DATABASE_URL" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = tandem("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    assert (tmp_path / "tandem.db").exists()


def test_demo_shows_every_step_and_is_reproducible(tmp_path: Path) -> None:
    first = tandem("demo", "--participants", "8", "--weeks", "2", "--seed", "3", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for step in (
        "New program",
        "Want in?",
        "Preview of round 1",
        "Meet your mentoring match",
        "Why you",
        "Propose option",
        "proposed a coffee chat",
        "Your coffee chat is booked",
        "Did you meet?",
        "Icebreaker of the week",
        "going on holiday",
        "Paused until",
        "stats after 2 weeks",
    ):
        assert step in out, step
    zones = {z for z in ("America/", "Europe/", "Asia/", "Africa/") if z in out}
    assert len(zones) >= 3
    # the program form shows what the admin chose, not the option lists
    assert "Kind: Mentoring\n" in out and "New matches: Weekly\n" in out and "Weekly / Biweekly" not in out
    # eight identical invitations and eight identical "saved" answers: one box each, then one line
    assert out.count("Want in?") == 1 and out.count("Saved your profile") == 1, out[:3000]
    assert out.count("↳ the same for 7 more (8 people in all)") == 2
    again = tandem("demo", "--participants", "8", "--weeks", "2", "--seed", "3", cwd=tmp_path)
    assert again.stdout == out
    other = tandem("demo", "--participants", "8", "--weeks", "2", "--seed", "4", cwd=tmp_path)
    assert other.stdout != out
    assert list(tmp_path.iterdir()) == [], "the demo keeps its database in a throwaway folder"


def test_teams_package_writes_an_uploadable_zip(tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "tandem-teams.zip"
    result = tandem(
        "teams-package",
        "--app-id",
        "00000000-0000-0000-0000-000000000001",
        "--host",
        "tandem.example.com",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(zipfile.ZipFile(out).namelist()) == ["color.png", "manifest.json", "outline.png"]
    bad = tandem("teams-package", "--app-id", "nope", "--host", "x", cwd=tmp_path)
    assert bad.returncode == 2 and "GUID" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_demo_of_a_peer_program_in_groups_of_three(tmp_path: Path) -> None:
    result = tandem("demo", "--kind", "peer", "--participants", "7", "--group-size", "3", "--weeks", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Coffee Chats" in result.stdout and "Mentoring Circle" not in result.stdout
    # 7 people in groups of three: two groups a round (one of them with four), for two rounds
    assert "│ All   │       4 │" in result.stdout, result.stdout[-2000:]
