"""Login sessions: issued, checked, revoked, expired, and bounded in number."""

from __future__ import annotations

import time

from admin.sessions import Sessions


def test_sessions_issue_check_revoke_and_expire() -> None:
    s = Sessions(ttl_s=0.2, max_sessions=3)
    a = s.issue()
    assert len(a) >= 40 and s.valid(a)
    assert not s.valid("") and not s.valid(None) and not s.valid(a + "x") and not s.valid(["x"])
    s.revoke(a)
    assert not s.valid(a)
    b = s.issue()
    time.sleep(0.3)
    assert not s.valid(b)
    tokens = [s.issue() for _ in range(5)]
    assert sum(s.valid(t) for t in tokens) == 3  # the oldest were dropped
    assert s.valid(tokens[-1])
