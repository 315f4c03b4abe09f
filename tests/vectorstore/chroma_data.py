"""What the Chroma server tests share: the `chroma run` command and the small archive they index."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMA = Path(sys.executable).parent / "chroma"
NOTICE = "关于城区停车收费调整的通知\n经区政府常务会议研究决定，城区路内停车收费标准调整为每小时{fee}元，自下月起执行，由区城管局负责。\n"
OTHER = "关于社区食堂建设的通知\n全区年内建成社区食堂二十家，每家补助资金三十五万元，由区民政局负责组织实施。\n"
PARKING_Q = "城区路内停车收费标准调整为每小时多少元？"
CANTEEN_Q = "社区食堂每家补助资金多少万元？"


def chroma_run(path: Path, port: int) -> tuple[list[str], str, str]:
    """(argv of `chroma run` on `path` at `port`, its base url, its heartbeat url)."""
    url = f"http://127.0.0.1:{port}"
    argv = [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return argv, url, f"{url}/api/v2/heartbeat"
