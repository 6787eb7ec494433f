"""`pip install` of the built wheel, outside the checkout, gives a working Tandem (issue: a broken wheel).

The wheel is built from a copy of the sources (no build files land in the checkout) and installed, without
dependencies and offline, into a fresh virtual environment; the dependencies come from the environment
running the tests, added with a .pth line (which does not load this checkout's editable install).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "bot", "adapters", "storage", "tandem")


def _setuptools_is_new_enough() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77  # SPDX license strings (PEP 639)


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert _setuptools_is_new_enough(), "building offline needs setuptools>=77: `make test` installs it (dev extra)"
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, src / name)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        root / "dist",
        src,
        cwd=root,
    )
    (found,) = (root / "dist").glob("tandem-*.whl")
    return found


def test_the_wheel_carries_content_manifests_migrations_and_the_command(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "bot/content/prompts/icebreakers.yaml",
        "bot/content/prompts/surveys.yaml",
        "bot/content/prompts/tracks/mentoring.yaml",
        "bot/content/prompts/tracks/peer.yaml",
        "adapters/slack/manifest/slack.yaml",
        "adapters/slack/manifest/slack-socket-mode.yaml",
        "adapters/teams/manifest/manifest.json",
        "adapters/teams/manifest/color.png",
        "adapters/teams/manifest/outline.png",
        "storage/migrations/env.py",
        "storage/migrations/versions/0001_initial.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/")]
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "tandem = tandem.cli:main" in zipfile.ZipFile(wheel).read(info).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and "Provides-Extra: postgres" in metadata


def test_installed_wheel_runs_the_demo_and_builds_the_teams_package(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path
    )
    target = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip()
    )
    (target / "zz-test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "SLACK_", "MICROSOFT_", "PYTHON"))}
    tandem = venv / "bin" / "tandem"

    where = run(python, "-c", "import bot.content, tandem; print(tandem.__file__)", cwd=work, env=env).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout

    assert run(tandem, "--version", cwd=work, env=env).stdout.strip() == "tandem 0.1.0"
    demo = run(tandem, "demo", "--participants", "6", "--weeks", "1", "--quiet", cwd=work, env=env)
    assert "1 rounds, " in demo.stdout and "0 matches" not in demo.stdout and "Traceback" not in demo.stderr
    out = work / "teams.zip"
    app_id = "00000000-0000-0000-0000-000000000001"
    run(tandem, "teams-package", "--app-id", app_id, "--host", "tandem.example.com", "--out", out, cwd=work, env=env)
    assert sorted(zipfile.ZipFile(out).namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = run(tandem, "slack-manifest", "--host", "tandem.example.com", cwd=work, env=env).stdout
    assert "https://tandem.example.com/slack/events" in manifest
    assert sorted(p.name for p in work.iterdir()) == ["teams.zip"]  # the demo's database was throwaway
