"""Broken content fails loudly, naming the file and the line to fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.content import ContentError, load_library

WriteFile = Callable[[str, str], Path]  # the `write` fixture from conftest.py


def load_errors(root: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_library(root)
    return [str(issue) for issue in caught.value.issues]


def test_bad_category_names_file_line_id_and_allowed_values(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - id: fun-001
            category: fun
            text: "What's a song you never skip?"
          - id: fun-007
            category: funny
            text: "Which fictional world would you visit?"
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 6: icebreaker 'fun-007': category 'funny' is not one of "
        "fun, work_style, career, culture, this_or_that"
    ]


def test_error_message_is_the_issue_list(library_dir: Path, write: WriteFile) -> None:
    write("icebreakers.yaml", "icebreakers:\n  - {id: fun-001, category: fun}\n")
    expected = r"icebreakers\.yaml, line 2: icebreaker 'fun-001': missing required field 'text'"
    with pytest.raises(ContentError, match=expected):
        load_library(library_dir)


def test_duplicate_id_points_at_the_second_entry_and_the_first(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - id: career-001
            category: career
            text: "What first drew you to your field?"
          - id: career-001
            category: career
            text: "What's a skill you'd like to build?"
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 5: icebreaker 'career-001': id 'career-001' is already used on line 2"
    ]


def test_missing_question_text_in_a_track(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "tracks/peer.yaml",
        """
        title: Peer
        prompts:
          - week: 1
            id: hello
            title: Hello
            question: "How did you get here?"
            follow_ups: ["What surprised you?"]
          - week: 2
            id: typical-week
            title: A typical week
            follow_ups: ["What do you look forward to?"]
        """,
    )
    assert load_errors(library_dir) == [f"{path}, line 8: peer track, week 2: missing required field 'question'"]


def test_empty_survey_question_text(library_dir: Path) -> None:
    surveys = library_dir / "surveys.yaml"
    text = surveys.read_text(encoding="utf-8")
    broken = text.replace("text: How is your pairing going this week?", 'text: "  "')
    surveys.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index('        text: "  "') + 1
    assert load_errors(library_dir) == [
        f"{surveys.resolve()}, line {line}: survey 'pulse', question 'match_rating': text must not be empty"
    ]


def test_week_gap_is_reported_where_it_happens(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "tracks/peer.yaml",
        """
        title: Peer
        prompts:
          - {week: 1, id: one, title: One, question: "First?", follow_ups: ["More?"]}
          - {week: 2, id: two, title: Two, question: "Second?", follow_ups: ["More?"]}
          - {week: 4, id: four, title: Four, question: "Fourth?", follow_ups: ["More?"]}
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 5: peer track: expected week 3 here but found week 4; "
        "weeks must run 1, 2, 3, ... in order without gaps"
    ]


def test_duplicate_week(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "tracks/peer.yaml",
        """
        title: Peer
        prompts:
          - {week: 1, id: one, title: One, question: "First?", follow_ups: ["More?"]}
          - {week: 1, id: two, title: Two, question: "Second?", follow_ups: ["More?"]}
        """,
    )
    assert load_errors(library_dir) == [f"{path}, line 4: peer track: week 1 appears twice (first on line 3)"]


def test_follow_ups_must_be_one_or_two(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "tracks/peer.yaml",
        """
        title: Peer
        prompts:
          - week: 1
            id: one
            title: One
            question: "First?"
            follow_ups: ["A?", "B?", "C?"]
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 7: peer track, week 1: follow_ups must list one or two questions (found 3)"
    ]


def test_malformed_yaml_reports_the_parser_line(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - id: fun-001
            category: fun
            text: "Unclosed quote?
          - id: fun-002
        """,
    )
    errors = load_errors(library_dir)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}, line ")
    assert "invalid YAML" in errors[0]
    line = int(errors[0].removeprefix(f"{path}, line ").split(":")[0])
    assert 4 <= line <= 6  # the parser notices the unclosed quote at the end of the scalar


def test_bad_indentation_reports_the_line(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - id: fun-001
            category: fun
           text: "Misaligned?"
        """,
    )
    errors = load_errors(library_dir)
    assert len(errors) == 1 and errors[0].startswith(f"{path}, line 4: invalid YAML")


def test_duplicate_key_in_one_entry(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - id: fun-001
            category: fun
            text: "First wording?"
            text: "Second wording?"
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 5: invalid YAML: key 'text' appears twice in the same entry (first on line 4)"
    ]


def test_unquoted_yes_gets_a_hint(library_dir: Path) -> None:
    surveys = library_dir / "surveys.yaml"
    text = surveys.read_text(encoding="utf-8")
    surveys.write_text(text.replace('value: "yes"', "value: yes"), encoding="utf-8")
    (error,) = load_errors(library_dir)
    assert "survey 'did_you_meet', question 'met': value must be text, but YAML read it as True" in error
    assert "quotes" in error


def test_survey_rules(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "surveys.yaml",
        """
        surveys:
          - id: did_you_meet
            title: Did you meet?
            trigger: after_intro
            questions:
              - id: met
                kind: choice
                text: Did you meet?
                options:
                  - {value: "yes", label: "Yes"}
                  - {value: "yes", label: "Also yes"}
          - id: pulse
            title: Pulse
            trigger: hourly
            questions:
              - {id: rating, kind: rating, text: "How is it going?", min: 4, max: 2}
          - id: good_fit
            title: Good fit?
            trigger: after_first_meeting
            questions:
              - id: fit
                kind: choice
                text: Good fit?
                options:
                  - {value: only, label: "Only one"}
              - id: why
                kind: choice
                text: Why?
                options:
                  - {value: chemistry, label: "Chemistry", flags: [rematch, shout]}
                  - {value: time, label: "Time"}
          - id: midpoint
            title: Midpoint
            anonymous: true
            trigger: midpoint
            questions:
              - id: fit
                kind: choice
                text: Still a good fit?
                options:
                  - {value: "yes", label: "Yes"}
                  - {value: "no", label: "No", flags: [rematch]}
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 2: required survey 'end_of_program' is missing",
        f"{path}, line 11: survey 'did_you_meet', question 'met', option: value 'yes' is already used on line 10",
        f"{path}, line 14: survey 'pulse': trigger 'hourly' is not one of "
        "after_intro, weekly, after_first_meeting, midpoint, end_of_program",
        f"{path}, line 16: survey 'pulse', question 'rating': rating max (2) must be higher than min (4)",
        f"{path}, line 21: survey 'good_fit', question 'fit': a choice question needs at least two options (found 1)",
        f"{path}, line 30: survey 'good_fit', question 'why': flags 'shout' is not one of rematch, notify_admins",
        f"{path}, line 32: survey 'midpoint': an anonymous survey cannot have flagged options: "
        "nobody could be rematched",
    ]


def test_missing_files_are_reported(library_dir: Path) -> None:
    (library_dir / "icebreakers.yaml").unlink()
    (library_dir / "tracks" / "peer.yaml").unlink()
    errors = load_errors(library_dir)
    assert errors == [
        f"{(library_dir / 'icebreakers.yaml').resolve()}: file not found",
        f"{(library_dir / 'tracks' / 'peer.yaml').resolve()}: required track file is missing",
    ]


def test_missing_directory(tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere").resolve()
    assert load_errors(missing) == [f"{missing}: content directory not found"]


def test_unknown_top_level_key_and_non_mapping_entry(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - "Just a question?"
        icebreaker: []
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 3: unknown key 'icebreaker' (expected icebreakers)",
    ]
    path = write("icebreakers.yaml", 'icebreakers:\n  - "Just a question?"\n')
    assert load_errors(library_dir) == [
        f"{path}, line 2: icebreaker (no id): expected a mapping of fields, got 'Just a question?'",
    ]


def test_options_only_on_this_or_that(library_dir: Path, write: WriteFile) -> None:
    path = write(
        "icebreakers.yaml",
        """
        icebreakers:
          - id: fun-001
            category: fun
            text: "Cats or dogs?"
            options: [Cats, Dogs]
        """,
    )
    assert load_errors(library_dir) == [
        f"{path}, line 5: icebreaker 'fun-001': options are only allowed on this_or_that questions"
    ]


def test_bad_slug(library_dir: Path, write: WriteFile) -> None:
    path = write("icebreakers.yaml", 'icebreakers:\n  - {id: "Fun 1", category: fun, text: "Hi?"}\n')
    (error,) = load_errors(library_dir)
    assert error.startswith(f"{path}, line 2: icebreaker 'Fun 1': id 'Fun 1' must be a lowercase slug")


def test_check_command_reports_problems(
    library_dir: Path, write: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.content.__main__ import main

    assert main([str(library_dir)]) == 0
    assert capsys.readouterr().out.startswith("OK: tracks mentoring (12 weeks), peer (12 weeks)")
    write("icebreakers.yaml", 'icebreakers:\n  - {id: fun-001, category: funny, text: "Hi?"}\n')
    assert main([str(library_dir)]) == 1  # the command re-reads files instead of using the cache
    err = capsys.readouterr().err
    assert "line 2: icebreaker 'fun-001': category 'funny'" in err
    assert err.rstrip().endswith("1 problem found.")
