"""The forms the core opens: a participant's profile and a program's settings."""

from __future__ import annotations

from typing import Any

from bot.chat import visibility
from bot.chat.visibility import with_line
from bot.kernel.messages import Form, Option, SelectInput, TextInput
from bot.kernel.timeutil import WEEKDAYS, BadTime, parse_hhmm
from bot.kernel.zones import zone_problem
from bot.programs.membership import MAX_GROUP_SIZE, min_shared_hours, split_list
from bot.programs.quiet_profile import DAY_FIELD, WEEKEND_FIELD, parse_quiet, quiet_fields
from bot.programs.voice import MAX_ABOUT, MAX_ASK
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
            field_id="about_me",
            label="About me (your matches see this)",
            placeholder="I build data pipelines and bake bread on weekends.",
            initial=user.about_me or "",
            multiline=True,
            optional=True,
            max_length=MAX_ABOUT,
        ),
        TextInput(
            field_id="ask_me_about",
            label="Ask me about",
            placeholder="climbing, moving to Berlin, Rust",
            initial=user.ask_me_about or "",
            optional=True,
            max_length=MAX_ASK,
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
        *quiet_fields(user),
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
        intro=with_line(
            f"This helps me find good matches in {program.name}. `profile show` shows what your matches see.",
            visibility.PROFILE,
        ),
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


MEMBER_FIELDS = ("role", "capacity", "skills_offered", "skills_wanted", "interests", "department")
USER_FIELDS = ("timezone", "work_start", "work_end")


def _snapshot(user: User, membership: Membership) -> dict[str, object]:
    return {f: getattr(membership, f) for f in MEMBER_FIELDS} | {f: getattr(user, f) for f in USER_FIELDS}


def _note_self_entered(user: User, membership: Membership, before: dict[str, object]) -> None:
    """Remember which fields the person changed themselves: an admin's import then keeps them."""
    after = _snapshot(user, membership)
    changed = {f for f, old in before.items() if old != after[f]}
    if changed & set(MEMBER_FIELDS):
        membership.self_entered = sorted(set(membership.self_entered) | (changed & set(MEMBER_FIELDS)))
    if changed & set(USER_FIELDS):
        user.self_entered = sorted(set(user.self_entered) | (changed & set(USER_FIELDS)))


def _voice_errors(values: dict[str, Any], errors: dict[str, str]) -> None:
    for key, limit in (("about_me", MAX_ABOUT), ("ask_me_about", MAX_ASK)):
        text = _one(values, key)
        if len(text) > limit:
            errors[key] = f"Keep it to {limit} characters (this has {len(text)})."


def _save_profile(
    user: User, membership: Membership, values: dict[str, Any], role: str, capacity: int, tz: str, hours: dict[str, str]
) -> None:
    """Write the checked values; only called once nothing was wrong, so a bad form changes nothing."""
    before = _snapshot(user, membership)
    if "about_me" in values:  # a form sent before these fields existed leaves them alone
        user.about_me = " ".join(_one(values, "about_me").split()) or None
    if "ask_me_about" in values:
        user.ask_me_about = " ".join(_one(values, "ask_me_about").split()) or None
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
    _note_self_entered(user, membership, before)


def apply_profile(program: Program, user: User, membership: Membership, values: dict[str, Any]) -> dict[str, str]:
    """Validate everything first, then change; returns field errors and changes nothing if any."""
    quiet, errors = parse_quiet(user, _one(values, DAY_FIELD), _one(values, WEEKEND_FIELD))
    if not errors:
        errors = _apply_profile(program, user, membership, values)
    if not errors:
        user.day_start, user.day_end, user.weekend = quiet
    return errors


def _apply_profile(program: Program, user: User, membership: Membership, values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    role = _one(values, "role") or membership.role
    if role not in _allowed_roles(program):
        errors["role"] = "Pick mentor or mentee."
    capacity_text = _one(values, "capacity") or str(membership.capacity)
    if not capacity_text.isdigit() or not 1 <= int(capacity_text) <= 10:
        errors["capacity"] = "A whole number from 1 to 10."
    tz = _one(values, "timezone") or user.timezone
    problem = zone_problem(tz) if tz != user.timezone else None  # a zone already stored stays usable
    if problem:
        errors["timezone"] = problem
    hours = _profile_hours(user, values, errors)
    _voice_errors(values, errors)
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
            "weekly_cap": str(p.weekly_cap),
            "holidays": ", ".join(p.holidays),
            "min_shared_hours": f"{min_shared_hours(p):g}",
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
        "weekly_cap": "4",
        "holidays": "",
        "min_shared_hours": "1",
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
        intro=with_line(
            "People are only enrolled with their consent: opt-in asks first; opt-out tells them and offers a "
            "leave button.",
            visibility.PROGRAM,
        ),
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
                field_id="min_shared_hours",
                label="Shared working hours a pair needs (matching avoids less when it can)",
                initial=v["min_shared_hours"],
                max_length=4,
            ),
            TextInput(
                field_id="weekly_cap",
                label="Unprompted messages per person per week, at most",
                initial=v["weekly_cap"],
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
