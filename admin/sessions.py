"""Admin login sessions: tokens issued by the server, valid until they expire or are revoked."""

from __future__ import annotations

import secrets
import threading
import time

SESSION_TTL_S = 8 * 3600.0
MAX_SESSIONS = 1000


class Sessions:
    """Login tokens issued by the server. A token is valid until it expires or is revoked."""

    def __init__(self, ttl_s: float = SESSION_TTL_S, max_sessions: int = MAX_SESSIONS) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            while len(self._expiry) >= self.max_sessions:  # drop the oldest
                self._expiry.pop(min(self._expiry, key=self._expiry.__getitem__))
            self._expiry[token] = now + self.ttl_s
        return token

    def valid(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        with self._lock:
            expiry = self._expiry.get(token)
            if expiry is None:
                return False
            if expiry <= time.monotonic():
                del self._expiry[token]
                return False
            return True

    def revoke(self, token: object) -> None:
        if isinstance(token, str):
            with self._lock:
                self._expiry.pop(token, None)
