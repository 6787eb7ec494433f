"""`tandem playground` as a command: it serves the page on loopback, refuses other addresses unless told,
turns away forms from other pages, and leaves nothing behind when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "SLACK_", "MICROSOFT_"))}
    return env | {"PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}


def test_serves_on_loopback_and_leaves_nothing_behind(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "playground", "--people", "3", "--panes", "2", "--port", "0"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server is up (or the command ends)
        assert line.startswith("Playground on http://127.0.0.1:"), line + proc.stderr.read() if proc.stderr else ""
        url = line.split()[2]
        page = urllib.request.urlopen(url, timeout=60).read().decode()
        assert 'id="pane-U0001"' in page and 'id="pane-U0002"' in page and 'id="pane-U0003"' not in page
        assert 'id="pane-admin"' in page and 'id="pane-channel"' in page
        rebound = urllib.request.Request(url, headers={"Host": "tandem.attacker.example"})
        try:
            urllib.request.urlopen(rebound, timeout=60)
            raise AssertionError("a request for another host name was answered")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
        forged = urllib.parse.urlencode({"token": "not-this-page", "span": "week"}).encode()
        try:
            urllib.request.urlopen(url + "wait", data=forged, timeout=60)
            raise AssertionError("a form without the page's token was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert list(tmp_path.iterdir()) == [], "the playground keeps its database in a throwaway folder"


def test_refuses_a_non_loopback_address_without_the_flag(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tandem.cli", "playground", "--host", "0.0.0.0"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--host 0.0.0.0 is not a loopback address" in result.stderr and "--allow-remote" in result.stderr
