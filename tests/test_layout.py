"""Where a render's files go: one folder per product, state outside the output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrator.layout import DEFAULT_FORMAT, Format, plan_layout


@pytest.mark.parametrize(
    ("fmt", "m4b_dir", "mp3_dir"),
    [
        (Format.M4B, "Ann/Saga/Book", None),
        (Format.MP3, None, "Ann/Saga/Book"),
        (Format.BOTH, "Ann/Saga/Book", "Ann/Saga/Book (MP3)"),
    ],
)
def test_each_product_has_its_own_book_folder(
    tmp_path: Path, fmt: Format, m4b_dir: str | None, mp3_dir: str | None
) -> None:
    out = tmp_path / "out"
    layout = plan_layout(out, ["Ann", "Saga", "Book"], fmt, tmp_path / "state")
    assert layout.m4b_dir == (out / m4b_dir if m4b_dir else None)
    assert layout.mp3_dir == (out / mp3_dir if mp3_dir else None)
    assert layout.book_dir == out / "Ann" / "Saga" / "Book"
    for folder in (layout.state_dir, layout.parts_dir, layout.records_dir, layout.work_dir):
        assert folder.is_relative_to(tmp_path / "state") and not folder.is_relative_to(out)


def test_the_state_folder_is_per_book_and_stable(tmp_path: Path) -> None:
    one = plan_layout(tmp_path / "out", ["A"], Format.M4B, tmp_path / "s").state_dir
    assert one == plan_layout(tmp_path / "out", ["A"], Format.MP3, tmp_path / "s").state_dir
    assert one != plan_layout(tmp_path / "out", ["B"], Format.M4B, tmp_path / "s").state_dir


def test_the_default_state_folder_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NARRATOR_STATE_DIR", str(tmp_path / "st"))
    assert plan_layout(tmp_path, ["A"], DEFAULT_FORMAT).state_dir.parent == tmp_path / "st/renders"
