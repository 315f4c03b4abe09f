"""The shared real Chromium (tests/support/browser.py) for the browser tests of this folder."""

from __future__ import annotations

from tests.support.browser import browser, page

__all__ = ["browser", "page"]
