"""`tandem chat` driven through a real pseudo-terminal: type, click by number, fill a form, switch seats,
let a week pass, and read what the screen shows (readline is live, so tab completion is tested too)."""

from __future__ import annotations

import codecs
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


class Terminal:
    """A child process on a pty: ``type`` sends a line, ``expect`` waits (with a deadline) for text on screen."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "SLACK_", "MICROSOFT_"))}
        env.update(PYTHONPATH=str(REPO), COLUMNS="140", LINES="50", TERM="dumb", NO_COLOR="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tandem.cli", *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env
        )
        os.close(slave)
        self.screen = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span two reads
        self.seen = 0  # what earlier expects already matched

    def _read(self, until: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.screen += ANSI.sub("", self.decoder.decode(chunk))
        return bool(chunk)

    def expect(self, text: str, timeout: float = 120) -> str:
        """Wait for ``text`` after what was already matched; return the screen since then."""
        deadline = time.monotonic() + timeout
        while text not in self.screen[self.seen :]:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"{text!r} never appeared; the screen ends with:\n{self.screen[-3000:]}")
        start = self.seen
        self.seen = self.screen.index(text, self.seen) + len(text)
        return self.screen[start : self.seen]

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.master)


def test_a_session_at_the_terminal(tmp_path: Path) -> None:
    term = Terminal("chat", "--people", "4", "--seed", "5", cwd=tmp_path)
    try:
        term.expect("Want in?")
        term.expect("type a number to click: 1 Join")
        me = term.expect("> ").splitlines()[-1].split(" · ")[-1].rstrip("> ")
        term.type("1")
        term.expect("You're in Coffee Chats")
        term.expect("1 Edit my profile")
        term.type("1")
        term.expect("Skills you can share")
        term.type("Python, SQL")  # skills to share
        term.expect("Skills you'd like to build")
        term.type(":cancel")
        term.expect("Form closed; nothing was saved.")

        term.type("profile")  # typed as in a DM: the same form, filled in to the end with Enter for the rest
        term.expect("Skills you can share")
        term.type("Python")
        for _ in range(10):  # Enter keeps each remaining text field as it is
            term.expect(": ")
            term.type("")
        term.expect("Celebrate our milestones")
        term.type("2")
        term.expect("number [1]: 2")
        term.expect("Saved your profile for Coffee Chats")

        term.type("pause 2w")
        term.expect("Paused")

        term.type(":we\t")  # tab completes :week
        week = term.expect("A week has passed")
        assert "Icebreaker of the week" in week, week
        term.expect("message(s) went to other people")

        term.type(":admin")
        term.expect("You are now Morgan")
        term.type("stats")
        stats = term.expect("By round")
        assert "Coffee Chats" in stats and "Participants:" in stats

        term.type(":as nobody")
        term.expect("Who? Type :as and a name")
        term.type("9")
        term.expect("No button has that number")
        term.type("status")  # the admin too may ask; then back to the first seat by first name
        term.type(f":as {me.split()[0]}")
        term.expect(f"You are now {me}")
        term.type("status")
        assert "Paused" in term.expect("Your Tandem status", timeout=60) + term.expect("> ")
        term.type(":quit")
        term.expect("Bye!")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    assert "Traceback" not in term.screen
    assert list(tmp_path.iterdir()) == [], "the session keeps its database in a throwaway folder"


def test_bad_options_are_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tandem.cli", "chat", "--kind", "sometimes"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stderr.strip().endswith("--kind must be mentoring or peer (got sometimes)")
