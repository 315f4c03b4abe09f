"""Admin test builders: the password, a pool that must never be reached, and pools over a hashing embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from admin.service import Admin
from bot.pool import QAPool
from bot.qa import QA
from core.settings import Settings

PASSWORD = "正确的密码-Secret-42"
KEY = "sk-test-SECRET-key-4711"  # an API key that must never be shown back
UNREACHABLE = "http://127.0.0.1:9/v1"  # nothing listens on port 9


class TouchedPool:
    """A stand-in for QAPool that fails the test if an action gets as far as the archive."""

    default_name = "default"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get(self, name: str | None) -> Any:
        self.calls.append(f"get:{name}")
        raise AssertionError("the archive was reached without a valid login")

    def known(self, name: str) -> bool:
        self.calls.append(f"known:{name}")
        return False

    def create(self, name: str) -> None:
        self.calls.append(f"create:{name}")

    def update_settings(self, update: dict[str, Any]) -> None:
        self.calls.append(f"update_settings:{sorted(update)}")

    def names(self) -> list[str]:
        return [self.default_name]


def admin_settings(tmp_path: Path, password: str = PASSWORD, **kw: Any) -> Settings:
    """Settings with the store in `tmp_path/db`, uploads in `tmp_path/uploads` and an admin password."""
    return Settings(db=tmp_path / "db", upload_dir=tmp_path / "uploads", admin_password=SecretStr(password), **kw)


def touched_admin(tmp_path: Path, password: str = PASSWORD, **kw: Any) -> tuple[Admin, TouchedPool]:
    """An admin whose pool fails the test when reached."""
    pool = TouchedPool()
    return Admin(admin_settings(tmp_path, password, **kw), pool, fail_delay_s=0.0), pool  # type: ignore[arg-type]


def hashed_pool(settings: Settings) -> QAPool:
    """A pool whose archives (real Chroma, real catalog) embed with the hashing stand-in: no model needed."""
    from tests.support.fakes import HashEmbedder
    from vectorstore.archive import Archive

    def make(name: str) -> QA:
        return QA(settings, collection=name, archive=Archive(settings, name, embedder=HashEmbedder()))

    return QAPool(settings, default=make(settings.collection), factory=make)
