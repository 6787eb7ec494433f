"""The command line's manners: --version, help printed once, fast --help, 1 for runtime errors, 2 for usage."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tandem.demo import DemoOptions, run_demo
from tandem.version import version
from tests.cli.test_cli_demo import REPO, tandem


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = tandem("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"tandem {version()}"
    assert version()[0].isdigit()


@pytest.mark.parametrize("args", [[], ["db"]])
def test_no_arguments_print_help_once(tmp_path: Path, args: list[str]) -> None:
    result = tandem(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count("Usage:") == 1, result.stdout


def test_help_does_not_load_the_heavy_libraries(tmp_path: Path) -> None:
    """`tandem --help` must answer at once: SciPy, SQLAlchemy and pydantic load only in the commands using them."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tandem.cli", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "demo" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "typer" in imported  # the probe works
    assert not imported & {"scipy", "numpy", "sqlalchemy", "pydantic_settings", "bot.core", "matplotlib"}


def test_broken_content_stops_the_demo_with_exit_1(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "icebreakers.yaml").write_text("icebreakers: 3\n", encoding="utf-8")
    result = tandem("demo", "--quiet", cwd=tmp_path, env={"TANDEM_PROMPTS_DIR": str(prompts)})
    assert result.returncode == 1 and "the content library has problems" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


async def test_a_step_that_fails_during_the_demo_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """Failed steps are logged as errors by the core; the demo counts them, so the command exits 1."""
    seen: list[str] = []

    def progress(text: str) -> None:
        if not seen:  # a step that fails along the way logs an error, with its exception
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                logging.getLogger("bot.schedule").exception("step intro failed")
        seen.append(text)

    result = await run_demo(DemoOptions(participants=4, weeks=1, progress=progress))
    assert result.failures == 1 and seen and seen[0].startswith("Simulating Week 1")
    assert "tandem: bot.schedule: step intro failed (RuntimeError: boom)" in capsys.readouterr().err


def test_slack_manifest_and_content_copy_work_from_the_package(tmp_path: Path) -> None:
    manifest = tandem("slack-manifest", "--socket-mode", cwd=tmp_path)
    assert manifest.returncode == 0 and "socket_mode_enabled: true" in manifest.stdout
    bad_host = tandem("slack-manifest", "--host", "https://x.example.com", cwd=tmp_path)
    assert bad_host.returncode == 2 and "host name only" in bad_host.stderr
    copied = tandem("content-copy", str(tmp_path / "mine"), cwd=tmp_path)
    assert copied.returncode == 0 and (tmp_path / "mine" / "tracks" / "peer.yaml").is_file()
    again = tandem("content-copy", str(tmp_path / "mine"), cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
