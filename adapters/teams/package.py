"""Builds the Teams app package (manifest.json + icons in a zip) that an admin uploads to Teams.

The manifest template holds ``{{APP_ID}}`` and ``{{HOST}}``; this fills them in after checking them, so a
typo shows up here with a clear message instead of as a vague upload error in the Teams admin centre.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from importlib import metadata, resources
from pathlib import Path

MANIFEST_DIR = Path(str(resources.files("adapters.teams") / "manifest"))  # shipped inside the package
FILES = ("manifest.json", "color.png", "outline.png")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class PackageError(ValueError):
    """A bad app id or host, or a missing template file; the message says which and how to fix it."""


def check_app_id(app_id: str) -> str:
    """The Microsoft App ID from the Azure Bot registration: a GUID."""
    text = (app_id or "").strip()
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise PackageError(
            f"--app-id must be the bot's Microsoft App ID, a GUID like "
            f"00000000-0000-0000-0000-000000000000; got {app_id!r}"
        ) from None
    if len(text) != 36:
        raise PackageError(f"--app-id must be written as a 36-character GUID with dashes; got {app_id!r}")
    return str(parsed)


def check_host(host: str) -> str:
    """The public host name Tandem is served on (no scheme, no path): what Teams puts in validDomains."""
    text = (host or "").strip().rstrip(".").lower()
    if "://" in text or "/" in text:
        raise PackageError(
            f"--host must be a host name only, like tandem.example.com (no https://, no path); got {host!r}"
        )
    if ":" in text:
        raise PackageError(f"--host must not include a port (Teams needs HTTPS on 443); got {host!r}")
    labels = text.split(".")
    if len(text) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise PackageError(f"--host must be a public DNS name like tandem.example.com; got {host!r}")
    if labels[-1].isdigit():
        raise PackageError(f"--host must be a DNS name, not an IP address; got {host!r}")
    return text


def app_version() -> str:
    """The manifest's version is Tandem's own (Teams wants three numbers: 1.2.3), so an upgrade is visible."""
    try:
        found = re.match(r"\d+(\.\d+){0,2}", metadata.version("tandem"))
    except metadata.PackageNotFoundError:
        found = None
    numbers = (found.group(0) if found else "0").split(".")
    return ".".join((numbers + ["0", "0"])[:3])


def render_manifest(app_id: str, host: str, source: Path = MANIFEST_DIR) -> dict:
    template = (source / "manifest.json").read_text(encoding="utf-8")
    filled = (
        template.replace("{{APP_ID}}", check_app_id(app_id))
        .replace("{{HOST}}", check_host(host))
        .replace("{{VERSION}}", app_version())
    )
    manifest = json.loads(filled)
    if "{{" in filled:
        raise PackageError("the manifest template has a placeholder this tool does not fill")
    if not all(bot.get("supportsFiles") is True for bot in manifest.get("bots") or [{}]):
        raise PackageError(
            "the manifest's bot needs \"supportsFiles\": true, or Teams won't let admins send the bot a participants "
            "CSV in the 1:1 chat"
        )
    return manifest


def build_package(app_id: str, host: str, out: Path, *, source: Path = MANIFEST_DIR) -> Path:
    """Write the zip to ``out`` (a .zip path, or a folder to put ``tandem-teams.zip`` in); returns its path."""
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise PackageError(f"missing {', '.join(missing)} in {source}")
    manifest = render_manifest(app_id, host, source)
    out = Path(out)
    target = out / "tandem-teams.zip" if out.is_dir() or out.suffix.lower() != ".zip" else out
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for name in FILES[1:]:
            archive.write(source / name, arcname=name)
    return target
