"""Pydantic models for the content library: track prompts, icebreakers and surveys.

The models check everything that can be judged from one entry alone (required fields, allowed
values, rating ranges, choice options). Rules that compare entries with each other (unique ids,
contiguous weeks) are checked by the loader, which knows the line numbers to report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

SLUG_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"

Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SLUG_PATTERN)]
"""Stable identifier: lowercase letters and digits joined by '-' or '_'. Stored in the database."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Non-empty text shown to people; surrounding whitespace is dropped."""

Options = tuple[Text, ...]

RATING_MIN = 1
RATING_MAX = 5
TEXT_MAX_LENGTH = 3000  # the longest free-text input both Slack and Teams accept comfortably


class _Content(BaseModel):
    """Base: unknown keys are errors (they are usually typos) and loaded content is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TrackPrompt(_Content):
    """One week's conversation guide: a main question and one or two follow-ups."""

    week: int = Field(ge=1)
    id: Slug
    title: Text
    question: Text
    follow_ups: tuple[Text, ...]

    @field_validator("follow_ups")
    @classmethod
    def _one_or_two(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not 1 <= len(value) <= 2:
            raise ValueError(f"follow_ups must list one or two questions (found {len(value)})")
        return value


class Track(_Content):
    """An ordered programme of weekly prompts, e.g. ``mentoring`` or ``peer``."""

    kind: Slug
    title: Text
    description: str = ""
    prompts: tuple[TrackPrompt, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _weeks_run_in_order(self) -> Track:
        weeks = [prompt.week for prompt in self.prompts]
        if weeks != list(range(1, len(weeks) + 1)):
            raise ValueError(f"weeks must run 1..{len(weeks)} in order without gaps (found {weeks})")
        ids = [prompt.id for prompt in self.prompts]
        if len(set(ids)) != len(ids):
            raise ValueError("prompt ids must be unique within a track")
        return self

    @property
    def weeks(self) -> int:
        """Number of weeks before the track starts again from week 1."""
        return len(self.prompts)

    def prompt_for_week(self, week: int) -> TrackPrompt:
        """Prompt for a 1-based week; long-running pairs wrap around to the start of the track."""
        if week < 1:
            raise ValueError(f"week must be 1 or more (got {week})")
        return self.prompts[(week - 1) % len(self.prompts)]


class IcebreakerCategory(StrEnum):
    FUN = "fun"
    WORK_STYLE = "work_style"
    CAREER = "career"
    CULTURE = "culture"
    THIS_OR_THAT = "this_or_that"


class Icebreaker(_Content):
    """A light question to start a conversation; ``options`` only for this-or-that questions."""

    id: Slug
    category: IcebreakerCategory
    text: Text
    options: Options | None = None

    @field_validator("options")
    @classmethod
    def _options_fit_category(cls, value: Options | None, info: ValidationInfo) -> Options | None:
        # A field validator (not a model one) so the error points at the `options` line.
        if value is None:
            return value
        if info.data.get("category", IcebreakerCategory.THIS_OR_THAT) is not IcebreakerCategory.THIS_OR_THAT:
            raise ValueError("options are only allowed on this_or_that questions")
        if len(value) != 2:
            raise ValueError(f"options must list exactly two choices (found {len(value)})")
        if value[0].casefold() == value[1].casefold():
            raise ValueError("the two options must differ")
        return value


class SurveyTrigger(StrEnum):
    """When the scheduler sends a survey."""

    AFTER_INTRO = "after_intro"
    WEEKLY = "weekly"
    AFTER_FIRST_MEETING = "after_first_meeting"
    MIDPOINT = "midpoint"
    END_OF_PROGRAM = "end_of_program"


class QuestionKind(StrEnum):
    CHOICE = "choice"
    RATING = "rating"
    TEXT = "text"


class OptionFlag(StrEnum):
    """Side effects of picking an option; the bot acts on flags, never on option wording."""

    REMATCH = "rematch"
    NOTIFY_ADMINS = "notify_admins"


class SurveyOption(_Content):
    value: Slug
    label: Text
    flags: tuple[OptionFlag, ...] = ()

    def has_flag(self, flag: OptionFlag | str) -> bool:
        return OptionFlag(flag) in self.flags


class RatingLabels(_Content):
    """Words shown at the two ends of a rating scale, e.g. "Not yet" ... "Very well"."""

    low: Text
    high: Text


_KIND_ONLY_FIELDS = {
    QuestionKind.CHOICE: {"options"},
    QuestionKind.RATING: {"min", "max", "labels"},
    QuestionKind.TEXT: {"placeholder", "max_length"},
}


class SurveyQuestion(_Content):
    """One question of a survey. Which optional fields apply depends on ``kind``."""

    id: Slug
    kind: QuestionKind
    text: Text
    options: tuple[SurveyOption, ...] = ()
    min: int = Field(default=RATING_MIN, ge=RATING_MIN, le=RATING_MAX)
    max: int = Field(default=RATING_MAX, ge=RATING_MIN, le=RATING_MAX)
    labels: RatingLabels | None = None
    placeholder: Text | None = None
    max_length: int = Field(default=TEXT_MAX_LENGTH, ge=1, le=TEXT_MAX_LENGTH)
    required: bool = True  # free-text questions are often best left optional

    @field_validator("max")
    @classmethod
    def _max_above_min(cls, value: int, info: ValidationInfo) -> int:
        # Checked on `max` so the error points at the line to change.
        low = info.data.get("min", RATING_MIN)
        if value <= low:
            raise ValueError(f"rating max ({value}) must be higher than min ({low})")
        return value

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> SurveyQuestion:
        for kind, fields in _KIND_ONLY_FIELDS.items():
            misplaced = sorted(fields & self.model_fields_set) if kind is not self.kind else []
            if misplaced:
                raise ValueError(f"{', '.join(misplaced)} only apply to {kind.value} questions")
        if self.kind is QuestionKind.CHOICE:
            if len(self.options) < 2:
                raise ValueError(f"a choice question needs at least two options (found {len(self.options)})")
            values = [option.value for option in self.options]
            duplicates = sorted({value for value in values if values.count(value) > 1})
            if duplicates:
                raise ValueError(f"option values must be unique (repeated: {', '.join(duplicates)})")
        if self.min >= self.max:  # only reachable when `max` was left at its default
            raise ValueError(f"rating min ({self.min}) must be lower than max ({self.max})")
        return self

    @property
    def scale(self) -> range:
        """The rating values offered, inclusive of both ends."""
        return range(self.min, self.max + 1)

    def option(self, value: str) -> SurveyOption:
        for option in self.options:
            if option.value == value:
                return option
        raise KeyError(f"question '{self.id}' has no option '{value}'")


class SurveyDefinition(_Content):
    """A short survey sent to participants at a point in the programme."""

    id: Slug
    title: Text
    intro: Text | None = None
    anonymous: bool = False
    trigger: SurveyTrigger
    questions: tuple[SurveyQuestion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SurveyDefinition:
        ids = [question.id for question in self.questions]
        duplicates = sorted({qid for qid in ids if ids.count(qid) > 1})
        if duplicates:
            repeated = ", ".join(duplicates)
            raise ValueError(f"question ids must be unique within a survey (repeated: {repeated})")
        if self.anonymous and any(option.flags for question in self.questions for option in question.options):
            # Acting on an answer (rematching, telling admins) needs to know who gave it.
            raise ValueError("an anonymous survey cannot have flagged options: nobody could be rematched")
        return self

    def question(self, question_id: str) -> SurveyQuestion:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(f"survey '{self.id}' has no question '{question_id}'")
