"""The real app served in-process on a free port, and the demo archive with questions it answers or not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings
from tests.support.env import REPO
from tests.support.servers import free_port, wait_http

DEMO_ARCHIVE = REPO / "demo" / "archive"
DEMO_QUESTION = "2025年临江区计划整治多少条背街小巷？由哪个部门牵头？"
DEMO_FACT = "６０条"  # in the meeting minutes the demo question retrieves
OUT_OF_SCOPE = "量子计算机芯片的制冷温度是多少？"
REFUSAL = "资料库中没有找到相关内容"
SERVER_TIMEOUT_S = 120.0


@contextmanager
def serve_app(qa: Any, settings: Settings) -> Iterator[str]:
    """`app.build_app(qa, settings)` served on 127.0.0.1 until the block ends; yields its URL once it answers."""
    import app

    demo = app.build_app(qa, settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        wait_http(url, timeout=SERVER_TIMEOUT_S)
        yield url
    finally:
        demo.close()


@dataclass
class Served:
    """The app being served: its URL and the QA and settings behind it."""

    url: str
    qa: Any  # bot.qa.QA
    settings: Settings


@contextmanager
def serve_demo(db: Path) -> Iterator[Served]:
    """demo/archive freshly indexed into `db`, a fresh QA over it (as `speechqa serve` builds it), served."""
    from bot.qa import QA
    from vectorstore.archive import Archive

    settings = Settings(db=db)
    report = Archive(settings).index_paths([DEMO_ARCHIVE])
    assert not report.failed, report.summary()
    qa = QA(settings)
    n_files = sum(1 for p in DEMO_ARCHIVE.rglob("*") if p.is_file())
    assert len(qa.list_documents()) == n_files, "every demo document should be indexed"
    with serve_app(qa, settings) as url:
        yield Served(url=url, qa=qa, settings=settings)
