"""The web app: a chat with numbered citations (generated answers stream in and can be stopped), a document
viewer, a document list and, when an admin password is configured, a 管理 tab (upload, re-index, remove,
collections, answering settings), and beside it, on the same port, the OpenAI-compatible API under /v1
(ui.api: any OpenAI client can ask the archive; `serve` mounts the Gradio app into that FastAPI app).

This module lays the parts out and wires their events; the parts live in `ui/` (labels in ui.text, CSS/JS
in ui.assets, HTML in ui.render, the chat in ui.chat, documents in ui.documents, the 管理 tab in
ui.admin_tab). Answering, retrieval and documents come from `bot.qa.QA` (one per collection, via
`bot.pool.QAPool`); admin actions and their login checks live in `admin.service.Admin`.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

import gradio as gr
from fastapi import FastAPI

from admin.service import Admin
from bot.pool import QAPool, UnknownCollection
from core.settings import Settings, get_settings
from ui.admin_tab import AdminTab
from ui.api import create_api, disabled_api, load_keys, open_api_refusal
from ui.assets import CSS
from ui.chat import Chat, build_chat_tab
from ui.documents import DocumentViews, build_docs_tab, build_viewer, empty_viewer
from ui.text import APP_INTRO, APP_TITLE, LABEL_COLLECTION, TAB_ADMIN, TAB_CHAT, TAB_DOCS

if TYPE_CHECKING:
    from bot.qa import QA

log = logging.getLogger("speechqa.app")

ASK_CONCURRENCY = 4  # questions answered at once; admin writes run one at a time


def build_app(qa: QA, settings: Settings, pool: QAPool | None = None) -> gr.Blocks:
    """The Gradio Blocks app around a loaded QA object (its collection is the default one; the others
    are loaded on first use through `pool`). Launch it with `launch`.

    The 管理 tab and its endpoints exist only when `settings.admin_password` is set.
    """
    pool = pool or QAPool(settings, default=qa)
    admin = Admin(settings, pool) if settings.admin_password.get_secret_value() else None

    def qa_for(collection: str | None) -> QA | None:
        try:
            return pool.get(collection)
        except UnknownCollection:
            return None

    chat = Chat(qa_for, settings.top_k)
    views = DocumentViews(qa_for)
    default = pool.default_name
    with gr.Blocks(title=APP_TITLE, fill_width=True) as demo:
        current_doc = gr.State("")
        gr.Markdown(f"## {APP_TITLE}\n{APP_INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                collection = gr.Dropdown(choices=pool.names(), value=default, label=LABEL_COLLECTION,
                                         elem_id="sq-collection")
                with gr.Tabs():
                    with gr.Tab(TAB_CHAT, id="chat"):
                        tab = build_chat_tab(views.year_choices(default))
                    with gr.Tab(TAB_DOCS, id="docs"):
                        docs_tab = build_docs_tab(views.doc_list(default))
                    admin_tab = None
                    if admin is not None:
                        with gr.Tab(TAB_ADMIN, id="admin"):
                            admin_tab = AdminTab(admin)
            with gr.Column(scale=2, min_width=360):
                viewer = build_viewer()

        chat_view = [tab.chatbot, tab.turns]
        asking = gr.on(
            [tab.question.submit, tab.send.click], chat.respond,
            inputs=[tab.question, tab.turns, tab.year, tab.only_doc, current_doc, collection],
            outputs=[tab.question, *chat_view, tab.send, tab.stop],
            api_visibility="private", trigger_mode="once",
            # answering only reads; several questions run at once, sharing one limit
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
        )
        # also runs when the turn is cancelled (停止, 清空对话, another collection)
        asking.then(chat.idle, outputs=[tab.send, tab.stop], api_visibility="private", concurrency_limit=None)
        # the cancel first; then `stopped` reads the turns as the cancelled turn left them (an update that was
        # already on its way when 停止 was clicked can no longer overwrite the draft's 未核对 mark)
        tab.stop.click(None, cancels=[asking], api_visibility="private", concurrency_limit=None).then(
            chat.stopped, inputs=[tab.turns], outputs=[tab.turns, tab.chatbot], api_visibility="private",
            concurrency_limit=None)

        gr.api(chat.ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
        tab.clear.click(chat.cleared, outputs=[tab.turns, tab.chatbot], cancels=[asking], api_visibility="private")
        # other read-only events: a few at once, in their own group so questions never wait for them
        read: dict[str, Any] = {"api_visibility": "private", "concurrency_limit": ASK_CONCURRENCY,
                                "concurrency_id": "read"}
        viewer.open(views.open_document, inputs=[collection], outputs=[viewer, current_doc], **read)
        docs_tab.refresh.click(views.doc_list, inputs=[collection], outputs=docs_tab.docs, **read)

        def public_refresh(coll: str) -> tuple[Any, ...]:
            """After the archive changed: the document list, the year filter and the collection choices."""
            return views.doc_list(coll), views.year_filter(coll), gr.Dropdown(choices=pool.names())

        public = [docs_tab.docs, tab.year, collection]
        demo.load(public_refresh, inputs=[collection], outputs=public, **read)

        switch_out: list[Any] = [docs_tab.docs, tab.year, *chat_view, viewer, current_doc]
        if admin_tab is not None:
            admin_tab.wire(collection, public, public_refresh)
            switch_out += [admin_tab.docs, admin_tab.pick]

        def switch(coll: str, *token: str) -> tuple[Any, ...]:
            """Another collection: its documents and years; the chat and viewer start afresh."""
            values: tuple[Any, ...] = (views.doc_list(coll), views.year_filter(coll), [], [], empty_viewer(), "")
            if admin_tab is not None:
                values += admin_tab.doc_table(token[0] if token else "", coll)
            return values

        switch_in: list[Any] = [collection] + ([admin_tab.token] if admin_tab is not None else [])
        collection.change(switch, inputs=switch_in, outputs=switch_out, cancels=[asking], **read)
    # a hard cap for Gradio's (unauthenticated) upload route; see `launch`
    demo._sq_max_file_size = f"{2 * settings.max_upload_mb}mb"  # type: ignore[attr-defined]
    return demo


def launch(demo: gr.Blocks, host: str, port: int, **kwargs: Any) -> Any:
    """Start the Gradio app alone (no /v1; `speechqa serve` runs `serve`) with the app's CSS; extra keyword
    arguments go to `Blocks.launch`.

    Gradio's upload route takes files from anyone before any handler runs, so it gets a hard cap: twice
    the admin upload limit. Files between the two are refused by the admin tab with its Chinese message;
    larger ones never reach the server's disk (Gradio shows its own, English, message).
    """
    max_file_size = getattr(demo, "_sq_max_file_size", None)
    if max_file_size is not None:
        kwargs.setdefault("max_file_size", max_file_size)
    return demo.launch(server_name=host, server_port=port, css=CSS, footer_links=[], show_error=False,
                       **kwargs)


def build_api(pool: QAPool, settings: Settings, host: str) -> FastAPI:
    """The /v1 app over the chat's pool of archives, with the staff keys of `settings`. Bound to anything but
    loopback without keys, it does not start: every /v1 request gets the reason (how to set keys), which is
    also printed now."""
    keys = load_keys(settings)
    refusal = open_api_refusal(host, keys)
    if refusal:
        log.error(refusal)
        print(refusal, file=sys.stderr, flush=True)
        return disabled_api(refusal)
    return create_api(pool, keys, concurrency=ASK_CONCURRENCY)


def server_app(demo: gr.Blocks, api: FastAPI | None, host: str = "127.0.0.1", port: int = 7860) -> FastAPI:
    """One ASGI app for one port: `api` under /v1 and the Gradio app (with the app's CSS, the same upload cap
    as `launch`) at /. Serve it with uvicorn (`serve`)."""
    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    if api is not None:
        root.mount("/v1", api)
    max_file_size = getattr(demo, "_sq_max_file_size", None)
    return gr.mount_gradio_app(root, demo, path="/", server_name=host, server_port=port, footer_links=[],
                               show_error=False, max_file_size=max_file_size, css=CSS)


def serve(demo: gr.Blocks, api: FastAPI | None, host: str, port: int) -> None:
    """Serve the chat and the API on host:port until interrupted."""
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    print(f"网页应用：http://{shown}:{port}/  OpenAI 兼容接口：http://{shown}:{port}/v1", flush=True)
    uvicorn.run(server_app(demo, api, host, port), host=host, port=port, log_level="warning")


def main(host: str | None = None, port: int | None = None, settings: Settings | None = None) -> None:
    """Entry point of `speechqa serve`: load the archive once and serve the app and the /v1 API on one port
    (127.0.0.1 by default)."""
    from bot.qa import QA
    from core.runtime import apply_defaults

    apply_defaults()
    settings = settings or get_settings()
    host, port = host or settings.host, port or settings.port
    qa = QA(settings)
    threading.Thread(target=qa.warm, name="warm", daemon=True).start()  # analyse the documents meanwhile
    pool = QAPool(settings, default=qa)
    demo = build_app(qa, settings, pool)
    serve(demo, build_api(pool, settings, host), host, port)


if __name__ == "__main__":
    main()
