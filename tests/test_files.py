"""Atomic writes: a file is at its final name whole, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrator.errors import OutputError
from narrator.files import atomic_path, write_if_changed


def test_the_file_appears_only_when_complete(tmp_path: Path) -> None:
    final = tmp_path / "sub" / "a.txt"
    with atomic_path(final) as tmp:
        tmp.write_text("whole")
        assert not final.exists() and tmp.parent == final.parent
    assert final.read_text() == "whole"
    assert [p.name for p in final.parent.iterdir()] == ["a.txt"]


def test_a_failure_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    final = tmp_path / "a.txt"
    final.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert final.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_folder_at_the_final_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.mp3").mkdir()
    with (
        pytest.raises(OutputError, match=r"a\.mp3: it is a folder"),
        atomic_path(tmp_path / "a.mp3"),
    ):
        pass


def test_a_file_where_the_folder_should_be_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    with pytest.raises(OutputError, match="cannot write"), atomic_path(tmp_path / "out" / "a.mp3"):
        pass


def test_write_if_changed_leaves_a_file_that_holds_it_already(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    assert write_if_changed(path, "one\n")
    made = path.stat().st_mtime_ns
    assert not write_if_changed(path, "one\n")
    assert path.stat().st_mtime_ns == made
    assert write_if_changed(path, "two\n") and path.read_text() == "two\n"
    cover = tmp_path / "cover.png"
    assert write_if_changed(cover, b"\x89PNG") and not write_if_changed(cover, b"\x89PNG")
    assert write_if_changed(cover, b"\x89PNG2") and cover.read_bytes() == b"\x89PNG2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.png", "feed.xml"]


def test_write_if_changed_reads_text_whatever_its_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    path.write_bytes(b'[narrator]\r\nvoice = "a"\r\n')  # saved by a Windows editor
    assert not write_if_changed(path, '[narrator]\nvoice = "a"\n', durable=True)
    assert path.read_bytes() == b'[narrator]\r\nvoice = "a"\r\n'
    # Text with a carriage return of its own (a description) is the same as itself.
    feed = tmp_path / "feed.xml"
    assert write_if_changed(feed, "one\r\ntwo\rthree\n")
    assert not write_if_changed(feed, "one\r\ntwo\rthree\n")


def test_write_if_changed_replaces_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "metadata.json"
    path.write_bytes(b"\xff\xfe")
    assert write_if_changed(path, "{}\n") and path.read_text() == "{}\n"
