"""The app with its OpenAI-compatible /v1 API, served the way `speechqa serve` serves it (app.server_app under
uvicorn), in a thread on a free loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.settings import Settings
from tests.support.app_server import SERVER_TIMEOUT_S
from tests.support.servers import free_port, wait_http


@contextmanager
def serve_with_api(qa: Any, settings: Settings, api_host: str = "127.0.0.1") -> Iterator[str]:
    """`qa`'s archive (plus the other collections of its store) as chat and /v1 API on one port until the block
    ends; yields the base URL ("http://127.0.0.1:PORT/"). The API's keys come from `settings`; `api_host` is the
    address the API believes it is bound to (it refuses to start for a non-loopback one without keys)."""
    import uvicorn

    import app
    from bot.pool import QAPool

    pool = QAPool(settings, default=qa)
    demo = app.build_app(qa, settings, pool)
    api = app.build_api(pool, settings, api_host)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    config = uvicorn.Config(app.server_app(demo, api, "127.0.0.1", port), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        wait_http(url, timeout=SERVER_TIMEOUT_S)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
