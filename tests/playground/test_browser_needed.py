"""Without Chromium the browser tests fail, saying how to install it: the suite skips nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.playground import browser


def test_no_chromium_is_a_failure_that_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        browser.chromium()
