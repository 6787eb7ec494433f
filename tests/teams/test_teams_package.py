"""The Teams app package: filled manifest, icons, and clear errors for bad ids and hosts."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

import bot.core  # noqa: F401  (registers every feature's commands)
from adapters.teams.package import MANIFEST_DIR, PackageError, app_version, build_package, check_host
from bot.chat import registry

APP_ID = "2f1c3b9e-4d5a-4e6f-8a7b-9c0d1e2f3a4b"


def test_package_contains_filled_manifest_and_icons(tmp_path):
    path = build_package(APP_ID, "tandem.example.com", tmp_path)
    assert path == tmp_path / "tandem-teams.zip"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["tandem.example.com"]
    assert manifest["developer"]["websiteUrl"] == "https://tandem.example.com/"
    assert "{{" not in json.dumps(manifest)
    assert manifest["version"] == app_version() and app_version().count(".") == 2  # Tandem's own version
    assert manifest["developer"]["privacyUrl"] == "https://tandem.example.com/privacy"  # served by tandem serve
    assert float(manifest["manifestVersion"]) >= 1.17 and manifest["$schema"].startswith("https://")
    assert color.size == (192, 192)
    assert outline.size == (32, 32) and outline.mode == "RGBA"
    rgba = outline.convert("RGBA")
    pixels = {rgba.getpixel((x, y)) for x in range(32) for y in range(32)}
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)  # white on transparent


def test_manifest_commands_are_the_core_grammars():
    manifest = json.loads((MANIFEST_DIR / "manifest.json").read_text())
    names = {c.name for c in registry.commands()}
    lists = manifest["bots"][0]["commandLists"]
    assert {s for lst in lists for s in lst["scopes"]} == {"personal", "team", "groupChat"}
    for command_list in lists:
        assert len(command_list["commands"]) <= 10  # Teams' limit per list
        for command in command_list["commands"]:
            assert command["title"] in names
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "2f1c3b9e4d5a4e6f8a7b9c0d1e2f3a4b", "{" + APP_ID + "}"])
def test_bad_app_id_is_refused_clearly(tmp_path, app_id):
    with pytest.raises(PackageError, match="--app-id"):
        build_package(app_id, "tandem.example.com", tmp_path)
    assert not (tmp_path / "tandem-teams.zip").exists()


@pytest.mark.parametrize(
    "host",
    [
        "",
        "https://tandem.example.com",
        "tandem.example.com/api",
        "localhost",
        "tandem.example.com:8443",
        "10.0.0.1",
        "bad_host.example.com",
        "-x.example.com",
    ],
)
def test_bad_host_is_refused_clearly(host):
    with pytest.raises(PackageError, match="--host"):
        check_host(host)


def test_host_is_normalised():
    assert check_host(" Tandem.Example.COM. ") == "tandem.example.com"


def test_manifest_lets_admins_send_files_in_the_personal_chat(tmp_path):
    """Participant imports arrive as a CSV sent in the 1:1 chat; Teams only offers that with supportsFiles."""
    with zipfile.ZipFile(build_package(APP_ID, "tandem.example.com", tmp_path)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["bots"][0]["supportsFiles"] is True
    source = tmp_path / "template"
    source.mkdir()
    template = json.loads((MANIFEST_DIR / "manifest.json").read_text())
    template["bots"][0]["supportsFiles"] = False
    (source / "manifest.json").write_text(json.dumps(template))
    for name in ("color.png", "outline.png"):
        (source / name).write_bytes((MANIFEST_DIR / name).read_bytes())
    with pytest.raises(PackageError, match="supportsFiles"):
        build_package(APP_ID, "tandem.example.com", tmp_path / "out.zip", source=source)
