"""The loaded content library and the lookups the bot needs from it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from .models import Icebreaker, IcebreakerCategory, SurveyDefinition, Track, TrackPrompt

MENTORING = "mentoring"
PEER = "peer"
REQUIRED_TRACKS = (MENTORING, PEER)

DID_YOU_MEET = "did_you_meet"
PULSE = "pulse"
GOOD_FIT = "good_fit"
MIDPOINT = "midpoint"
END_OF_PROGRAM = "end_of_program"
REQUIRED_SURVEYS = (DID_YOU_MEET, PULSE, GOOD_FIT, MIDPOINT, END_OF_PROGRAM)


class ContentLibrary(BaseModel):
    """Everything under ``prompts/``, validated. Shared and cached, so it is immutable."""

    model_config = ConfigDict(frozen=True)

    tracks: Mapping[str, Track]
    icebreakers: tuple[Icebreaker, ...]
    surveys: Mapping[str, SurveyDefinition]

    @field_validator("tracks", "surveys", mode="after")
    @classmethod
    def _read_only(cls, value: Mapping[str, Any]) -> Mapping[str, Any]:
        # One cached instance is shared by the whole process: nobody may add or swap entries.
        return MappingProxyType(dict(value))

    @model_validator(mode="after")
    def _consistent(self) -> ContentLibrary:
        for kind, track in self.tracks.items():
            if kind != track.kind:
                raise ValueError(f"track stored under '{kind}' says its kind is '{track.kind}'")
        for survey_id, survey in self.surveys.items():
            if survey_id != survey.id:
                raise ValueError(f"survey stored under '{survey_id}' has id '{survey.id}'")
        ids = [item.id for item in self.icebreakers]
        if len(set(ids)) != len(ids):
            raise ValueError("icebreaker ids must be unique")
        return self

    def track(self, kind: str) -> Track:
        try:
            return self.tracks[kind]
        except KeyError:
            known = ", ".join(sorted(self.tracks)) or "none"
            raise KeyError(f"no track '{kind}' (known tracks: {known})") from None

    def prompt_for_week(self, kind: str, week: int) -> TrackPrompt:
        """Prompt for a pair's 1-based week; past the last week the track starts again."""
        return self.track(kind).prompt_for_week(week)

    def survey(self, survey_id: str) -> SurveyDefinition:
        try:
            return self.surveys[survey_id]
        except KeyError:
            known = ", ".join(sorted(self.surveys)) or "none"
            raise KeyError(f"no survey '{survey_id}' (known surveys: {known})") from None

    def icebreakers_in(self, category: IcebreakerCategory | str) -> tuple[Icebreaker, ...]:
        """Icebreakers of one category, e.g. for a channel that only wants this-or-that questions."""
        wanted = IcebreakerCategory(category)
        return tuple(item for item in self.icebreakers if item.category is wanted)
