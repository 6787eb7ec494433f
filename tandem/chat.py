"""`tandem chat`: talk to the real core at the terminal, as one of a few simulated colleagues.

Type what you would type in a direct message (`join`, `profile`, `pause 2w`, `help`); a number clicks one of
the buttons shown; `:as NAME` takes someone else's seat, `:admin` the admin's, and `:week` lets a week pass
(the scheduler runs and everyone else answers as the demo's simulated people do). Nothing talks to Slack or
Teams: messages go through the console port, the database is a throwaway SQLite file unless `--db` says.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.chat import registry
from bot.kernel.clock import SimulatedClock
from bot.kernel.events import FormErrors, Response
from bot.kernel.messages import Form
from bot.kernel.timeutil import show
from storage.database import check_connection, open_database, upgrade
from tandem.chat_forms import Cancelled, fill
from tandem.chat_view import SeatPort
from tandem.people import Person
from tandem.session import Clickable, Session, SessionOptions, names_and_zones, open_session

META = (":as", ":admin", ":week", ":who", ":help", ":quit")
HELP = (
    "Type as in a direct message to the bot ([bold]help[/] lists its commands). "
    "A [bold]number[/] clicks a button. [bold]:as NAME[/] becomes someone else, [bold]:admin[/] takes the "
    "admin's seat, [bold]:week[/] lets a week pass, [bold]:who[/] lists everyone, [bold]:quit[/] ends."
)


ChatOptions = SessionOptions


class ChatSession:
    """One seat at a time in front of the session engine; everyone else is simulated."""

    def __init__(self, session: Session, port: SeatPort) -> None:
        self.session, self.port, self.clock = session, port, session.clock
        self.console: Console = port.console or Console()
        self.people = session.people
        self.seat: Person | None = self.people[0]  # None: the admin's seat
        self.running = True
        self._take_seat(self.people[0])

    # --- seats -------------------------------------------------------------------------------------
    def _take_seat(self, person: Person | None) -> None:
        self.seat = person
        self.port.viewer = self.session.user_id(person)
        self.port.menu = []
        self.session.seat(*([person] if person else []))  # the rest act by themselves

    def name(self) -> str:
        return self.seat.name if self.seat else "Morgan (admin)"

    def prompt(self) -> str:
        return f"{show(self.clock.now(), self.seat.timezone if self.seat else 'Europe/London')} · {self.name()}> "

    # --- one line of input -----------------------------------------------------------------------
    async def line(self, text: str, read: Callable[[str], str]) -> None:
        """Act on one typed line; a form it opens is filled in through ``read``."""
        text = text.strip()
        if not text:
            return
        self.port.begin()
        if text.startswith(":"):
            await self._meta(text)
        elif text.isdigit():
            await self._click(int(text), read)
        else:
            await self._answer(await self.session.say(self.seat, text), None, read)
        await self.session.settle()
        if self.port.hidden:
            self.console.print(f"[dim]({self.port.hidden} message(s) went to other people)[/]")

    async def _meta(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        if word == ":as":
            self._switch(rest.strip())
        elif word == ":admin":
            self._take_seat(None)
            self.console.print("You are now [bold]Morgan[/], the program admin. Try [bold]stats[/].")
            self.port.replay_last()
        elif word == ":week":
            await self.week()
        elif word == ":who":
            self._who()
        elif word in (":quit", ":exit"):
            self.running = False
        elif word == ":help":
            self.console.print(HELP)
        else:
            self.console.print(f"[red]I don't know {escape(word)}.[/] {HELP}")

    def _switch(self, name: str) -> None:
        wanted = name.lower()
        found = [p for p in self.people if p.name.lower().startswith(wanted)] if wanted else []
        if len(found) != 1:
            names = ", ".join(p.name for p in self.people)
            self.console.print(f"[red]Who? Type :as and a name (one of {escape(names)}).[/]")
            return
        self._take_seat(found[0])
        self.console.print(f"You are now [bold]{escape(found[0].name)}[/] ({escape(found[0].timezone)}).")
        self.port.replay_last()

    def _who(self) -> None:
        for person in self.people:
            here = " ← you" if person is self.seat else ""
            self.console.print(f"  {escape(person.name)} · {escape(person.timezone)} · {person.role}{here}")

    async def _click(self, number: int, read: Callable[[str], str]) -> None:
        if not 1 <= number <= len(self.port.menu):
            self.console.print("[red]No button has that number.[/] The numbers are under the last message.")
            return
        item = self.port.menu[number - 1]
        self.port.fresh_batch = True
        self.console.print(f"[dim]You clicked “{escape(item.label)}”.[/]")
        await self._answer(await self.session.click(self.seat, item), item, read)

    async def _answer(self, response: Response, clicked: Clickable | None, read: Callable[[str], str]) -> None:
        replaces = clicked.sent.ref if clicked is not None and clicked.sent is not None else None
        form = await self.session.show(self.seat, response, replaces)
        if form is not None:
            await self._form(form, read)

    async def _form(self, form: Form, read: Callable[[str], str]) -> None:
        try:
            values = fill(form, read, self.console)
            while True:
                result = await self.session.submit(self.seat, form, values)
                if not isinstance(result, FormErrors):
                    await self._answer(result, None, read)
                    return
                values = fill(form, read, self.console, values, result.errors)
        except (Cancelled, EOFError, KeyboardInterrupt):  # :cancel, Ctrl-D or Ctrl-C leave the form only
            self.console.print("\n[dim]Form closed; nothing was saved.[/]")

    # --- time --------------------------------------------------------------------------------------
    async def week(self) -> None:
        """A week passes (the session engine's week); then a line says what time it is now."""
        await self.session.week()
        when = show(self.clock.now(), self.seat.timezone if self.seat else "Europe/London")
        self.console.rule(f"A week has passed: it is {when}", style="cyan")


async def open_chat(db, options: ChatOptions, console: Console) -> ChatSession:  # noqa: ANN001
    """A program with a few colleagues in its channel; the first of them is you, not yet joined."""
    holder: list[ChatSession] = []

    def make_port(clock: SimulatedClock, people: list[Person]) -> SeatPort:
        names, zones = names_and_zones(people)
        return SeatPort(clock=clock, console=console, names=names, zones=zones)

    def seated(session: Session) -> None:
        assert isinstance(session.port, SeatPort)
        holder.append(ChatSession(session, session.port))

    def started(session: Session) -> None:
        people = session.people
        console.print(
            f"Morgan (the admin) started [bold]{escape(session.program_name)}[/] in #{session.channel}. "
            f"You are [bold]{escape(people[0].name)}[/]; with you: {escape(', '.join(p.name for p in people[1:]))}"
        )
        console.print(HELP)

    await open_session(db, options, make_port, seated, started)
    return holder[0]


def _completer(session: ChatSession) -> Callable[[str, int], str | None]:
    """Tab completes the bot's commands, the `:` words and, after `:as `, people's first names."""
    import readline

    def complete(text: str, state: int) -> str | None:
        line = readline.get_line_buffer()
        if line.startswith(":as "):
            options = [p.name.split()[0] for p in session.people]
        elif line.startswith(":"):
            options = list(META)
        else:
            options = sorted(registry.names())
        matches = [o for o in options if o.lower().startswith(text.lower())]
        return matches[state] if state < len(matches) else None

    return complete


def _readline(session: ChatSession) -> None:
    """History and tab completion where the terminal has readline (history lives only in this session)."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: plain input still works
        return
    readline.set_completer(_completer(session))
    readline.set_completer_delims(" ")
    readline.parse_and_bind("tab: complete")


async def run_chat(options: ChatOptions, console: Console, read: Callable[[str], str] = input) -> None:
    """The interactive loop; ends on :quit, Ctrl-D or Ctrl-C."""
    with tempfile.TemporaryDirectory(prefix="tandem-chat-") as tmp:
        db = open_database(options.db_url or f"sqlite:///{Path(tmp) / 'chat.db'}")
        logging.getLogger().setLevel(logging.ERROR)
        try:
            await check_connection(db)
            await upgrade(db)
            session = await open_chat(db, options, console)
            _readline(session)
            while session.running:
                try:
                    text = read(session.prompt())
                except (EOFError, KeyboardInterrupt):
                    break
                await session.line(text, read)
            console.print("Bye! Nothing left this terminal.")
        finally:
            await db.dispose()


__all__ = ["ChatOptions", "ChatSession", "run_chat"]
