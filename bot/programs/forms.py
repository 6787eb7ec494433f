"""The forms the core opens: a participant's profile and a program's settings."""

from __future__ import annotations

from typing import Any

from bot.kernel.messages import Form, Option, SelectInput, TextInput
from bot.kernel.timeutil import WEEKDAYS, BadTime, is_zone, parse_hhmm
from bot.programs.membership import MAX_GROUP_SIZE, split_list
from storage.enums import Cadence, Enrolment, ProgramKind, Role
from storage.tables import Membership, Program, User

PROFILE = "profile"
PROGRAM_CREATE = "program_create"
PROGRAM_SETTINGS = "program_settings"


def profile_form(program: Program, user: User, membership: Membership) -> Form:
    fields: list = []
    if program.kind == ProgramKind.MENTORING.value:
        fields.append(
            SelectInput(
                field_id="role",
                label="Your role",
                initial=(membership.role,),
                options=(
                    Option(label="Mentor: I'd like to help someone grow", value=Role.MENTOR.value),
                    Option(label="Mentee: I'd like guidance", value=Role.MENTEE.value),
                ),
            )
        )
        fields.append(
            TextInput(
                field_id="capacity",
                label="Mentees you can take (mentors)",
                initial=str(membership.capacity),
                optional=True,
                max_length=2,
            )
        )
    fields += [
        TextInput(
            field_id="skills_offered",
            label="Skills you can share",
            placeholder="Python, public speaking",
            initial=", ".join(membership.skills_offered),
            optional=True,
        ),
        TextInput(
            field_id="skills_wanted",
            label="Skills you'd like to build",
            placeholder="SQL, negotiation",
            initial=", ".join(membership.skills_wanted),
            optional=True,
        ),
        TextInput(
            field_id="interests",
            label="Interests",
            placeholder="climbing, chess, baking",
            initial=", ".join(membership.interests),
            optional=True,
        ),
        TextInput(
            field_id="department",
            label="Team or department",
            initial=membership.department or "",
            optional=True,
            max_length=120,
        ),
        TextInput(
            field_id="timezone", label="Time zone", placeholder="Europe/Berlin", initial=user.timezone, max_length=64
        ),
        TextInput(
            field_id="work_start",
            label="Working hours start",
            placeholder="09:00",
            initial=user.work_start,
            max_length=5,
        ),
        TextInput(
            field_id="work_end", label="Working hours end", placeholder="17:00", initial=user.work_end, max_length=5
        ),
        SelectInput(
            field_id="shoutouts",
            label="Celebrate our milestones in the channel?",
            initial=("yes" if user.shoutouts else "no",),
            options=(Option(label="Yes", value="yes"), Option(label="No, keep it private", value="no")),
        ),
    ]
    return Form(
        form_id=PROFILE,
        title="Your profile",
        submit_label="Save",
        state=str(program.id),
        intro=f"This helps me find good matches in {program.name}.",
        fields=tuple(fields),
    )


def _one(values: dict[str, Any], key: str) -> str:
    raw = values.get(key)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return str(raw).strip() if raw is not None else ""


def _allowed_roles(program: Program) -> set[str]:
    """Mentoring programs have mentors and mentees; every other kind only peers."""
    if program.kind == ProgramKind.MENTORING.value:
        return {Role.MENTOR.value, Role.MENTEE.value}
    return {Role.PEER.value}


def _profile_hours(user: User, values: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Working hours as HH:MM (blank keeps the current ones); a bad time goes into ``errors``."""
    hours = {}
    for key in ("work_start", "work_end"):
        text = _one(values, key) or getattr(user, key)
        try:
            hours[key] = parse_hhmm(text).strftime("%H:%M")
        except BadTime:
            errors[key] = "Use a 24-hour time like 09:00."
    if not errors and hours["work_start"] == hours["work_end"]:
        errors["work_end"] = "Working hours must not start and end at the same time."
    return hours


def _save_profile(
    user: User, membership: Membership, values: dict[str, Any], role: str, capacity: int, tz: str, hours: dict[str, str]
) -> None:
    """Write the checked values; only called once nothing was wrong, so a bad form changes nothing."""
    membership.role = role
    membership.capacity = capacity
    membership.skills_offered = split_list(_one(values, "skills_offered"))
    membership.skills_wanted = split_list(_one(values, "skills_wanted"))
    membership.interests = split_list(_one(values, "interests"))
    membership.department = _one(values, "department")[:120] or None
    if tz != user.timezone:
        user.timezone_from_profile = True
    user.timezone = tz
    user.work_start, user.work_end = hours["work_start"], hours["work_end"]
    shout = _one(values, "shoutouts")
    if shout in ("yes", "no"):
        user.shoutouts = shout == "yes"


def apply_profile(program: Program, user: User, membership: Membership, values: dict[str, Any]) -> dict[str, str]:
    """Validate everything first, then change; returns field errors and changes nothing if any."""
    errors: dict[str, str] = {}
    role = _one(values, "role") or membership.role
    if role not in _allowed_roles(program):
        errors["role"] = "Pick mentor or mentee."
    capacity_text = _one(values, "capacity") or str(membership.capacity)
    if not capacity_text.isdigit() or not 1 <= int(capacity_text) <= 10:
        errors["capacity"] = "A whole number from 1 to 10."
    tz = _one(values, "timezone") or user.timezone
    if not is_zone(tz):
        shown = tz if len(tz) <= 40 else tz[:40] + "…"
        errors["timezone"] = f"'{shown}' is not a time zone I know. Use a name like Europe/Berlin."
    hours = _profile_hours(user, values, errors)
    if errors:
        return errors
    _save_profile(user, membership, values, role, int(capacity_text), tz, hours)
    return {}


def _program_initials(default_tz: str, channel_id: str | None, p: Program | None) -> dict[str, str]:
    """The form's starting values: the program's settings when editing, sensible defaults when creating."""
    if p is not None:
        return {
            "name": p.name,
            "channel": p.channel_id,
            "kind": p.kind,
            "cadence": p.cadence,
            "weekday": WEEKDAYS[p.intro_weekday],
            "time": p.intro_time,
            "timezone": p.timezone,
            "group_size": str(p.group_size),
            "enrolment": p.enrolment,
            "meeting_minutes": str(p.meeting_minutes),
            "track_weeks": str(p.track_weeks),
            "reminder_minutes": str(p.reminder_minutes),
            "holidays": ", ".join(p.holidays),
        }
    return {
        "name": "",
        "channel": channel_id or "",
        "kind": ProgramKind.PEER.value,
        "cadence": "weekly",
        "weekday": WEEKDAYS[0],
        "time": "10:00",
        "timezone": default_tz,
        "group_size": "2",
        "enrolment": Enrolment.OPT_IN.value,
        "meeting_minutes": "30",
        "track_weeks": "12",
        "reminder_minutes": "60",
        "holidays": "",
    }


def program_form(default_tz: str, channel_id: str | None = None, program: Program | None = None) -> Form:
    """The create or settings form of a program, filled in with its current values."""
    p = program
    v = _program_initials(default_tz, channel_id, p)
    return Form(
        form_id=PROGRAM_SETTINGS if p else PROGRAM_CREATE,
        title="Program settings" if p else "New program",
        submit_label="Save" if p else "Create",
        state=str(p.id) if p else "",
        intro="People are only enrolled with their consent: opt-in asks first; opt-out tells them and offers a "
        "leave button.",
        fields=(
            TextInput(
                field_id="name",
                label="Name",
                initial=v["name"],
                placeholder="Coffee chats",
                optional=True,
                max_length=200,
            ),
            TextInput(
                field_id="channel",
                label="Channel (id or name)",
                initial=v["channel"],
                max_length=128,
            ),
            SelectInput(
                field_id="kind",
                label="Kind",
                initial=(v["kind"],),
                options=(
                    Option(label="Peer coffee chats", value=ProgramKind.PEER.value),
                    Option(label="Mentoring", value=ProgramKind.MENTORING.value),
                ),
            ),
            SelectInput(
                field_id="cadence",
                label="New matches",
                initial=(v["cadence"],),
                options=tuple(Option(label=c.value.capitalize(), value=c.value) for c in Cadence),
            ),
            SelectInput(
                field_id="weekday",
                label="Intro day",
                initial=(v["weekday"],),
                options=tuple(Option(label=d.capitalize(), value=d) for d in WEEKDAYS[:5]),
            ),
            TextInput(field_id="time", label="Intro time (24 h)", initial=v["time"], max_length=5),
            TextInput(field_id="timezone", label="Program time zone", initial=v["timezone"], max_length=64),
            SelectInput(
                field_id="group_size",
                label="Group size",
                initial=(v["group_size"],),
                options=tuple(Option(label=str(n), value=str(n)) for n in range(2, MAX_GROUP_SIZE + 1)),
            ),
            SelectInput(
                field_id="enrolment",
                label="Enrolment",
                initial=(v["enrolment"],),
                options=(
                    Option(label="Opt-in: people join themselves", value=Enrolment.OPT_IN.value),
                    Option(label="Opt-out: channel members are in, and can leave", value=Enrolment.OPT_OUT.value),
                ),
            ),
            TextInput(
                field_id="meeting_minutes",
                label="Coffee-chat length (minutes)",
                initial=v["meeting_minutes"],
                max_length=3,
            ),
            TextInput(
                field_id="reminder_minutes",
                label="Remind people this many minutes before a chat",
                initial=v["reminder_minutes"],
                max_length=4,
            ),
            TextInput(
                field_id="track_weeks",
                label="Mentoring: weeks before a pair wraps up",
                initial=v["track_weeks"],
                max_length=2,
            ),
            TextInput(
                field_id="holidays",
                label="Holidays: no chats offered on these dates",
                placeholder="2026-12-24, 2026-12-25",
                initial=v["holidays"],
                optional=True,
                max_length=3000,
            ),
        ),
    )
