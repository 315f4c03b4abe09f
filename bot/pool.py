"""The per-archive QA registry: one QA (and so one Archive) per collection, shared by the chat and the admin.

Every chat question goes through `QAPool.get`; answering settings changed at runtime reach every pooled QA
(and those created later) through `QAPool.update_settings`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from bot.qa import QA
from core.settings import Settings

log = logging.getLogger("speechqa.pool")


class UnknownCollection(KeyError):
    """A collection name that is neither in the store nor created in this process."""


class QAPool:
    """One QA (and so one Archive) per collection, created on first use and shared by chat and admin."""

    def __init__(self, settings: Settings, default: QA | None = None,
                 factory: Callable[[str], QA] | None = None) -> None:
        self.settings = settings
        self._factory = factory or (lambda name: QA(self.settings, collection=name))
        self._lock = threading.Lock()
        self._qas: dict[str, QA] = {}
        self._overrides: dict[str, Any] = {}  # settings changed at runtime: applied to QAs created later too
        if default is None:
            default = self._factory(settings.collection)
        self.default_name = default.archive.collection
        self._qas[self.default_name] = default
        self._created: set[str] = set()

    def names(self) -> list[str]:
        """Collections in the store, the configured one and the ones created here; the default first."""
        try:
            stored = self._qas[self.default_name].archive.catalog.collections()
        except Exception:
            log.exception("listing collections failed")
            stored = []
        with self._lock:
            rest = set(stored) | {self.settings.collection} | self._created | set(self._qas)
        rest.discard(self.default_name)
        return [self.default_name, *sorted(rest)]

    def known(self, name: str) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str | None) -> QA:
        """The QA of a known collection (the default for an empty name); UnknownCollection otherwise."""
        name = name or self.default_name
        with self._lock:
            qa = self._qas.get(name)
        if qa is not None:
            return qa
        if not self.known(name):
            raise UnknownCollection(name)
        with self._lock:
            if name not in self._qas:
                created = self._factory(name)
                if self._overrides:
                    created.settings = created.settings.model_copy(update=self._overrides)
                self._qas[name] = created
            return self._qas[name]

    def create(self, name: str) -> None:
        with self._lock:
            self._created.add(name)

    def update_settings(self, update: dict[str, Any]) -> Settings:
        """Replace the settings of every QA (and of those created later) by a copy with `update` applied;
        questions asked from now on use them. Only fields read per question (the answering ones) may be
        changed this way: archives and retrievers keep the settings they were built with."""
        with self._lock:
            self._overrides.update(update)
            self.settings = self.settings.model_copy(update=update)
            for qa in self._qas.values():
                qa.settings = qa.settings.model_copy(update=update)
            return self.settings
