"""The 管理 tab: login, upload, re-index, document removal, new archives and 回答设置.

Only built when an admin password is configured. Every event hands the session's token to `Admin`, which
checks the login on the server for each call; this module only lays out the components and wires them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from admin.answering import ANSWER_MODES
from admin.messages import DOC_HEADERS, KEY_SET, KEY_UNSET, MSG_RUNTIME_ONLY, REPORT_HEADERS
from admin.service import ActionResult, Admin
from admin.uploads import ALLOWED_EXTENSIONS
from ui.render import render_status
from ui.text import (
    ADMIN_INTRO,
    HEAD_ANSWER,
    HEAD_COLLECTION,
    HEAD_DOCS,
    HEAD_REINDEX,
    HEAD_UPLOAD,
    INFO_ANSWER_MODE,
    INFO_LLM_TIMEOUT,
    LABEL_ADMIN_DOCS,
    LABEL_ANSWER_MODE,
    LABEL_ANSWER_SAVE,
    LABEL_ANSWER_TEST,
    LABEL_CREATE,
    LABEL_FILES,
    LABEL_FOLDER,
    LABEL_LLM_CLEAR_KEY,
    LABEL_LLM_KEY,
    LABEL_LLM_MODEL,
    LABEL_LLM_TIMEOUT,
    LABEL_LLM_URL,
    LABEL_LOGIN,
    LABEL_LOGOUT,
    LABEL_NEW_COLLECTION,
    LABEL_PASSWORD,
    LABEL_PICK,
    LABEL_REFRESH,
    LABEL_REINDEX,
    LABEL_REMOVE,
    LABEL_REPORT,
    LABEL_SYNC,
    LABEL_UPLOAD,
    PLACEHOLDER_FOLDER,
    PLACEHOLDER_LLM_KEY,
    PLACEHOLDER_LLM_MODEL,
    PLACEHOLDER_LLM_URL,
    PLACEHOLDER_NEW_COLLECTION,
    PROGRESS_ETA,
    PROGRESS_FILE,
    PROGRESS_FINISH,
    PROGRESS_OCR,
)

if TYPE_CHECKING:
    from vectorstore.archive import Progress


def status_line(result: ActionResult | str, ok: bool | None = None) -> str:
    """The admin status line for an action's result (or a plain message with `ok` given)."""
    message = result if isinstance(result, str) else result.message
    good = ok if ok is not None else (not isinstance(result, str) and result.ok)
    return render_status(message, good)


def progress_text(p: Progress) -> str:
    """What the progress bar says: the file being indexed, or the page OCR is reading in it."""
    if not p.current:
        return PROGRESS_FINISH
    if p.pages_total and p.pages_done < p.pages_total:
        return PROGRESS_OCR.format(page=p.pages_done + 1, pages=p.pages_total, name=p.current, i=p.files_done + 1,
                                   n=p.files_total)
    eta = PROGRESS_ETA.format(s=round(p.eta)) if p.eta else ""
    return PROGRESS_FILE.format(name=p.current, i=p.files_done + 1, n=p.files_total, eta=eta)


def progress_to_gradio(progress: Callable[..., Any]) -> Callable[[Progress], None]:
    """Feed `Archive.index_files` progress (per file, and per page while OCR reads a scan) into Gradio's
    progress bar (`progress(fraction, desc=…)`)."""

    def update(p: Progress) -> None:
        progress(1.0 if not p.current else p.fraction, desc=progress_text(p))

    return update


class AdminTab:
    """The 管理 tab's components (built inside the tabs) and their events (wired once all exist)."""

    def __init__(self, admin: Admin) -> None:
        self.admin = admin
        self.token = gr.State("")  # server-side per session; checked against admin.sessions every call
        gr.Markdown(ADMIN_INTRO)
        with gr.Column(visible=True, elem_id="sq-admin-login") as self.login_box:
            self.password = gr.Textbox(label=LABEL_PASSWORD, type="password", max_lines=1,
                                       elem_id="sq-admin-password")
            self.login = gr.Button(LABEL_LOGIN, variant="primary", elem_id="sq-admin-login-btn")
            self.login_msg = gr.HTML("", elem_id="sq-admin-login-msg")
        with gr.Column(visible=False, elem_id="sq-admin-panel") as self.panel:
            self.status = gr.HTML("", elem_id="sq-admin-status")
            gr.Markdown(f"#### {HEAD_UPLOAD}")
            self.files = gr.File(
                label=LABEL_FILES.format(types=" ".join(ALLOWED_EXTENSIONS), mb=admin.settings.max_upload_mb),
                # no `file_types`: Gradio's own refusal is in English; the server refuses in Chinese instead
                file_count="multiple", type="filepath", elem_id="sq-upload",
            )
            self.upload = gr.Button(LABEL_UPLOAD, variant="primary", elem_id="sq-upload-btn")
            gr.Markdown(f"#### {HEAD_REINDEX}")
            with gr.Row(equal_height=True):
                self.folder = gr.Textbox(label=LABEL_FOLDER, placeholder=PLACEHOLDER_FOLDER, max_lines=1,
                                         scale=4, elem_id="sq-folder")
                self.reindex = gr.Button(LABEL_REINDEX, scale=1, min_width=100, elem_id="sq-reindex-btn")
            self.sync = gr.Checkbox(label=LABEL_SYNC, value=False, elem_id="sq-sync")
            self.report = gr.Dataframe(value=[], headers=REPORT_HEADERS, label=LABEL_REPORT, interactive=False,
                                       wrap=True, max_height=320, column_widths=["44%", "12%", "10%", "34%"],
                                       elem_id="sq-report")
            gr.Markdown(f"#### {HEAD_DOCS}")
            self.docs = gr.Dataframe(value=[], headers=DOC_HEADERS, label=LABEL_ADMIN_DOCS, interactive=False,
                                     wrap=True, max_height=400, column_widths=["42%", "14%", "10%", "34%"],
                                     elem_id="sq-admin-docs")
            with gr.Row(equal_height=True):
                # custom values allowed: the server checks the id, and an API caller gets its Chinese refusal
                self.pick = gr.Dropdown(choices=[], value=None, label=LABEL_PICK, allow_custom_value=True,
                                        scale=4, elem_id="sq-remove-pick")
                self.remove = gr.Button(LABEL_REMOVE, variant="stop", scale=1, min_width=100,
                                        elem_id="sq-remove-btn")
                self.refresh = gr.Button(LABEL_REFRESH, scale=1, min_width=80, elem_id="sq-admin-refresh")
            gr.Markdown(f"#### {HEAD_COLLECTION}")
            with gr.Row(equal_height=True):
                self.new_name = gr.Textbox(label=LABEL_NEW_COLLECTION, placeholder=PLACEHOLDER_NEW_COLLECTION,
                                           max_lines=1, scale=4, elem_id="sq-new-collection")
                self.create = gr.Button(LABEL_CREATE, scale=1, min_width=100, elem_id="sq-create-btn")
            # 回答设置: filled in by the login event only (initial values are in the page config for anyone)
            gr.Markdown(f"#### {HEAD_ANSWER}\n{MSG_RUNTIME_ONLY}")
            self.answer_mode = gr.Radio(choices=[(label, mode) for mode, label in ANSWER_MODES.items()], value=None,
                                        label=LABEL_ANSWER_MODE, info=INFO_ANSWER_MODE, elem_id="sq-answer-mode")
            with gr.Row(equal_height=True):
                self.llm_url = gr.Textbox(label=LABEL_LLM_URL, placeholder=PLACEHOLDER_LLM_URL, max_lines=1, scale=3,
                                          elem_id="sq-llm-url")
                self.llm_model = gr.Textbox(label=LABEL_LLM_MODEL, placeholder=PLACEHOLDER_LLM_MODEL, max_lines=1,
                                            scale=2, elem_id="sq-llm-model")
            with gr.Row(equal_height=True):
                # write-only: the server never sends a key back, only whether one is set (in the placeholder)
                self.llm_key = gr.Textbox(label=LABEL_LLM_KEY, type="password", max_lines=1, scale=3,
                                          elem_id="sq-llm-key")
                self.llm_clear_key = gr.Checkbox(label=LABEL_LLM_CLEAR_KEY, value=False, scale=1,
                                                 elem_id="sq-llm-clear-key")
                # no minimum/maximum here: Gradio would refuse in English; admin.answering checks the range in Chinese
                self.llm_timeout = gr.Number(label=LABEL_LLM_TIMEOUT, info=INFO_LLM_TIMEOUT, value=None, scale=1,
                                             elem_id="sq-llm-timeout")
            with gr.Row():
                self.answer_save = gr.Button(LABEL_ANSWER_SAVE, variant="primary", elem_id="sq-answer-save")
                self.answer_test = gr.Button(LABEL_ANSWER_TEST, elem_id="sq-answer-test")
            self.answer_msg = gr.HTML("", elem_id="sq-answer-msg")
            self.logout = gr.Button(LABEL_LOGOUT, size="sm", elem_id="sq-admin-logout")

    # --- outputs shared by several events ---
    def gate(self, token: str) -> tuple[Any, Any]:
        """Login box and panel visibility for this session (the panel only for a valid token)."""
        logged_in = self.admin.is_admin(token)
        return gr.Column(visible=not logged_in), gr.Column(visible=logged_in)

    def answer_form(self, token: str) -> tuple[Any, ...]:
        """The 回答设置 fields and status line: the settings in effect (never the API key itself), or all
        empty without a valid login."""
        result = self.admin.answer_settings(token)
        view = result.answer
        if not result.ok or view is None:
            return (None, "", "", gr.Textbox(value="", placeholder=""), False, None, "")
        key = gr.Textbox(value="", placeholder=PLACEHOLDER_LLM_KEY.format(state=KEY_SET if view.key_set else KEY_UNSET))
        return (view.mode, view.base_url, view.model, key, False, view.timeout_s, status_line(result))

    def doc_table(self, token: str, collection: str) -> tuple[Any, Any]:
        """The admin document table and the removal choices; empty without a valid login."""
        result = self.admin.documents(token, collection)
        rows = result.rows if result.ok else []
        choices = [(f"{r[0]}（{r[3]}）", str(r[3])) for r in rows]
        return rows, gr.Dropdown(choices=choices, value=None)

    def wire(self, collection: gr.Dropdown, public: list[Any],
             public_refresh: Callable[[str], tuple[Any, ...]]) -> None:
        """Connect the events. `public` are the non-admin components refreshed after a change (document
        list, year filter, collection selector), `public_refresh(collection)` gives their new values."""
        admin = self.admin
        gate_out = [self.login_box, self.panel]
        docs_out = [self.docs, self.pick]
        # write events share one queue slot: they run one at a time (admin.service also holds a lock)
        write = {"concurrency_limit": 1, "concurrency_id": "admin-write", "api_visibility": "undocumented"}

        answer_in = [self.answer_mode, self.llm_url, self.llm_model, self.llm_key, self.llm_clear_key,
                     self.llm_timeout]
        answer_out = [*answer_in, self.answer_msg]

        def login(password: str, coll: str, old_token: str) -> tuple[Any, ...]:
            admin.logout(old_token)  # a new login replaces this session's old one
            token, message = admin.login(password)
            if not token:
                return ("", status_line(message, ok=False), "", *self.gate(""), *self.doc_table("", coll),
                        *self.answer_form(""))
            return (token, "", "", *self.gate(token), *self.doc_table(token, coll), *self.answer_form(token))

        login_io: dict[str, Any] = {
            "inputs": [self.password, collection, self.token],
            "outputs": [self.token, self.login_msg, self.password, *gate_out, *docs_out, *answer_out],
        }
        self.login.click(login, api_name="admin_login", api_visibility="undocumented", **login_io)
        self.password.submit(login, api_visibility="private", **login_io)

        def logout(token: str) -> tuple[Any, ...]:
            message = admin.logout(token)
            return ("", status_line(message, ok=True), "", [], *self.gate(""), *self.doc_table("", ""),
                    *self.answer_form(""))

        self.logout.click(logout, inputs=[self.token],
                          outputs=[self.token, self.login_msg, self.status, self.report, *gate_out, *docs_out,
                                   *answer_out],
                          api_name="admin_logout", api_visibility="undocumented")

        def save_answer(mode: str | None, url: str, model: str, key: str, clear_key: bool, timeout: float | None,
                        token: str) -> tuple[Any, ...]:
            result = admin.set_answer_settings(token, mode, url, model, key, timeout, clear_key=bool(clear_key))
            if result.ok or not admin.is_admin(token):
                return (*self.answer_form(token)[:-1], status_line(result), *self.gate(token))
            # invalid input: the form keeps what was typed (the key too: it is not sent back, only left alone)
            return (*(gr.skip() for _ in answer_in), status_line(result), *self.gate(token))

        self.answer_save.click(save_answer, inputs=[*answer_in, self.token], outputs=[*answer_out, *gate_out],
                               api_name="admin_answer_settings", api_visibility="undocumented",
                               concurrency_limit=1, concurrency_id="admin-settings")

        def test_answer(mode: str | None, url: str, model: str, key: str, clear_key: bool, timeout: float | None,
                        token: str) -> tuple[Any, ...]:
            result = admin.test_answer_settings(token, mode, url, model, key, timeout, clear_key=bool(clear_key))
            return (status_line(result), *self.gate(token))

        self.answer_test.click(test_answer, inputs=[*answer_in, self.token], outputs=[self.answer_msg, *gate_out],
                               api_name="admin_answer_test", api_visibility="undocumented",
                               concurrency_limit=1, concurrency_id="admin-probe", show_progress_on=[self.answer_msg])

        def after(result: ActionResult, token: str, coll: str) -> tuple[Any, ...]:
            public_values = public_refresh(coll) if result.changed else tuple(gr.skip() for _ in public)
            return (status_line(result), *self.gate(token), *self.doc_table(token, coll), *public_values)

        after_out = [self.status, *gate_out, *docs_out, *public]

        def upload(files: list[str] | None, coll: str, token: str,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            result = admin.upload(token, coll, list(files or []), progress=progress_to_gradio(progress))
            return (result.rows, None, *after(result, token, coll))

        self.upload.click(upload, inputs=[self.files, collection, self.token],
                          outputs=[self.report, self.files, *after_out], api_name="admin_upload",
                          show_progress_on=[self.report], **write)

        def reindex(folder: str, sync: bool, coll: str, token: str,
                    progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            result = admin.reindex(token, coll, folder, bool(sync), progress=progress_to_gradio(progress))
            return (result.rows, *after(result, token, coll))

        self.reindex.click(reindex, inputs=[self.folder, self.sync, collection, self.token],
                           outputs=[self.report, *after_out], api_name="admin_reindex",
                           show_progress_on=[self.report], **write)

        def remove(coll: str, doc_id: str | None, token: str) -> tuple[Any, ...]:
            return after(admin.remove(token, coll, doc_id), token, coll)

        self.remove.click(remove, inputs=[collection, self.pick, self.token], outputs=after_out,
                          api_name="admin_remove", **write)

        def documents(coll: str, token: str) -> tuple[Any, ...]:
            result = admin.documents(token, coll)
            return (status_line(result), *self.gate(token), *self.doc_table(token, coll))

        self.refresh.click(documents, inputs=[collection, self.token],
                           outputs=[self.status, *gate_out, *docs_out], api_name="admin_documents",
                           api_visibility="undocumented")

        def create(name: str, token: str) -> tuple[Any, ...]:
            result = admin.create_collection(token, name)
            if not result.ok:
                return (status_line(result), gr.skip(), gr.skip())
            new = name.strip()
            return (status_line(result), "", gr.Dropdown(choices=admin.pool.names(), value=new))

        # selecting the new collection fires the selector's change event, which refreshes everything else
        self.create.click(create, inputs=[self.new_name, self.token],
                          outputs=[self.status, self.new_name, collection], api_name="admin_create_collection",
                          **write)
