"""Tandem's content library: mentoring and peer tracks, icebreakers and surveys.

Platform-neutral: the data lives in YAML under ``prompts/`` and this package only validates and
serves it, so the Slack and Teams adapters, the scheduler and the tests all see the same content.
"""

from .errors import ContentError, Issue
from .library import (
    DID_YOU_MEET,
    END_OF_PROGRAM,
    GOOD_FIT,
    MENTORING,
    MIDPOINT,
    PEER,
    PULSE,
    REQUIRED_SURVEYS,
    REQUIRED_TRACKS,
    ContentLibrary,
)
from .loader import ENV_VAR, clear_cache, default_root, load_library
from .models import (
    Icebreaker,
    IcebreakerCategory,
    OptionFlag,
    QuestionKind,
    RatingLabels,
    SurveyDefinition,
    SurveyOption,
    SurveyQuestion,
    SurveyTrigger,
    Track,
    TrackPrompt,
)
from .rotation import next_icebreaker

__all__ = [
    "DID_YOU_MEET",
    "END_OF_PROGRAM",
    "ENV_VAR",
    "GOOD_FIT",
    "MENTORING",
    "MIDPOINT",
    "PEER",
    "PULSE",
    "REQUIRED_SURVEYS",
    "REQUIRED_TRACKS",
    "ContentError",
    "ContentLibrary",
    "Icebreaker",
    "IcebreakerCategory",
    "Issue",
    "OptionFlag",
    "QuestionKind",
    "RatingLabels",
    "SurveyDefinition",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyTrigger",
    "Track",
    "TrackPrompt",
    "clear_cache",
    "default_root",
    "load_library",
    "next_icebreaker",
]
