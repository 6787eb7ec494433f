"""The shipped library loads and has the shape the bot relies on."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.content import (
    DID_YOU_MEET,
    END_OF_PROGRAM,
    GOOD_FIT,
    MIDPOINT,
    PULSE,
    REQUIRED_SURVEYS,
    ContentLibrary,
    IcebreakerCategory,
    OptionFlag,
    QuestionKind,
    SurveyTrigger,
    clear_cache,
    default_root,
    load_library,
)

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "bot" / "content"


@pytest.fixture(scope="module")
def library() -> ContentLibrary:
    return load_library()


def test_default_root_is_the_prompts_directory_shipped_in_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANDEM_PROMPTS_DIR", raising=False)
    root = default_root()
    assert root == Path(__file__).resolve().parents[2] / "bot" / "content" / "prompts"
    assert (root / "icebreakers.yaml").is_file()


def test_every_library_file_loads(library: ContentLibrary) -> None:
    root = default_root()
    files = sorted(path.relative_to(root).as_posix() for path in root.rglob("*.yaml"))
    assert files == ["icebreakers.yaml", "surveys.yaml", "tracks/mentoring.yaml", "tracks/peer.yaml"]
    assert set(library.tracks) == {"mentoring", "peer"}


def test_icebreaker_bank_is_large_and_balanced(library: ContentLibrary) -> None:
    assert len(library.icebreakers) >= 150
    per_category = Counter(item.category for item in library.icebreakers)
    assert set(per_category) == set(IcebreakerCategory)
    assert min(per_category.values()) >= 25, per_category
    assert len({item.id for item in library.icebreakers}) == len(library.icebreakers)
    texts = [item.text.casefold() for item in library.icebreakers]
    assert len(set(texts)) == len(texts), "the same question appears twice"


def test_icebreakers_read_as_questions(library: ContentLibrary) -> None:
    for item in library.icebreakers:
        assert item.text.endswith("?"), item.id
        assert len(item.text) <= 120, item.id


def test_this_or_that_questions_offer_their_two_options(library: ContentLibrary) -> None:
    this_or_that = library.icebreakers_in("this_or_that")
    assert len(this_or_that) >= 25
    for item in this_or_that:
        assert item.options is not None and len(item.options) == 2, item.id
        first, second = item.options
        assert item.text.casefold() == f"{first} or {second}?".casefold(), item.id


def test_mentoring_track_has_twelve_weeks_in_the_planned_order(library: ContentLibrary) -> None:
    track = library.track("mentoring")
    assert [prompt.week for prompt in track.prompts] == list(range(1, 13))
    ids = [prompt.id for prompt in track.prompts]
    planned = [
        "expectations",
        "goals",
        "obstacles",
        "boundaries",
        "accountability",
        "feedback",
        "midpoint-review",
        "celebrating-progress",
        "whats-next",
    ]
    assert [prompt_id for prompt_id in ids if prompt_id in planned] == planned
    assert ids[-1] == "whats-next"
    assert ids.index("midpoint-review") + 1 in (6, 7)


@pytest.mark.parametrize("kind", ["mentoring", "peer"])
def test_track_prompts_are_complete(library: ContentLibrary, kind: str) -> None:
    track = library.track(kind)
    assert track.weeks == 12
    for prompt in track.prompts:
        assert prompt.question.endswith("?"), prompt.id
        assert 1 <= len(prompt.follow_ups) <= 2, prompt.id


def test_prompt_for_week_wraps_around(library: ContentLibrary) -> None:
    assert library.prompt_for_week("mentoring", 1).id == "expectations"
    assert library.prompt_for_week("mentoring", 12).id == "whats-next"
    assert library.prompt_for_week("mentoring", 13) == library.prompt_for_week("mentoring", 1)
    assert library.prompt_for_week("peer", 26) == library.prompt_for_week("peer", 2)
    with pytest.raises(ValueError):
        library.prompt_for_week("peer", 0)


def test_unknown_track_and_survey_name_what_exists(library: ContentLibrary) -> None:
    with pytest.raises(KeyError, match="mentoring, peer"):
        library.track("book-club")
    with pytest.raises(KeyError, match="did_you_meet"):
        library.survey("nope")


def test_all_required_surveys_exist_with_free_text_where_needed(library: ContentLibrary) -> None:
    assert set(REQUIRED_SURVEYS) <= set(library.surveys)
    for survey_id in (MIDPOINT, END_OF_PROGRAM):
        kinds = {question.kind for question in library.survey(survey_id).questions}
        assert QuestionKind.TEXT in kinds, survey_id


def test_did_you_meet_offers_yes_not_yet_and_a_flagged_cant(library: ContentLibrary) -> None:
    survey = library.survey(DID_YOU_MEET)
    question = survey.questions[0]
    assert question.kind is QuestionKind.CHOICE
    assert [option.value for option in question.options] == ["yes", "not_yet", "cant_meet"]
    flagged = [option for option in question.options if option.flags]
    assert [option.value for option in flagged] == ["cant_meet"]
    assert set(flagged[0].flags) == {OptionFlag.REMATCH, OptionFlag.NOTIFY_ADMINS}


def test_pulse_is_a_one_to_five_rating(library: ContentLibrary) -> None:
    survey = library.survey(PULSE)
    assert survey.trigger is SurveyTrigger.WEEKLY
    rating = survey.questions[0]
    assert rating.kind is QuestionKind.RATING
    assert list(rating.scale) == [1, 2, 3, 4, 5]
    assert rating.labels is not None


def test_good_fit_flags_a_poor_fit_for_rematch(library: ContentLibrary) -> None:
    survey = library.survey(GOOD_FIT)
    assert survey.trigger is SurveyTrigger.AFTER_FIRST_MEETING
    question = survey.questions[0]
    assert question.kind is QuestionKind.CHOICE
    not_a_fit = question.option("not_a_fit")
    assert not_a_fit.has_flag("rematch") and not_a_fit.has_flag(OptionFlag.NOTIFY_ADMINS)
    assert [option.value for option in question.options if option.flags] == ["not_a_fit"]


def test_survey_triggers_match_their_purpose(library: ContentLibrary) -> None:
    assert library.survey(DID_YOU_MEET).trigger is SurveyTrigger.AFTER_INTRO
    assert library.survey(MIDPOINT).trigger is SurveyTrigger.MIDPOINT
    assert library.survey(END_OF_PROGRAM).trigger is SurveyTrigger.END_OF_PROGRAM


def test_loads_are_cached_per_directory(library_dir: Path) -> None:
    first = load_library(library_dir)
    assert load_library(library_dir / ".." / "prompts") is first
    clear_cache()
    assert load_library(library_dir) is not first


def test_env_var_overrides_the_default_root(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (library_dir / "tracks" / "book-club.yaml").write_text(
        "title: Book club\nprompts:\n"
        '  - {week: 1, id: first-book, title: First, question: "Why?", follow_ups: ["How?"]}\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TANDEM_PROMPTS_DIR", str(library_dir))
    assert load_library().track("book-club").prompts[0].id == "first-book"


def test_library_is_immutable(library: ContentLibrary) -> None:
    with pytest.raises((TypeError, ValueError)):
        library.icebreakers[0].text = "changed"  # type: ignore[misc]


def test_core_package_stays_platform_neutral() -> None:
    forbidden = ("storage", "adapters", "tandem", "slack_bolt", "slack_sdk", "botbuilder", "botframework")
    for source in PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{source.name} imports {name}"


def test_library_mappings_are_read_only(library: ContentLibrary) -> None:
    with pytest.raises(TypeError):
        library.surveys["pulse"] = library.survey("good_fit")  # type: ignore[index]


@pytest.mark.parametrize("kind", ["mentoring", "peer"])
def test_follow_ups_are_questions(library: ContentLibrary, kind: str) -> None:
    for prompt in library.track(kind).prompts:
        for follow_up in prompt.follow_ups:
            assert follow_up.endswith("?"), (prompt.id, follow_up)


AVOIDED_TOPICS = re.compile(
    r"\b(alcohol\w*|beers?|wines?|cocktails?|drunk|hangover|church\w*|pray\w*|religio\w*|god|"
    r"politic\w*|elections?|vot(e|ing)|christmas|easter|ramadan|diwali|thanksgiving|hanukkah)\b",
    re.IGNORECASE,
)


def test_shipped_text_stays_clear_of_topics_we_avoid() -> None:
    for path in default_root().rglob("*.yaml"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = AVOIDED_TOPICS.search(line)
            assert match is None, f"{path.name}, line {number}: '{match.group(0) if match else ''}'"
