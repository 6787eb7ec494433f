"""The closed vocabularies stored in the database (kept here so storage never imports the core)."""

from enum import StrEnum


class PlatformKind(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"


class ProgramKind(StrEnum):
    MENTORING = "mentoring"
    PEER = "peer"


class Cadence(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class Enrolment(StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class ProgramStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    PEER = "peer"


class MembershipStatus(StrEnum):
    INVITED = "invited"  # told about the program, has not said yes (opt-in)
    ACTIVE = "active"
    LEFT = "left"


class RoundStatus(StrEnum):
    PLANNED = "planned"
    MATCHED = "matched"
    CLOSED = "closed"


class MatchStatus(StrEnum):
    INTRODUCED = "introduced"
    SCHEDULED = "scheduled"
    MET = "met"
    NOT_MET = "not_met"
    ENDED = "ended"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class MeetingState(StrEnum):
    OFFERED = "offered"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
