"""The 管理 re-index progress bar while OCR reads a scan: "识别第N/M页：文件名", page by page (issue 15).

The real path: Admin.reindex over a real archive (hashing embedder: no model) with a real two-page scan read by
the real OCR; the progress callback is the 管理 tab's, fed to a recorder standing for Gradio's bar.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from admin.service import Admin
from tests.support.admin import PASSWORD, admin_settings, hashed_pool
from tests.support.archives import write
from tests.support.ingest_builders import make_scanned_pdf_of
from ui.admin_tab import progress_to_gradio

pytestmark = pytest.mark.slow

PAGES = [["关于老旧小区改造的通知", "各街道要摸清底数。"], ["今年改造老旧小区三十个，", "由区住建局负责。"]]


def test_reindex_progress_names_each_scanned_page_being_read(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path)
    folder = tmp_path / "uploads" / "default"
    make_scanned_pdf_of(folder / "a-scan.pdf", PAGES)
    write(folder, "b-notice.txt", "关于公交线网优化的通知\n全市年内新开公交线路十二条。\n")
    admin = Admin(settings, hashed_pool(settings), fail_delay_s=0.0)
    token, _ = admin.login(PASSWORD)
    bar: list[tuple[float, str]] = []

    result = admin.reindex(token, None, str(folder), progress=progress_to_gradio(
        lambda fraction, desc="": bar.append((fraction, desc))))

    assert result.ok and result.rows and all(row[1] == "已索引" for row in result.rows), result
    texts = [desc for _, desc in bar]
    reading = [t for t in texts if t.startswith("识别")]
    assert reading == ["识别第1/2页：a-scan.pdf（第 1/2 个文件）", "识别第2/2页：a-scan.pdf（第 1/2 个文件）"], texts
    assert texts[0] == "正在索引 a-scan.pdf（第 1/2 个文件）" and texts[-1] == "正在更新检索索引"
    assert any(t.startswith("正在索引 b-notice.txt（第 2/2 个文件") for t in texts)
    fractions = [f for f, _ in bar]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [f for f, d in bar if d.startswith("识别")] == [0.0, 0.25]  # half of the first of two files per page

    again: list[str] = []  # an unchanged scan: no page is read again, so none is announced
    admin.reindex(token, None, str(folder), progress=progress_to_gradio(lambda fraction, desc="": again.append(desc)))
    assert again and not [t for t in again if t.startswith("识别")]
