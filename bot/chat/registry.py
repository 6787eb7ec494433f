"""One registry each for commands, buttons and forms: features register at import, the router looks up.

A command declares together its name (one or two words), usage, help line, permission and handler. A button
kind declares its action id and a typed value (a NamedTuple of int/str fields) with one encoding; its handler
gets the decoded value. A form id names the handler of its submission. Registering a name twice raises at
import, so no feature can silently replace another's.

Permission is enforced here: an admin command run by someone who isn't a workspace admin runs in "admin
required" mode, where the program it resolves (:meth:`Ctx.program`) or names (:meth:`Ctx.require_admin`)
must be one the person created; otherwise :class:`Refused` ends it before anything changed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar, get_type_hints

from bot.chat.context import Ctx, say
from bot.chat.errors import CommandError, Refused
from bot.kernel.events import FormSubmittedEvent, NoReply, Response
from bot.kernel.messages import Button
from bot.kernel.timeutil import BadTime

log = logging.getLogger("tandem.registry")

DAMAGED = "That button is damaged; please use the latest message."
UNKNOWN_BUTTON = "That button isn't something I know any more; nothing was changed."
UNKNOWN_FORM = "That form isn't something I know any more; nothing was changed."
PERSON = "@person"  # in a command name: "followed by a person" (e.g. "pause @person"); the person stays in args


class DuplicateRegistration(RuntimeError):
    """Two features claimed the same command name, action id or form id."""


class Permission(StrEnum):
    EVERYONE = "everyone"
    ADMIN = "admin"  # workspace admins, configured admins, and the creator of the program it is about


# --- commands --------------------------------------------------------------------------------------------

CommandHandler = Callable[[Ctx, Any], Awaitable[Response]]  # (ctx, ParsedCommand) → response


@dataclass(frozen=True)
class Command:
    name: str  # 'pause', 'program create' or 'pause @person'
    usage: str
    summary: str
    permission: Permission
    handler: CommandHandler
    hidden: bool = False  # understood when typed, left out of help (words people use for another command)

    @property
    def admin(self) -> bool:
        return self.permission is Permission.ADMIN


_COMMANDS: dict[str, Command] = {}
_ALIASES: dict[str, str] = {}  # a word people use → the command name it means ('snooze' → 'pause')
_MODULE_ORDER: list[str] = []  # feature modules in help order (see order_by_module)


def _key(name: str) -> str:
    key = " ".join(name.lower().split())
    if not 1 <= len(key.split(" ")) <= 2:
        raise ValueError(f"a command name has one or two words, not {name!r}")
    if key in _COMMANDS or key in _ALIASES:
        raise DuplicateRegistration(f"command {key!r} is registered twice")
    return key


def command(
    name: str, usage: str, summary: str, *, admin: bool = False, hidden: bool = False
) -> Callable[[CommandHandler], CommandHandler]:
    """Register the decorated handler as command ``name``; help lists commands in registration order."""

    def wrap(handler: CommandHandler) -> CommandHandler:
        key = _key(name)
        permission = Permission.ADMIN if admin else Permission.EVERYONE
        _COMMANDS[key] = Command(key, usage, summary, permission, handler, hidden)
        return handler

    return wrap


def alias(*words: str, means: str) -> None:
    """Understand each of ``words`` as the command ``means`` (everyday words: 'snooze' for 'pause')."""
    for word in words:
        _ALIASES[_key(word)] = means


def lookup(name: str) -> Command | None:
    """The command of this name, or the command an everyday word stands for."""
    return _COMMANDS.get(name) or _COMMANDS.get(_ALIASES.get(name, ""))


def names() -> tuple[str, ...]:
    """Every name the grammar understands: command names and their everyday words."""
    return (*_COMMANDS, *_ALIASES)


def order_by_module(modules: list[str]) -> None:
    """List commands by the module that registered them, in this order (then in registration order).

    Import order decides registration order, and imports get sorted and shuffled; the help text shouldn't.
    """
    _MODULE_ORDER[:] = modules


def commands() -> tuple[Command, ...]:
    """Every registered command, in help order: by feature module (see order_by_module), then as registered."""
    known = list(_COMMANDS.values())

    def rank(c: Command) -> tuple[int, int]:
        module = c.handler.__module__
        return (_MODULE_ORDER.index(module) if module in _MODULE_ORDER else len(_MODULE_ORDER), known.index(c))

    return tuple(sorted(known, key=rank))


async def dispatch(ctx: Ctx, command: Command, parsed: Any) -> Response:
    """Run one command with its permission enforced; a person-fixable error is answered with the usage."""
    ctx.admin_required = command.admin and not ctx.is_admin()
    try:
        response = await command.handler(ctx, parsed)
    except Refused as refused:
        return say(refused.text)
    except (CommandError, BadTime) as exc:
        return say(f"{exc}\nUsage: `{command.usage}`")
    if ctx.admin_required and not ctx.admin_checked:  # a handler that forgot to say which program it is about
        log.error("admin command %r returned without a permission check", command.name)
        return say(Refused().text)
    return response


# --- buttons ---------------------------------------------------------------------------------------------

V = TypeVar("V", bound=tuple)


class NoValue(NamedTuple):
    """For buttons whose click needs nothing but the person (any legacy value is ignored)."""


def encode(value: tuple) -> str:
    """The one encoding of a button value or form state: the fields joined by '|'."""
    return "|".join(str(field) for field in value)


def decode(value_type: type[V], raw: str) -> V | None:
    """The typed value back, or None when it is damaged. The last str field may contain '|'.

    Values sent before the '|' encoding used ':' (booking's ``meeting:slot``, the risk digest's
    ``program:user``): those buttons are still in people's chats, so ':' is read when there is no '|'.
    """
    fields: tuple[str, ...] = getattr(value_type, "_fields", ())
    if not fields:
        return value_type()
    sep = ":" if "|" not in raw and ":" in raw else "|"
    parts = raw.split(sep, len(fields) - 1)
    if len(parts) != len(fields):
        return None
    hints = get_type_hints(value_type)
    out: list[int | str] = []
    for name, part in zip(fields, parts, strict=True):
        if hints[name] is int:
            if not (part.isascii() and part.isdigit()):
                return None
            out.append(int(part))
        else:
            out.append(part)
    make: Callable[..., V] = value_type  # a NamedTuple class takes its fields positionally, not as one iterable
    return make(*out)


@dataclass(frozen=True)
class ButtonKind(Generic[V]):
    """A kind of button: its action id (never renamed: it is in messages already sent) and value type."""

    action_id: str
    value_type: type[V]

    def button(self, label: str, value: V, *, style: str | None = None) -> Button:
        """The neutral button that sends this kind and ``value`` back when clicked."""
        return Button(label=label, action_id=self.action_id, value=encode(value), style=style)

    def decode(self, raw: str) -> V | None:
        return decode(self.value_type, raw)


ButtonHandler = Callable[[Ctx, Any], Awaitable[Response]]  # (ctx, decoded value) → response
_BUTTONS: dict[str, tuple[ButtonKind, ButtonHandler]] = {}


def on_click(kind: ButtonKind[V]) -> Callable[[ButtonHandler], ButtonHandler]:
    """Register the decorated handler for clicks on ``kind``."""

    def wrap(handler: ButtonHandler) -> ButtonHandler:
        if kind.action_id in _BUTTONS:
            raise DuplicateRegistration(f"button {kind.action_id!r} is registered twice")
        _BUTTONS[kind.action_id] = (kind, handler)
        return handler

    return wrap


async def click(ctx: Ctx, action_id: str, raw: str) -> Response:
    """Run a click: links need nothing, unknown ids and damaged values are answered and change nothing."""
    if action_id.startswith("link:"):
        return NoReply()
    entry = _BUTTONS.get(action_id)
    if entry is None:
        log.info("unknown action id %r ignored", action_id)
        return say(UNKNOWN_BUTTON)
    kind, handler = entry
    value = kind.decode(raw)
    if value is None:
        log.info("damaged value %r for %r ignored", raw, action_id)
        return say(DAMAGED)
    try:
        return await handler(ctx, value)
    except Refused as refused:
        return say(refused.text)
    except CommandError as exc:
        return say(str(exc))


# --- forms -----------------------------------------------------------------------------------------------

FormHandler = Callable[[Ctx, FormSubmittedEvent], Awaitable[Response]]
_FORMS: dict[str, FormHandler] = {}


def on_submit(*form_ids: str) -> Callable[[FormHandler], FormHandler]:
    """Register the decorated handler for submissions of these forms."""

    def wrap(handler: FormHandler) -> FormHandler:
        for form_id in form_ids:
            if form_id in _FORMS:
                raise DuplicateRegistration(f"form {form_id!r} is registered twice")
            _FORMS[form_id] = handler
        return handler

    return wrap


async def submit(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    """Run a form submission; an unknown form id is answered and changes nothing."""
    handler = _FORMS.get(event.form_id)
    if handler is None:
        log.info("unknown form id %r ignored", event.form_id)
        return say(UNKNOWN_FORM)
    try:
        return await handler(ctx, event)
    except Refused as refused:
        return say(refused.text)
    except CommandError as exc:
        return say(str(exc))
