"""`tandem program create`: a program from the command line, so `tandem import` works on a fresh database."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli_demo import tandem


def test_create_a_program_then_import_people_into_it(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("platform_user_id,role\nU1,peer\nU2,peer\n", encoding="utf-8")
    before = tandem("import", str(people), "--program", "Lunch", cwd=tmp_path)
    assert before.returncode == 2 and "programs: none; create one with `tandem program create`" in before.stderr
    created = tandem(
        "program", "create", "--platform", "slack", "--workspace", "T1", "--channel", "C123", "--name", "Lunch",
        "--weekday", "tuesday", cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Created 'Lunch' (peer) in #C123" in created.stdout
    imported = tandem("import", str(people), "--program", "Lunch", cwd=tmp_path)
    assert imported.returncode == 0 and "Imported 2 people" in imported.stdout, imported.stderr


def test_bad_values_are_one_line_and_exit_2(tmp_path: Path) -> None:
    base = ["program", "create", "--platform", "slack", "--workspace", "T1", "--channel", "C9"]
    for extra, expected in (
        (["--time", "25:00"], "tandem: --time: '25:00' is not a time of day"),
        (["--platform", "irc"], "tandem: --platform must be slack or teams"),
    ):
        result = tandem(*base, *extra, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.startswith(expected), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert tandem(*base, cwd=tmp_path).returncode == 0
    again = tandem(*base, cwd=tmp_path)
    assert again.returncode == 2 and "#C9 already runs" in again.stderr
