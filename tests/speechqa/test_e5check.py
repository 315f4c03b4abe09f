"""The developer check of the converted e5-small: which corpus files it samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechqa import e5check


def test_check_files_are_the_largest_text_files_of_any_folder(tmp_path: Path) -> None:
    for name, size in (("a.txt", 30), ("b.txt", 500), ("c.txt", 200), ("big.md", 9000)):
        (tmp_path / name).write_text("字" * size, encoding="utf-8")
    assert [p.name for p in e5check.check_files(tmp_path)] == ["b.txt", "c.txt"]
    (tmp_path / "b.txt").unlink()
    (tmp_path / "c.txt").unlink()
    with pytest.raises(FileNotFoundError):
        e5check.check_files(tmp_path)
