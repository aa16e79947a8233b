"""Shared test set-up: no test touches the real home folder or cache; marks for system tools."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")  # where Debian's package puts it


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(home / "clips"))
    monkeypatch.setenv("NARRATOR_STATE_DIR", str(home / "state"))
    monkeypatch.delenv("NARRATOR_CACHE_MAX", raising=False)
    monkeypatch.delenv("NARRATOR_VOICES_DIR", raising=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = {
        "espeak": shutil.which("espeak-ng") is None,
        "ffmpeg": shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
        "epubcheck": not EPUBCHECK_JAR.exists() or shutil.which("java") is None,
    }
    for item in items:
        for mark, absent in missing.items():
            if absent and item.get_closest_marker(mark):
                item.add_marker(pytest.mark.skip(reason=f"{mark} is not installed"))


@pytest.fixture
def fake_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Renders the CLI runs in this test use the fake encoder: no ffmpeg needed."""
    from narrator import cli
    from narrator.encode import FakeEncoder

    real = cli.RenderOptions
    monkeypatch.setattr(cli, "RenderOptions", functools.partial(real, encoder=FakeEncoder()))
