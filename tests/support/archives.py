"""Small archives for the tests: files written into a folder, the short notices most tests index, and the
two seed speeches of the shared corpus indexed with the real model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# A notice whose figure changes between versions: NOTICE.format(fee="6"), then fee="9".
NOTICE = "关于城区停车收费调整的通知\n经区政府常务会议研究决定，城区路内停车收费标准调整为每小时{fee}元，自下月起执行，由区城管局负责。\n"
PARKING_Q = "城区路内停车收费标准调整为每小时多少元？"
# A second, unrelated notice, and the same with a figure to ask about.
CANTEEN = "关于社区食堂建设的通知\n全区年内建成社区食堂二十家，由区民政局负责组织实施。\n"
CANTEEN_FUNDED = "关于社区食堂建设的通知\n全区年内建成社区食堂二十家，每家补助资金三十五万元，由区民政局负责组织实施。\n"
CANTEEN_Q = "社区食堂每家补助资金多少万元？"
SEED_FILES = ("seed_000.txt", "seed_004.txt")


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to folder/name in `encoding`, making the folders on the way."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def seed_qa(db: Path, corpus: Path) -> Any:
    """A `QA` over the two seed speeches indexed into `db` with the real model."""
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    settings = Settings(db=db)
    archive = Archive(settings)
    report = archive.index_paths([corpus / name for name in SEED_FILES])
    assert report.count("indexed") == len(SEED_FILES), report.summary()
    return QA(settings, archive=archive)


def qa_over(folder: Path, settings: Any, files: dict[str, str]) -> tuple[Any, Any]:
    """(QA, Archive) over the texts `files` (name -> text) written into `folder` and indexed with `settings`."""
    from bot.qa import QA
    from vectorstore.archive import Archive

    for name, text in files.items():
        write(folder, name, text)
    archive = Archive(settings)
    report = archive.index_paths([folder])
    assert report.count("indexed") == len(files), report.summary()
    return QA(settings, archive=archive), archive
