"""The web app: a chat with numbered citations (generated answers stream in and can be stopped), a document
viewer, a document list and, when an admin password is configured, a 管理 tab (upload, re-index, remove,
collections, answering settings).

UI only: answering, retrieval and documents come from `bot.qa.QA` (one per collection, via
`bot.admin.QAPool`); admin actions and their login checks live in `bot.admin.Admin`. Every piece of
document or question text is HTML-escaped here before it is put into any HTML.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import gradio as gr

from bot.types import Answer, Citation
from ingest.model import Document
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.admin import ActionResult, Admin, QAPool
    from bot.qa import QA
    from vectorstore.archive import Progress

log = logging.getLogger("speechqa.app")

# --- user-facing text (Chinese) ---
APP_TITLE = "讲话与会议资料智能问答"
APP_INTRO = (
    "根据资料库中的讲话、工作报告和会议纪要回答问题。回答中的 [1]、[2] 是引用编号，"
    "点击引用可在右侧查看原文，被引用的段落会高亮显示。"
)
TAB_CHAT = "问答"
TAB_DOCS = "文档浏览"
LABEL_QUESTION = "问题"
PLACEHOLDER_QUESTION = "请输入问题，按回车或点击“发送”"
LABEL_SEND = "发送"
LABEL_STOP = "停止"
LABEL_CLEAR = "清空对话"
LABEL_YEAR = "年份"
ALL_YEARS = "全部"
LABEL_ONLY_DOC = "只在右侧打开的文档中查找"
LABEL_CHAT = "对话"
LABEL_REFRESH = "刷新列表"
CHAT_PLACEHOLDER = "您好！请输入关于资料库内容的问题，例如某项工作的目标、负责单位或完成时限。"
MSG_WORKING = "正在查找资料，请稍候……"
MSG_STOPPED = "已停止生成。"
NOTE_REWRITE = "已理解为：{q}"
MSG_ERROR = "抱歉，系统暂时无法回答这个问题，请稍后再试。"
MSG_NO_DOC_OPEN = "请先在右侧打开一份文档，再勾选“只在右侧打开的文档中查找”。"
MSG_DOC_NOT_FOUND = "没有找到这份文档，它可能已被移出资料库。"
MSG_DOCS_ERROR = "文档列表暂时无法读取，请稍后再试。"
VIEWER_EMPTY = "点击回答下方的引用，或在“文档浏览”中点击文档标题，原文会显示在这里。"
CITES_HEAD = "引用来源"
OPEN_HINT = "点击查看原文"
VIEWER_NOTE = "已高亮显示引文 [{n}] 对应的段落"
META_DATE = "日期"
META_SPEAKER = "讲话人"
META_MEETING = "会议"
META_SECTION = "章节"
META_PAGE = "页码"
META_SOURCE = "来源文件"
DOCS_COUNT = "资料库共收录 {n} 份文档，点击标题查看全文。"
DOCS_EMPTY = "资料库中还没有文档。"
DOCS_HEAD = ("标题", "日期", "讲话人", "段落数")
LABEL_COLLECTION = "资料库"
MSG_UNKNOWN_COLLECTION = "没有找到这个资料库，请刷新页面后重新选择。"
# admin tab
TAB_ADMIN = "管理"
LABEL_PASSWORD = "管理员密码"
LABEL_LOGIN = "登录"
LABEL_LOGOUT = "退出登录"
ADMIN_INTRO = ("管理员登录后可以上传文件、重新索引文件夹、删除文档、新建资料库，以及调整回答设置。"
               "文件和文档操作作用于上方选中的资料库，回答设置作用于所有资料库。")
HEAD_UPLOAD = "上传文件"
LABEL_FILES = "选择文件（支持 {types}，单个文件不超过 {mb} MB）"
LABEL_UPLOAD = "上传并索引"
HEAD_REINDEX = "重新索引服务器上的文件夹"
LABEL_FOLDER = "文件夹路径（服务器上的完整路径）"
PLACEHOLDER_FOLDER = "例如 /data/讲话稿"
LABEL_SYNC = "同步删除：同时移除资料库中不在这个文件夹里的文档（包括上传的文档）"
LABEL_REINDEX = "开始索引"
LABEL_REPORT = "处理结果"
HEAD_DOCS = "文档管理"
LABEL_ADMIN_DOCS = "资料库中的文档"
LABEL_PICK = "选择要删除的文档"
LABEL_REMOVE = "删除所选文档"
HEAD_COLLECTION = "新建资料库"
LABEL_NEW_COLLECTION = "新资料库名称"
PLACEHOLDER_NEW_COLLECTION = "例如：区政府"
LABEL_CREATE = "新建资料库"
HEAD_ANSWER = "回答设置"
LABEL_ANSWER_MODE = "回答方式"
INFO_ANSWER_MODE = ("摘录：直接摘录资料原文；本地模型：在本机运行随软件提供的模型（需先运行 bash scripts/fetch_llm.sh）；"
                    "OpenAI 兼容服务：vLLM、Ollama、llama.cpp 服务等。生成的回答会逐句核对，核对不通过时改为摘录。")
LABEL_LLM_URL = "服务地址"
PLACEHOLDER_LLM_URL = "例如 http://127.0.0.1:8080/v1（OpenAI 兼容服务必填）"
LABEL_LLM_MODEL = "模型名称"
PLACEHOLDER_LLM_MODEL = "服务上的模型名称，可留空"
LABEL_LLM_KEY = "API 密钥"
PLACEHOLDER_LLM_KEY = "当前{state}。留空则保留当前的密钥"
LABEL_LLM_CLEAR_KEY = "清除当前的 API 密钥"
LABEL_LLM_TIMEOUT = "时间限制（秒）"
INFO_LLM_TIMEOUT = "超过这个时间仍未生成完，改为显示摘录的回答"
LABEL_ANSWER_SAVE = "保存"
LABEL_ANSWER_TEST = "测试连接"
PROGRESS_FILE = "正在索引 {name}（第 {i}/{n} 个文件{eta}）"
PROGRESS_ETA = "，预计还需 {s} 秒"
PROGRESS_FINISH = "正在更新检索索引"
ASK_CONCURRENCY = 4  # questions answered at once; admin writes run one at a time

CONTEXT_PREVIEW = 60  # characters of context shown on each side of a cited passage in the chat
STREAM_EVERY_S = 0.1  # at most this often a streamed answer is re-sent to the browser while tokens arrive

CSS = """
.sq-answer { line-height: 1.7; }
.sq-refused { color: var(--body-text-color-subdued); }
.sq-note { color: var(--body-text-color-subdued); font-size: 0.88em; margin-bottom: 0.3em; }
.sq-stopped { margin: 0.3em 0 0 0; }
.sq-cites { margin-top: 0.6em; border-top: 1px solid var(--border-color-primary); padding-top: 0.4em; }
.sq-cites-head { font-weight: 600; font-size: 0.9em; margin-bottom: 0.3em; }
.sq-cite-item { margin: 0.45em 0; font-size: 0.92em; }
.sq-cite-meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.sq-cite-text { margin: 0.2em 0 0 0; padding-left: 0.6em; border-left: 3px solid var(--border-color-accent);
  color: var(--body-text-color); display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 5;
  overflow: hidden; }
.sq-cite-ctx { color: var(--body-text-color-subdued); }
a.sq-cite { cursor: pointer; color: var(--link-text-color); text-decoration: none; font-weight: 600; }
a.sq-cite:hover { text-decoration: underline; }
a.sq-ref { font-weight: 600; margin: 0 1px; }
#sq-viewer .sq-doc-body { position: relative; max-height: 70vh; overflow-y: auto; white-space: pre-wrap;
  line-height: 1.8; padding: 0.6em 0.8em; border: 1px solid var(--border-color-primary); border-radius: 6px; }
#sq-viewer .sq-doc-title { font-size: 1.15em; font-weight: 700; margin-bottom: 0.2em; }
#sq-viewer .sq-doc-meta { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 0.3em; }
#sq-viewer .sq-doc-note { font-size: 0.9em; margin-bottom: 0.4em; }
#sq-viewer .sq-ctx { background: rgba(255, 221, 87, 0.22); }
#sq-viewer mark { background: #ffe066; color: #000; padding: 0 1px; }
#sq-viewer .sq-empty, .sq-doc-list .sq-empty { color: var(--body-text-color-subdued); padding: 1em 0; }
.sq-doc-list table { width: 100%; border-collapse: collapse; }
.sq-doc-list th, .sq-doc-list td { text-align: left; padding: 0.35em 0.5em;
  border-bottom: 1px solid var(--border-color-primary); }
.sq-doc-list a.sq-open { cursor: pointer; color: var(--link-text-color); }
.sq-admin-ok { color: var(--body-text-color); }
.sq-admin-error { color: var(--error-text-color, #b42318); font-weight: 600; }
"""

# Runs once when the viewer is mounted. Clicks on citation links (inside chat messages, which are
# sanitized by Gradio and cannot carry handlers) and on document links are caught at the document
# level and sent to Python as the viewer's custom "open" event. After the viewer re-renders, the
# highlighted passage is scrolled into view inside the viewer's own scroll box.
VIEWER_JS = """
window.__sqOpen = (payload) => trigger('open', payload);
if (!window.__sqClickBound) {
  window.__sqClickBound = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest ? ev.target.closest('a.sq-cite, a.sq-open') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const href = a.getAttribute('href') || '';
    const q = new URLSearchParams(href.slice(href.indexOf('?') + 1));
    const v = (k) => q.get(k) || '';
    window.__sqOpen({doc: v('doc'), n: v('n'), s: v('s'), e: v('e'), hs: v('hs'), he: v('he')});
  }, true);
}
const sqScroll = () => {
  const box = element.querySelector('.sq-doc-body');
  if (!box) return;
  const m = box.querySelector('mark');
  box.scrollTop = m ? Math.max(0, m.offsetTop - box.clientHeight / 3) : 0;
  box.scrollIntoView({block: 'nearest'});
};
watch('value', () => requestAnimationFrame(sqScroll));
"""


def esc(text: object) -> str:
    """HTML-escape text for any HTML we build; also neutralises template syntax (`${}`, `{{ }}`)."""
    out = html.escape(str(text), quote=True)
    return out.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")


def esc_lines(text: str) -> str:
    """Escaped text on one line: newlines become <br> so Markdown never sees a blank line or an indent."""
    return esc(text).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _href(**values: object) -> str:
    """The link target that carries what to open. Gradio sanitizes chat messages and drops data-*
    attributes, so the payload travels in the fragment: `#sq-open?doc=…&n=…`; the page script reads it."""
    return esc("#sq-open?" + urlencode({k: str(v) for k, v in values.items()}, quote_via=quote))


def _cite_href(c: Citation) -> str:
    return _href(doc=c.doc_id, n=c.n, s=c.start, e=c.end, hs=c.hit_start, he=c.hit_end)


def _meta_parts(date: str, speaker: str, meeting: str) -> list[str]:
    parts = []
    if date:
        parts.append(f"{META_DATE}：{esc(date)}")
    if speaker:
        parts.append(f"{META_SPEAKER}：{esc(speaker)}")
    if meeting:
        parts.append(f"{META_MEETING}：{esc(meeting)}")
    return parts


def _hit_span(c: Citation) -> tuple[int, int]:
    """The retrieved passage's offsets inside `c.text` (the whole text when the hit offsets are unset)."""
    if c.hit_end > c.hit_start and c.start <= c.hit_start and c.hit_end <= c.end:
        return c.hit_start - c.start, c.hit_end - c.start
    return 0, len(c.text)


def render_citation(c: Citation) -> str:
    a, b = _hit_span(c)
    before, hit, after = c.text[:a], c.text[a:b], c.text[b:]
    if len(before) > CONTEXT_PREVIEW:
        before = "…" + before[-CONTEXT_PREVIEW:]
    if len(after) > CONTEXT_PREVIEW:
        after = after[:CONTEXT_PREVIEW] + "…"
    meta = _meta_parts(c.date, c.speaker, c.meeting)
    if c.section:
        meta.append(f"{META_SECTION}：{esc(c.section)}")
    if c.page:
        meta.append(f"{META_PAGE}：{c.page}")
    title = esc(c.title or c.source)
    return (
        f'<div class="sq-cite-item">'
        f'<a class="sq-cite" href="{_cite_href(c)}" title="{OPEN_HINT}">[{c.n}] {title}</a>'
        f'<div class="sq-cite-meta">{" · ".join(meta)}</div>'
        f'<div class="sq-cite-text"><span class="sq-cite-ctx">{esc_lines(before)}</span>'
        f"{esc_lines(hit)}"
        f'<span class="sq-cite-ctx">{esc_lines(after)}</span></div>'
        f"</div>"
    )


_MARKER = re.compile(r"\[(\d{1,3})\]")


def render_answer(answer: Answer) -> str:
    """One chat message: the answer (its [n] markers linked) and, unless refused, the numbered citations."""
    if answer.error:
        return f'<div class="sq-answer sq-refused">{esc_lines(answer.error)}</div>'
    if answer.refused or not answer.citations:
        return f'<div class="sq-answer sq-refused">{esc_lines(answer.answer)}</div>'
    by_n = {c.n: c for c in answer.citations}

    def link(m: re.Match[str]) -> str:
        c = by_n.get(int(m.group(1)))
        if c is None:
            return m.group(0)
        return f'<a class="sq-cite sq-ref" href="{_cite_href(c)}" title="{OPEN_HINT}">[{c.n}]</a>'

    body = _MARKER.sub(link, esc_lines(answer.answer))
    cites = "".join(render_citation(c) for c in answer.citations)
    return (
        f'<div class="sq-answer">{body}</div>'
        f'<div class="sq-cites"><div class="sq-cites-head">{CITES_HEAD}</div>{cites}</div>'
    )


def _empty(message: str) -> str:
    return f'<div class="sq-empty">{esc(message)}</div>'


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def render_document(doc: Document, hit: tuple[int, int] | None = None, context: tuple[int, int] | None = None,
                    n: int | None = None) -> str:
    """The whole cleaned text, the hit wrapped in <mark id="sq-hit"> and its context lightly shaded."""
    text = doc.text
    size = len(text)
    meta = _meta_parts(doc.date, doc.speaker, doc.meeting)
    meta.append(f"{META_SOURCE}：{esc(doc.source)}")
    head = (
        f'<div class="sq-doc-title">{esc(doc.title or doc.doc_id)}</div>'
        f'<div class="sq-doc-meta">{" · ".join(meta)}</div>'
    )
    if hit is None:
        body = esc(text)
    else:
        hs = min(max(hit[0], 0), size)
        he = min(max(hit[1], hs), size)
        cs, ce = context if context is not None else (hs, he)
        cs = min(max(cs, 0), hs)
        ce = min(max(ce, he), size)
        body = (
            f"{esc(text[:cs])}<span class=\"sq-ctx\">{esc(text[cs:hs])}"
            f"<mark id=\"sq-hit\">{esc(text[hs:he])}</mark>{esc(text[he:ce])}</span>{esc(text[ce:])}"
        )
        if n is not None:
            head += f'<div class="sq-doc-note">{esc(VIEWER_NOTE.format(n=n))}</div>'
    return f'<div class="sq-doc">{head}<div class="sq-doc-body">{body}</div></div>'


def render_doc_list(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return _empty(DOCS_EMPTY)
    rows = sorted(rows, key=lambda r: (str(r.get("date") or ""), str(r.get("title") or "")), reverse=True)
    head = "".join(f"<th>{esc(h)}</th>" for h in DOCS_HEAD)
    body = "".join(
        "<tr>"
        f'<td><a class="sq-open" href="{_href(doc=r.get("doc_id", ""))}">'
        f'{esc(r.get("title") or r.get("doc_id", ""))}</a></td>'
        f'<td>{esc(r.get("date") or "")}</td><td>{esc(r.get("speaker") or "")}</td>'
        f'<td>{esc(r.get("passages", ""))}</td>'
        "</tr>"
        for r in rows
    )
    count = esc(DOCS_COUNT.format(n=len(rows)))
    return f"<p>{count}</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": f'<div class="sq-user">{esc_lines(text)}</div>'}


def _bot(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


# --- streamed answers: the message while tokens arrive, its notes, and what a 停止 leaves ---
# A message still being written carries the class `sq-pending` (and `sq-waiting` before its first token);
# the final answer replaces it, or a 停止 turns it into what was shown plus MSG_STOPPED.
_PENDING = "sq-pending"
_WAITING = "sq-waiting"
_WORKING_HTML = f'<div class="sq-answer sq-refused {_PENDING} {_WAITING}">{esc(MSG_WORKING)}</div>'


def render_notes(notes: Sequence[str]) -> str:
    """Small notes above an answer: the rewritten question, a time-out or a dropped sentence."""
    return "".join(f'<div class="sq-note">{esc_lines(n)}</div>' for n in notes if n)


def render_streaming(text: str, notes: Sequence[str] = ()) -> str:
    """The message while the model writes: its raw text so far (unchecked, no links), or the waiting line."""
    if not text:
        return render_notes(notes) + _WORKING_HTML
    return render_notes(notes) + f'<div class="sq-answer {_PENDING}">{esc_lines(text)}</div>'


def render_stopped(content: str) -> str | None:
    """A message stopped while being written: what was shown plus MSG_STOPPED; None if it was not pending.
    (Text inside our messages is escaped, so a quoted `class="…"` can never look like ours.)"""
    if _WORKING_HTML in content:  # stopped before the first token: nothing to keep but the notes
        return content.replace(_WORKING_HTML, f'<div class="sq-answer sq-refused">{esc(MSG_STOPPED)}</div>')
    streaming = f'<div class="sq-answer {_PENDING}">'
    if streaming not in content:
        return None
    kept = content.replace(streaming, '<div class="sq-answer">')
    return kept + f'<div class="sq-note sq-stopped">{esc(MSG_STOPPED)}</div>'


def _message_text(message: dict[str, Any]) -> str:
    """A chat message's content as one string (Gradio hands back text parts as [{"type": "text", …}])."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list | tuple):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return ""


_NOTE_DIV = re.compile(r'<div class="sq-note[^"]*">.*?</div>', re.S)
_CITES_BLOCK = re.compile(r'<div class="sq-cites">.*', re.S)
_TAG = re.compile(r"<[^>]*>")


def _plain(content: str) -> str:
    """The text a user sees in one of our messages, without notes or the citation list."""
    content = _CITES_BLOCK.sub("", _NOTE_DIV.sub("", content))
    return html.unescape(_TAG.sub("", content.replace("<br>", "\n"))).strip()


def chat_pairs(messages: Sequence[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """(question, answer) pairs of the chat so far, as plain text, for rewriting follow-up questions.
    Answers that never came (still waiting, or stopped before any text) count as empty."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    for m in messages or []:
        text = _message_text(m)
        if m.get("role") == "user":
            if question is not None:
                pairs.append((question, ""))
            question = _plain(text)
        elif m.get("role") == "assistant" and question is not None:
            answer = "" if _WORKING_HTML in text else _plain(text)
            pairs.append((question, "" if answer == MSG_STOPPED else answer))
            question = None
    if question is not None:
        pairs.append((question, ""))
    return pairs


def _status(result: ActionResult | str, ok: bool | None = None) -> str:
    """The admin status line: escaped, red when the action was refused or failed."""
    message = result if isinstance(result, str) else result.message
    good = ok if ok is not None else (not isinstance(result, str) and result.ok)
    css = "sq-admin-ok" if good else "sq-admin-error"
    return f'<div class="{css}">{esc_lines(message)}</div>' if message else ""


def _progress_to_gradio(progress: gr.Progress) -> Callable[[Progress], None]:
    """Feed `Archive.index_paths` progress into Gradio's progress bar."""

    def update(p: Progress) -> None:
        if not p.current:
            progress(1.0, desc=PROGRESS_FINISH)
            return
        eta = PROGRESS_ETA.format(s=round(p.eta)) if p.eta else ""
        desc = PROGRESS_FILE.format(name=p.current, i=p.files_done + 1, n=p.files_total, eta=eta)
        progress(p.files_done / max(p.files_total, 1), desc=desc)

    return update


class _AdminTab:
    """The 管理 tab's components (built inside the tabs) and their events (wired once all exist)."""

    def __init__(self, admin: Admin) -> None:
        from bot.admin import ALLOWED_EXTENSIONS, ANSWER_MODES, DOC_HEADERS, MSG_RUNTIME_ONLY, REPORT_HEADERS

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
                # no minimum/maximum here: Gradio would refuse in English; bot.admin checks the range in Chinese
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
        from bot.admin import KEY_SET, KEY_UNSET

        result = self.admin.answer_settings(token)
        view = result.answer
        if not result.ok or view is None:
            return (None, "", "", gr.Textbox(value="", placeholder=""), False, None, "")
        key = gr.Textbox(value="", placeholder=PLACEHOLDER_LLM_KEY.format(state=KEY_SET if view.key_set else KEY_UNSET))
        return (view.mode, view.base_url, view.model, key, False, view.timeout_s, _status(result))

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
        # write events share one queue slot: they run one at a time (bot.admin also holds a lock)
        write = {"concurrency_limit": 1, "concurrency_id": "admin-write", "api_visibility": "undocumented"}

        answer_in = [self.answer_mode, self.llm_url, self.llm_model, self.llm_key, self.llm_clear_key,
                     self.llm_timeout]
        answer_out = [*answer_in, self.answer_msg]

        def login(password: str, coll: str, old_token: str) -> tuple[Any, ...]:
            admin.logout(old_token)  # a new login replaces this session's old one
            token, message = admin.login(password)
            if not token:
                return ("", _status(message, ok=False), "", *self.gate(""), *self.doc_table("", coll),
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
            return ("", _status(message, ok=True), "", [], *self.gate(""), *self.doc_table("", ""),
                    *self.answer_form(""))

        self.logout.click(logout, inputs=[self.token],
                          outputs=[self.token, self.login_msg, self.status, self.report, *gate_out, *docs_out,
                                   *answer_out],
                          api_name="admin_logout", api_visibility="undocumented")

        def save_answer(mode: str | None, url: str, model: str, key: str, clear_key: bool, timeout: float | None,
                        token: str) -> tuple[Any, ...]:
            result = admin.set_answer_settings(token, mode, url, model, key, timeout, clear_key=bool(clear_key))
            if result.ok or not admin.is_admin(token):
                return (*self.answer_form(token)[:-1], _status(result), *self.gate(token))
            # invalid input: the form keeps what was typed (the key too: it is not sent back, only left alone)
            return (*(gr.skip() for _ in answer_in), _status(result), *self.gate(token))

        self.answer_save.click(save_answer, inputs=[*answer_in, self.token], outputs=[*answer_out, *gate_out],
                               api_name="admin_answer_settings", api_visibility="undocumented",
                               concurrency_limit=1, concurrency_id="admin-settings")

        def test_answer(mode: str | None, url: str, model: str, key: str, clear_key: bool, timeout: float | None,
                        token: str) -> tuple[Any, ...]:
            result = admin.test_answer_settings(token, mode, url, model, key, timeout, clear_key=bool(clear_key))
            return (_status(result), *self.gate(token))

        self.answer_test.click(test_answer, inputs=[*answer_in, self.token], outputs=[self.answer_msg, *gate_out],
                               api_name="admin_answer_test", api_visibility="undocumented",
                               concurrency_limit=1, concurrency_id="admin-probe", show_progress_on=[self.answer_msg])

        def after(result: ActionResult, token: str, coll: str) -> tuple[Any, ...]:
            public_values = public_refresh(coll) if result.changed else tuple(gr.skip() for _ in public)
            return (_status(result), *self.gate(token), *self.doc_table(token, coll), *public_values)

        after_out = [self.status, *gate_out, *docs_out, *public]

        def upload(files: list[str] | None, coll: str, token: str,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            result = admin.upload(token, coll, list(files or []), progress=_progress_to_gradio(progress))
            return (result.rows, None, *after(result, token, coll))

        self.upload.click(upload, inputs=[self.files, collection, self.token],
                          outputs=[self.report, self.files, *after_out], api_name="admin_upload",
                          show_progress_on=[self.report], **write)

        def reindex(folder: str, sync: bool, coll: str, token: str,
                    progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            result = admin.reindex(token, coll, folder, bool(sync), progress=_progress_to_gradio(progress))
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
            return (_status(result), *self.gate(token), *self.doc_table(token, coll))

        self.refresh.click(documents, inputs=[collection, self.token],
                           outputs=[self.status, *gate_out, *docs_out], api_name="admin_documents",
                           api_visibility="undocumented")

        def create(name: str, token: str) -> tuple[Any, ...]:
            result = admin.create_collection(token, name)
            if not result.ok:
                return (_status(result), gr.skip(), gr.skip())
            new = name.strip()
            return (_status(result), "", gr.Dropdown(choices=admin.pool.names(), value=new))

        # selecting the new collection fires the selector's change event, which refreshes everything else
        self.create.click(create, inputs=[self.new_name, self.token],
                          outputs=[self.status, self.new_name, collection], api_name="admin_create_collection",
                          **write)


def build_app(qa: QA, settings: Settings, pool: QAPool | None = None) -> gr.Blocks:
    """The Gradio Blocks app around a loaded QA object (its collection is the default one; the others
    are loaded on first use through `pool`). Launch it with `launch`.

    The 管理 tab and its endpoints exist only when `settings.admin_password` is set.
    """
    from bot.admin import Admin, QAPool, UnknownCollection

    top_k = settings.top_k
    pool = pool or QAPool(settings, default=qa)
    admin = Admin(settings, pool) if settings.admin_password.get_secret_value() else None

    def qa_for(collection: str | None) -> QA | None:
        try:
            return pool.get(collection)
        except UnknownCollection:
            return None

    def year_choices(collection: str | None) -> list[str]:
        chosen = qa_for(collection)
        try:
            years = chosen.facets().get("year", []) if chosen else []
        except Exception:
            log.exception("facets failed")
            years = []
        return [ALL_YEARS, *sorted(years, reverse=True)]

    def doc_list(collection: str | None) -> str:
        chosen = qa_for(collection)
        if chosen is None:
            return _empty(MSG_UNKNOWN_COLLECTION)
        try:
            return render_doc_list(chosen.list_documents())
        except Exception:
            log.exception("list_documents failed")
            return _empty(MSG_DOCS_ERROR)

    def respond(message: str, history: list[dict[str, Any]] | None, year: str, only_doc: bool,
                current_doc: str, collection: str) -> Iterator[tuple[Any, ...]]:
        """The chat turn, streamed: (textbox, chat, 发送, 停止) after each step. The earlier turns make a
        follow-up standalone (shown as "已理解为：…"); generated tokens show as they come; the final, checked
        answer replaces them, with its citations and any notice (time-out, dropped sentences, fallback)."""
        history = list(history or [])
        past = chat_pairs(history)
        message = message or ""
        if message.strip():
            history.append(_user(message))
        keep = (gr.skip(), gr.skip())
        chosen = qa_for(collection)
        if chosen is None:
            history.append(_bot(f'<div class="sq-answer sq-refused">{esc(MSG_UNKNOWN_COLLECTION)}</div>'))
            yield "", history, *keep
            return
        if only_doc and not current_doc:
            history.append(_bot(f'<div class="sq-answer sq-refused">{esc(MSG_NO_DOC_OPEN)}</div>'))
            yield "", history, *keep
            return
        history.append(_bot(render_streaming("")))
        # while it runs: 发送 off (Enter is ignored too: trigger_mode="once"), 停止 on; `idle` undoes this
        yield "", history, gr.Button(interactive=False), gr.Button(interactive=True)
        where: dict[str, str] = {}
        if year and year != ALL_YEARS:
            where["year"] = year
        if only_doc and current_doc:
            where["doc"] = current_doc
        notes: list[str] = []
        text = ""
        answer: Answer | None = None
        events = chosen.ask_stream(message, past, k=top_k, where=where or None)
        try:
            shown = time.monotonic()
            for event in events:
                kind = event.get("type")
                if kind == "rewrite":
                    notes.insert(0, NOTE_REWRITE.format(q=event.get("question", "")))
                elif kind == "notice":
                    if event.get("text") and event["text"] not in notes:
                        notes.append(str(event["text"]))
                    continue
                elif kind == "token":
                    text += str(event.get("text") or "")
                    if time.monotonic() - shown < STREAM_EVERY_S:
                        continue
                elif kind == "answer":
                    answer = event.get("answer")
                    continue
                else:
                    continue
                history[-1] = _bot(render_streaming(text, notes))
                yield "", history, *keep
                shown = time.monotonic()
            if not isinstance(answer, Answer):
                raise RuntimeError("the answer stream ended without an answer")
            content = render_notes(notes) + render_answer(answer)
        except Exception:
            log.exception("answering failed")
            content = f'<div class="sq-answer sq-refused">{esc(MSG_ERROR)}</div>'
        finally:
            # 停止 etc. (Gradio closes this generator): close the answer stream now, not when collected
            close = getattr(events, "close", None)
            if close is not None:
                close()
        history[-1] = _bot(content)
        yield "", history, *keep

    def idle() -> tuple[Any, Any]:
        """After a turn, finished or stopped: 发送 on, 停止 off."""
        return gr.Button(interactive=True), gr.Button(interactive=False)

    def stopped(history: list[dict[str, Any]] | None) -> Any:
        """停止: the message being written keeps what was shown, plus MSG_STOPPED (nothing to do otherwise)."""
        history = list(history or [])
        if not history or history[-1].get("role") != "assistant":
            return gr.skip()
        content = render_stopped(_message_text(history[-1]))
        if content is None:
            return gr.skip()
        history[-1] = _bot(content)
        return history

    def open_document(collection: str, evt: gr.EventData) -> tuple[str, str]:
        data = evt._data if isinstance(evt._data, dict) else {}
        doc_id = str(data.get("doc") or "")
        chosen = qa_for(collection)
        try:
            doc = chosen.get_document(doc_id) if doc_id and chosen else None
        except Exception:
            log.exception("get_document failed")
            doc = None
        if doc is None:
            return _empty(MSG_DOC_NOT_FOUND), ""
        if data.get("s", "") == "":
            return render_document(doc), doc.doc_id
        start, end = _int(data.get("s")), _int(data.get("e"))
        hs, he = _int(data.get("hs")), _int(data.get("he"))
        if he <= hs:
            hs, he = start, end
        n = _int(data.get("n"), 0) or None
        return render_document(doc, (hs, he), (start, end), n), doc.doc_id

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
                        chatbot = gr.Chatbot(
                            label=LABEL_CHAT, height=560, elem_id="sq-chat", buttons=[],
                            feedback_options=None, latex_delimiters=[], allow_tags=False,
                            placeholder=CHAT_PLACEHOLDER, group_consecutive_messages=False,
                        )
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(
                                label=LABEL_QUESTION, show_label=False, placeholder=PLACEHOLDER_QUESTION,
                                lines=1, max_lines=4, scale=6, elem_id="sq-question", autofocus=True,
                            )
                            send = gr.Button(LABEL_SEND, variant="primary", scale=1, min_width=80,
                                             elem_id="sq-send")
                            stop = gr.Button(LABEL_STOP, variant="stop", scale=1, min_width=80,
                                             interactive=False, elem_id="sq-stop")
                            clear = gr.Button(LABEL_CLEAR, variant="secondary", scale=1, min_width=80)
                        with gr.Row(equal_height=True):
                            year = gr.Dropdown(choices=year_choices(default), value=ALL_YEARS,
                                               label=LABEL_YEAR, scale=1, min_width=140, elem_id="sq-year")
                            only_doc = gr.Checkbox(label=LABEL_ONLY_DOC, value=False, scale=2)
                    with gr.Tab(TAB_DOCS, id="docs"):
                        refresh = gr.Button(LABEL_REFRESH, size="sm")
                        docs = gr.HTML(doc_list(default), elem_id="sq-docs", elem_classes=["sq-doc-list"],
                                       js_on_load=None)
                    admin_tab = None
                    if admin is not None:
                        with gr.Tab(TAB_ADMIN, id="admin"):
                            admin_tab = _AdminTab(admin)
            with gr.Column(scale=2, min_width=360):
                viewer = gr.HTML(_empty(VIEWER_EMPTY), elem_id="sq-viewer", js_on_load=VIEWER_JS)

        asking = gr.on(
            [question.submit, send.click], respond,
            inputs=[question, chatbot, year, only_doc, current_doc, collection],
            outputs=[question, chatbot, send, stop],
            api_visibility="private", trigger_mode="once",
            # answering only reads; several questions run at once, sharing one limit
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
        )
        # also runs when the turn is cancelled (停止, 清空对话, another collection)
        asking.then(idle, outputs=[send, stop], api_visibility="private", concurrency_limit=None)
        # the cancel first; then `stopped` reads the chat as the cancelled turn left it (an update that was
        # already on its way when 停止 was clicked can no longer overwrite the note)
        stop.click(None, cancels=[asking], api_visibility="private", concurrency_limit=None).then(
            stopped, inputs=[chatbot], outputs=[chatbot], api_visibility="private", concurrency_limit=None)

        def ask(question: str, collection: str = "", year: str = "") -> dict[str, Any]:
            """Answer a question from the archive: the answer with [n] markers, whether it was refused, and
            the citations (doc_id, title, date, speaker, text, start, end). For other tools and load tests."""
            chosen = qa_for(collection or None)
            if chosen is None:
                return {"answer": MSG_UNKNOWN_COLLECTION, "refused": True, "citations": [], "error": MSG_UNKNOWN_COLLECTION}
            try:
                answer = chosen.ask(question or "", where={"year": year} if year else None)
            except Exception:
                log.exception("ask failed")
                return {"answer": MSG_ERROR, "refused": True, "citations": [], "error": MSG_ERROR}
            return answer.to_dict()

        gr.api(ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
        clear.click(lambda: [], outputs=chatbot, cancels=[asking], api_visibility="private")
        # other read-only events: a few at once, in their own group so questions never wait for them
        read: dict[str, Any] = {"api_visibility": "private", "concurrency_limit": ASK_CONCURRENCY,
                                "concurrency_id": "read"}
        viewer.open(open_document, inputs=[collection], outputs=[viewer, current_doc], **read)
        refresh.click(doc_list, inputs=[collection], outputs=docs, **read)

        def public_refresh(coll: str) -> tuple[Any, ...]:
            """After the archive changed: the document list, the year filter and the collection choices."""
            return (doc_list(coll), gr.Dropdown(choices=year_choices(coll), value=ALL_YEARS),
                    gr.Dropdown(choices=pool.names()))

        public = [docs, year, collection]
        demo.load(lambda coll: public_refresh(coll), inputs=[collection], outputs=public, **read)

        switch_out: list[Any] = [docs, year, chatbot, viewer, current_doc]
        if admin_tab is not None:
            admin_tab.wire(collection, public, public_refresh)
            switch_out += [admin_tab.docs, admin_tab.pick]

        def switch(coll: str, *token: str) -> tuple[Any, ...]:
            """Another collection: its documents and years; the chat and viewer start afresh."""
            values: tuple[Any, ...] = (doc_list(coll), gr.Dropdown(choices=year_choices(coll), value=ALL_YEARS),
                                       [], _empty(VIEWER_EMPTY), "")
            if admin_tab is not None:
                values += admin_tab.doc_table(token[0] if token else "", coll)
            return values

        switch_in: list[Any] = [collection] + ([admin_tab.token] if admin_tab is not None else [])
        collection.change(switch, inputs=switch_in, outputs=switch_out, cancels=[asking], **read)
    # a hard cap for Gradio's (unauthenticated) upload route; see `launch`
    demo._sq_max_file_size = f"{2 * settings.max_upload_mb}mb"  # type: ignore[attr-defined]
    return demo


def launch(demo: gr.Blocks, host: str, port: int, **kwargs: Any) -> Any:
    """Start the server with the app's CSS; extra keyword arguments go to `Blocks.launch`.

    Gradio's upload route takes files from anyone before any handler runs, so it gets a hard cap: twice
    the admin upload limit. Files between the two are refused by the admin tab with its Chinese message;
    larger ones never reach the server's disk (Gradio shows its own, English, message).
    """
    max_file_size = getattr(demo, "_sq_max_file_size", None)
    if max_file_size is not None:
        kwargs.setdefault("max_file_size", max_file_size)
    return demo.launch(server_name=host, server_port=port, css=CSS, footer_links=[], show_error=False,
                       **kwargs)


def main(host: str | None = None, port: int | None = None, settings: Settings | None = None) -> None:
    """Entry point of `speechqa serve`: load the archive once and serve the app (127.0.0.1 by default)."""
    from bot.qa import QA

    settings = settings or get_settings()
    qa = QA(settings)
    demo = build_app(qa, settings)
    launch(demo, host or settings.host, port or settings.port)


if __name__ == "__main__":
    main()
