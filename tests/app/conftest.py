"""Make `import app` mean the repository's app.py, not this test folder.

Plain `pytest` puts `tests/` on sys.path (not the repository root), so the name `app` would otherwise
resolve to the namespace package `tests/app`. `pythonpath = ["."]` in the pytest settings does the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if getattr(sys.modules.get("app"), "__file__", None) is None:
    sys.modules.pop("app", None)
