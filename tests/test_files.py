"""Atomic writes: a file is at its final name whole, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrator.errors import OutputError
from narrator.files import atomic_path


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
