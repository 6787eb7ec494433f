"""Load and validate the content library from YAML files.

Layout under the root (see docs/content.md)::

    icebreakers.yaml      icebreakers: [...]
    surveys.yaml          surveys: [...]
    tracks/<kind>.yaml    title, description, prompts: [...]   (mentoring and peer are required)

The default root is the project's top-level ``prompts/`` folder. It reaches this package as
``bot/content/prompts`` (a link in a checkout, real files in a wheel), found with ``importlib.resources``
so it works the same from a checkout and from an installed wheel.
Deployments that keep their own content elsewhere set ``TANDEM_PROMPTS_DIR``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ContentError, Issue
from .library import REQUIRED_SURVEYS, REQUIRED_TRACKS, ContentLibrary
from .messages import describe_error, root_causes
from .models import Icebreaker, SurveyDefinition, Track, TrackPrompt
from .yaml_lines import LineDict, LineList, YamlSyntaxError, line_of, parse_yaml

ENV_VAR = "TANDEM_PROMPTS_DIR"
ICEBREAKERS_FILE = "icebreakers.yaml"
SURVEYS_FILE = "surveys.yaml"
TRACKS_DIR = "tracks"

ModelT = TypeVar("ModelT", bound=BaseModel)


def default_root() -> Path:
    """``$TANDEM_PROMPTS_DIR`` if set, else the ``prompts/`` shipped with the package."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    # pip installs packages as plain folders, so the resource is a real directory on disk
    return Path(str(resources.files(__package__ or "bot.content") / "prompts"))


def load_library(root: Path | None = None) -> ContentLibrary:
    """Load, validate and cache the library; raise ContentError naming file and line on problems.

    Results are cached per resolved directory, so edits on disk need ``clear_cache()`` (or a
    restart) to be seen.
    """
    if root is None and not os.environ.get(ENV_VAR, "").strip():
        return _load_cached(_shipped_root())  # the hot path: no path resolving (file system calls) per call
    return _load_cached((root if root is not None else default_root()).resolve())


@functools.cache
def _shipped_root() -> Path:
    return default_root().resolve()


def clear_cache() -> None:
    """Forget cached libraries, e.g. after editing files in a running process or in tests."""
    _load_cached.cache_clear()


@functools.lru_cache(maxsize=8)
def _load_cached(root: Path) -> ContentLibrary:
    issues: list[Issue] = []
    if not root.is_dir():
        raise ContentError([Issue(_display(root), None, "content directory not found")])
    icebreakers = _FileReader(root / ICEBREAKERS_FILE, issues).read_icebreakers()
    surveys = _FileReader(root / SURVEYS_FILE, issues).read_surveys()
    tracks = _read_tracks(root, issues)
    if issues:
        raise ContentError(_in_reading_order(issues))
    return ContentLibrary(
        tracks=tracks,
        icebreakers=tuple(icebreakers),
        surveys={survey.id: survey for survey in surveys},
    )


def _read_tracks(root: Path, issues: list[Issue]) -> dict[str, Track]:
    tracks_dir = root / TRACKS_DIR
    tracks: dict[str, Track] = {}
    files = sorted(tracks_dir.glob("*.yaml")) if tracks_dir.is_dir() else []
    found = {path.stem for path in files}
    for kind in REQUIRED_TRACKS:
        if kind not in found:
            missing = _display(tracks_dir / f"{kind}.yaml")
            issues.append(Issue(missing, None, "required track file is missing"))
    for path in files:
        track = _FileReader(path, issues).read_track(path.stem)
        if track is not None:
            tracks[track.kind] = track
    return tracks


def _in_reading_order(issues: list[Issue]) -> list[Issue]:
    """Keep files in load order but list each file's problems top to bottom."""
    file_rank: dict[str, int] = {}
    for issue in issues:
        file_rank.setdefault(issue.path, len(file_rank))
    return sorted(issues, key=lambda issue: (file_rank[issue.path], issue.line or 0))


def _display(path: Path) -> str:
    """Path as an editor would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _FileReader:
    """Reads one file, appending an Issue for every problem instead of stopping at the first."""

    def __init__(self, path: Path, issues: list[Issue]) -> None:
        self.path = path
        self.name = _display(path)
        self.issues = issues

    def report(self, line: int | None, message: str) -> None:
        self.issues.append(Issue(self.name, line, message))

    # -- files -------------------------------------------------------------------------------

    def read_icebreakers(self) -> list[Icebreaker]:
        entries = self._entries("icebreakers", allowed=frozenset({"icebreakers"}))
        if entries is None:
            return []
        items: list[Icebreaker] = []
        for index, raw in enumerate(entries):
            label = f"icebreaker {_quoted_id(raw, 'id')}"
            item = self._validate(Icebreaker, raw, label, entries.item_lines[index])
            if item is not None:
                items.append(item)
        self._check_unique(entries, "id", lambda raw: f"icebreaker {_quoted_id(raw, 'id')}")
        return items

    def read_surveys(self) -> list[SurveyDefinition]:
        entries = self._entries("surveys", allowed=frozenset({"surveys"}))
        if entries is None:
            return []
        surveys: list[SurveyDefinition] = []
        for index, raw in enumerate(entries):
            label = f"survey {_quoted_id(raw, 'id')}"
            if not self._survey_parts_unique(raw, label):
                continue  # the model would repeat the same complaint with a vaguer line
            line = entries.item_lines[index]
            survey = self._validate(SurveyDefinition, raw, label, line, sublabel=_question_label(raw))
            if survey is not None:
                surveys.append(survey)
        self._check_unique(entries, "id", lambda raw: f"survey {_quoted_id(raw, 'id')}")
        present = {raw.get("id") for raw in entries if isinstance(raw, dict)}
        for survey_id in REQUIRED_SURVEYS:
            if survey_id not in present:
                self.report(getattr(entries, "line", None), f"required survey '{survey_id}' is missing")
        return surveys

    def read_track(self, kind: str) -> Track | None:
        data = self._document()
        if data is None:
            return None
        allowed = frozenset({"title", "description", "prompts"})
        if not self._check_keys(data, allowed, required=frozenset({"title", "prompts"})):
            return None
        entries = data.get("prompts")
        if not isinstance(entries, LineList):
            self.report(data.key_lines.get("prompts", data.line), "'prompts' must be a list of entries")
            return None

        def label_of(raw: Any) -> str:
            return f"{kind} track, week {_quoted_id(raw, 'week', quote=False)}"

        before = len(self.issues)
        prompts = [
            self._validate(TrackPrompt, raw, label_of(raw), entries.item_lines[index])
            for index, raw in enumerate(entries)
        ]
        self._check_unique(entries, "id", label_of)
        self._check_weeks(entries, kind)
        if not entries:
            self.report(data.key_lines.get("prompts", data.line), f"{kind} track: needs at least one prompt")
        if len(self.issues) != before:
            return None  # already reported with exact lines; the Track model would only repeat it
        valid = [prompt for prompt in prompts if prompt is not None]
        raw_track = _copy_lines(data, {key: data[key] for key in ("title", "description") if key in data})
        raw_track.update(kind=kind, prompts=tuple(valid))
        return self._validate(Track, raw_track, f"{kind} track", data.line)

    # -- structure ---------------------------------------------------------------------------

    def _document(self) -> LineDict | None:
        if not self.path.is_file():
            self.report(None, "file not found")
            return None
        try:
            data = parse_yaml(self.path)
        except YamlSyntaxError as exc:
            self.report(exc.line, exc.message)
            return None
        if not isinstance(data, LineDict):
            self.report(getattr(data, "line", 1), "expected a mapping at the top of the file")
            return None
        return data

    def _entries(self, key: str, allowed: frozenset[str]) -> LineList | None:
        """The list under ``key``, or None when the file is too broken to look inside."""
        data = self._document()
        if data is None or not self._check_keys(data, allowed, required=frozenset({key})):
            return None
        entries = data.get(key)
        if isinstance(entries, LineList):
            return entries
        self.report(data.key_lines.get(key, data.line), f"'{key}' must be a list of entries")
        return None

    def _check_keys(self, data: LineDict, allowed: frozenset[str], required: frozenset[str]) -> bool:
        ok = True
        for key in data:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                line = data.key_lines.get(str(key), data.line)
                self.report(line, f"unknown key '{key}' (expected {expected})")
                ok = False
        for key in sorted(required - set(data)):
            self.report(data.line, f"missing required key '{key}'")
            ok = False
        return ok

    # -- validation --------------------------------------------------------------------------

    def _validate(
        self,
        model: type[ModelT],
        raw: Any,
        label: str,
        line: int,
        sublabel: Callable[[tuple[int | str, ...]], str] | None = None,
    ) -> ModelT | None:
        """Validate one entry starting at ``line``; report each error at the most precise line."""
        if not isinstance(raw, dict):
            self.report(line, f"{label}: expected a mapping of fields, got {raw!r}")
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for error in root_causes(exc.errors()):
                loc = tuple(error["loc"])
                where = label + (sublabel(loc) if sublabel else "")
                self.report(line_of(raw, loc) or line, f"{where}: {describe_error(error)}")
            return None

    def _check_unique(self, entries: LineList, key: str, label_of: Callable[[Any], str]) -> None:
        first_line: dict[Any, int] = {}
        for raw in entries:
            if not isinstance(raw, LineDict) or key not in raw:
                continue
            value = raw[key]
            line = raw.key_lines.get(key, raw.line)
            try:
                previous = first_line.get(value)
            except TypeError:  # unhashable junk; the model reports its type
                continue
            if previous is None:
                first_line[value] = line
            else:
                self.report(line, f"{label_of(raw)}: {key} '{value}' is already used on line {previous}")

    def _check_weeks(self, entries: LineList, kind: str) -> None:
        expected = 1
        seen: dict[int, int] = {}
        for raw in entries:
            week = raw.get("week") if isinstance(raw, LineDict) else None
            if not isinstance(week, int) or isinstance(week, bool):
                continue  # the model reports missing or non-numeric weeks
            line = raw.key_lines.get("week", raw.line)
            if week in seen:
                self.report(line, f"{kind} track: week {week} appears twice (first on line {seen[week]})")
                continue
            seen[week] = line
            if week != expected:
                self.report(
                    line,
                    f"{kind} track: expected week {expected} here but found week {week}; "
                    "weeks must run 1, 2, 3, ... in order without gaps",
                )
            expected = week + 1

    def _survey_parts_unique(self, raw: Any, label: str) -> bool:
        """Check question ids and option values here, where the exact lines are known."""
        before = len(self.issues)
        questions = raw.get("questions") if isinstance(raw, LineDict) else None
        if not isinstance(questions, LineList):
            return True
        self._check_unique(questions, "id", lambda q: f"{label}, question {_quoted_id(q, 'id')}")
        for question in questions:
            options = question.get("options") if isinstance(question, LineDict) else None
            if isinstance(options, LineList):
                q_label = f"{label}, question {_quoted_id(question, 'id')}"
                self._check_unique(options, "value", _fixed_label(f"{q_label}, option"))
        return len(self.issues) == before


def _fixed_label(text: str) -> Callable[[Any], str]:
    """A label that ignores the entry: every option of a question is named after its question."""
    return lambda _entry: text


def _copy_lines(source: LineDict, values: dict[str, Any]) -> LineDict:
    """A new LineDict with ``values`` that reports errors at ``source``'s lines."""
    copy = LineDict(values)
    copy.line = source.line
    copy.key_lines = dict(source.key_lines)
    return copy


def _quoted_id(raw: Any, key: str, *, quote: bool = True) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is None:
        return "(no id)" if key == "id" else "?"
    return f"'{value}'" if quote else str(value)


def _question_label(raw: Any) -> Callable[[tuple[int | str, ...]], str]:
    """Add ", question 'x'" to survey error labels when the error sits inside a question."""

    def label(loc: tuple[int | str, ...]) -> str:
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            questions = raw.get("questions")
            if isinstance(questions, list) and 0 <= loc[1] < len(questions):
                return f", question {_quoted_id(questions[loc[1]], 'id')}"
        return ""

    return label
