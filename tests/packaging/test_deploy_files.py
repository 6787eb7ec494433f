"""The Dockerfile, compose.yaml and systemd unit agree with the code (Docker can't run on the build machines).

What can be checked without Docker: the commands they run are ones the installed `tandem` provides, the
health check's path is served, every Tandem variable they set is one the settings read, the image is slim
and does not run as root, and migrations are a step of their own.
"""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

import typer
import yaml

from tandem.cli import app as cli_app
from tandem.settings import Settings

REPO = Path(__file__).resolve().parents[2]
OUR_PREFIXES = ("TANDEM_", "SLACK_", "MICROSOFT_")


def setting_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def assert_is_a_tandem_command(argv: list[str]) -> None:
    """``argv`` (after ``tandem``) parses as a real command of the CLI, options included."""
    command = typer.main.get_command(cli_app)
    ctx = command.make_context("tandem", list(argv), resilient_parsing=True)
    name, sub, rest = command.resolve_command(ctx, list(argv))
    assert sub is not None, argv
    if hasattr(sub, "resolve_command"):  # a group such as `db`
        sub_ctx = sub.make_context(name or "", list(rest), parent=ctx, resilient_parsing=True)
        _, leaf, rest = sub.resolve_command(sub_ctx, list(rest))
        assert leaf is not None, argv
        sub = leaf
    sub.make_context(sub.name or "", list(rest), parent=ctx)  # raises on an unknown option


def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text(encoding="utf-8")


def json_array(instruction: str) -> list[str]:
    match = re.search(rf"^{instruction} (\[.*\])\s*$", dockerfile(), re.MULTILINE)
    assert match, f"no exec-form {instruction} in the Dockerfile"
    return yaml.safe_load(match.group(1))


def test_the_image_runs_the_command_the_wheel_provides() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert json_array("ENTRYPOINT") == ["tandem"] and scripts["tandem"] == "tandem.cli:main"
    cmd = json_array("CMD")
    assert cmd == ["serve", "--no-migrate"]  # migrations are `tandem db upgrade`, a step of their own
    assert_is_a_tandem_command(cmd)
    assert_is_a_tandem_command(["db", "upgrade"])


def test_the_image_build_copies_what_the_packages_link_to() -> None:
    """Content and manifests live at the top and the packages link to them: the build must copy both ends."""
    copied = {Path(src).parts[0] for src in re.findall(r"^COPY (?!--)(\S+) ", dockerfile(), re.MULTILINE)}
    links = [p for top in ("bot", "adapters") for p in (REPO / top).rglob("*") if p.is_symlink()]
    assert links, "bot/content/prompts and adapters/*/manifest are links to prompts/ and manifest/"
    for link in links:
        target = link.resolve().relative_to(REPO.resolve())
        assert link.relative_to(REPO).parts[0] in copied and target.parts[0] in copied, (link, target, copied)


def test_the_image_is_slim_not_root_and_checks_health() -> None:
    text = dockerfile()
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert bases and all(base.endswith("-slim") for base in bases), bases
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    health = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])", text, re.MULTILINE | re.DOTALL)
    assert health and "/healthz" in health.group(1)
    from tandem.server import healthz  # the path the image probes is the one the server answers

    assert healthz.__name__ == "healthz"
    env_names = set(re.findall(r"\b((?:TANDEM|SLACK|MICROSOFT)_[A-Z_]+)=", text))
    assert env_names and env_names <= setting_names(), env_names - setting_names()


def test_compose_sets_only_variables_the_settings_read() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:") and "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    for name in ("migrate", "tandem"):
        env = services[name]["environment"]
        ours = {key for key in env if key.startswith(OUR_PREFIXES)}
        assert ours <= setting_names(), ours - setting_names()
        assert (
            env["TANDEM_DATABASE_URL"].startswith("postgresql+psycopg://") and "@db:5432/" in env["TANDEM_DATABASE_URL"]
        )
        assert_is_a_tandem_command(services[name]["command"])
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["tandem"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "--no-migrate" in services["tandem"]["command"]


def test_env_example_names_only_real_settings() -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#?\s*((?:TANDEM|SLACK|MICROSOFT)_[A-Z_]+)=", text, re.MULTILINE))
    assert names - setting_names() == set()
    assert "TANDEM_LOG_FORMAT" in names and "POSTGRES_PASSWORD" in text  # what compose.yaml needs


def test_systemd_unit_runs_real_commands() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(REPO / "deploy" / "tandem.service", encoding="utf-8")
    service = unit["Service"]
    for key in ("ExecStartPre", "ExecStart"):
        argv = shlex.split(service[key])
        assert argv[0].endswith("/bin/tandem")
        assert_is_a_tandem_command(argv[1:])
    assert shlex.split(service["ExecStartPre"])[1:] == ["db", "upgrade"]
    assert service["User"] != "root" and service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 20  # a tick and a send pass get 10 s each
