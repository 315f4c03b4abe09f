"""The per-archive QA registry: the default collection first, unknown names refused, collections created
on first use, and runtime settings reaching every QA, including those created later."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.pool import QAPool, UnknownCollection
from core.settings import Settings
from tests.support.admin import hashed_pool
from tests.support.archives import write


def test_collections_are_listed_created_and_refused(tmp_path: Path) -> None:
    pool = hashed_pool(Settings(db=tmp_path / "db", collection="市政府"))
    assert pool.default_name == "市政府" and pool.names() == ["市政府"]
    assert pool.get(None) is pool.get("") is pool.get("市政府")
    with pytest.raises(UnknownCollection):
        pool.get("区政府")
    assert not pool.known("区政府")
    pool.create("区政府")
    assert pool.known("区政府") and pool.names() == ["市政府", "区政府"]
    district = pool.get("区政府")
    assert district is pool.get("区政府") and district.archive.collection == "区政府"


def test_stored_collections_are_known_to_a_new_pool(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "db")
    first = hashed_pool(settings)
    first.create("区政府")
    src = write(tmp_path / "src", "通知.txt", "关于公交线网优化的通知\n全市年内新开公交线路十二条。\n")
    assert first.get("区政府").archive.index_paths([src]).count("indexed") == 1
    assert hashed_pool(settings).names() == ["default", "区政府"]  # read from the store, not this process


def test_settings_updates_reach_every_qa_and_later_ones(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "db")
    pool: QAPool = hashed_pool(settings)
    pool.create("区政府")
    before = pool.get("default")
    returned = pool.update_settings({"answer_mode": "openai", "llm_timeout_s": 7.0})
    assert returned.answer_mode == "openai" and pool.settings is returned
    assert (before.settings.answer_mode, before.settings.llm_timeout_s) == ("openai", 7.0)
    later = pool.get("区政府")
    assert (later.settings.answer_mode, later.settings.llm_timeout_s) == ("openai", 7.0)
    assert settings.answer_mode == "extractive"  # the configured object is left alone
