"""Pure HTML renderers: strings and dataclasses in, HTML out (no Gradio, no I/O).

Every piece of document or question text is HTML-escaped here before it is put into any HTML. Chat messages
are sanitised by Gradio and cannot carry handlers or data-* attributes, so links carry what to open in their
fragment (`#sq-open?doc=…`), which the page script (ui.assets.VIEWER_JS) reads.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from bot.answer import display
from bot.types import Answer, Citation, Unit
from ingest.model import Document, ScanPage
from ui.text import (
    CITES_HEAD,
    DOCS_COUNT,
    DOCS_EMPTY,
    DOCS_HEAD,
    LABEL_UNCHECKED,
    META_COPIES,
    META_DATE,
    META_MEETING,
    META_PAGE,
    META_SECTION,
    META_SOURCE,
    META_SPEAKER,
    MSG_STOPPED,
    MSG_STOPPED_DRAFT,
    MSG_WORKING,
    OPEN_HINT,
    SCAN_ALT,
    SCAN_CAPTION,
    SCAN_TEXT_CAPTION,
    VIEWER_NOTE,
)

CONTEXT_PREVIEW = 60  # characters of context shown on each side of a cited passage in the chat


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
        meta.append(META_PAGE.format(n=c.page))
    title = esc(c.title or c.source)
    copies = f'<div class="sq-cite-copies">{META_COPIES}：{esc("、".join(c.copies))}</div>' if c.copies else ""
    return (
        f'<div class="sq-cite-item">'
        f'<a class="sq-cite" href="{_cite_href(c)}" title="{OPEN_HINT}">[{c.n}] {title}</a>'
        f'<div class="sq-cite-meta">{" · ".join(meta)}</div>{copies}'
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

    body = render_units(answer, by_n) if answer.units else _MARKER.sub(link, esc_lines(answer.answer))
    cites = "".join(render_citation(c) for c in answer.citations)
    return (
        f'<div class="sq-answer">{body}</div>'
        f'<div class="sq-cites"><div class="sq-cites-head">{CITES_HEAD}</div>{cites}</div>'
    )


def _unit_link(u: Unit, c: Citation) -> str:
    """[n] of one answer unit: opens citation n's document with exactly this unit highlighted."""
    href = _href(doc=c.doc_id, n=c.n, s=u.start, e=u.end, hs=u.start, he=u.end)
    return f'<a class="sq-cite sq-ref" href="{href}" title="{OPEN_HINT}">[{c.n}]</a>'


def render_units(answer: Answer, by_n: dict[int, Citation]) -> str:
    """The answer from its units: sentences as a paragraph, a list's lead as a line and its items as a list,
    each with its own [n]; then the answer's notes (its lines without a marker, e.g. "（“今年”按2026年理解。）")."""
    out: list[str] = []
    items: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(f'<p class="sq-para">{"".join(para)}</p>')
            para.clear()
        if items:
            out.append(f'<ol class="sq-list">{"".join(items)}</ol>')
            items.clear()

    for u in answer.units:
        c = by_n.get(u.n)
        text = esc(display(u.text))
        link = _unit_link(u, c) if c else ""
        if u.role == "item":
            if para:
                flush()
            items.append(f'<li class="sq-item">{text}{link}</li>')
        else:
            if items or (u.role == "lead" and para):
                flush()
            para.append(f"{text}{link}")
    flush()
    notes = [line for line in answer.answer.split("\n") if line.strip() and not _MARKER.search(line)]
    out.extend(f'<p class="sq-note">{esc(line)}</p>' for line in notes)
    return "".join(out)


def render_empty(message: str) -> str:
    """A subdued one-line placeholder (empty viewer, empty list, a lookup that failed)."""
    return f'<div class="sq-empty">{esc(message)}</div>'


def _clamp(hit: tuple[int, int] | None, context: tuple[int, int] | None, size: int) -> tuple[int, int, int, int]:
    """(context start, hit start, hit end, context end) inside [0, size], in order."""
    if hit is None:
        return 0, 0, 0, 0
    hs = min(max(hit[0], 0), size)
    he = min(max(hit[1], hs), size)
    cs, ce = context if context is not None else (hs, he)
    return min(max(cs, 0), hs), hs, he, min(max(ce, he), size)


def _pct(value: float, whole: int) -> str:
    return f"{100.0 * min(max(value, 0.0), whole) / max(whole, 1):.3f}%"


def render_scan(scan: ScanPage, image: bytes, hit: tuple[int, int]) -> str:
    """One scanned page as it was scanned: its image (inline, as a data: URI, so nothing but this page's
    bytes is ever served) with a box over each OCR line holding any of the document text hit[0]..hit[1].
    The boxes are positioned in percent of the image, so they follow it at any displayed size."""
    src = "data:image/jpeg;base64," + base64.b64encode(image).decode("ascii")
    boxes = "".join(
        f'<div class="sq-scan-box" title="{esc(line.text)}" style="left:{_pct(line.box[0], scan.width)};'
        f"top:{_pct(line.box[1], scan.height)};width:{_pct(line.box[2] - line.box[0], scan.width)};"
        f'height:{_pct(line.box[3] - line.box[1], scan.height)}"></div>'
        for line in scan.lines_in(*hit)
    )
    return (
        f'<figure class="sq-scan" data-page="{int(scan.page)}">'
        f'<figcaption class="sq-scan-caption">{esc(SCAN_CAPTION.format(n=int(scan.page)))}</figcaption>'
        f'<div class="sq-scan-pane"><div class="sq-scan-frame">'
        f'<img class="sq-scan-img" src="{esc(src)}" alt="{esc(SCAN_ALT.format(n=int(scan.page)))}" '
        f'width="{int(scan.width)}" height="{int(scan.height)}">{boxes}</div></div></figure>'
    )


def render_document(doc: Document, hit: tuple[int, int] | None = None, context: tuple[int, int] | None = None,
                    n: int | None = None, scans: Sequence[tuple[ScanPage, bytes]] = ()) -> str:
    """The whole cleaned text, the hit wrapped in <mark id="sq-hit"> and its context lightly shaded; for a
    paged document the note says the hit's page. `scans` (pages read by OCR, with their stored image) are
    shown beside the text, the lines holding the hit boxed: the recognised text is what was scanned."""
    text = doc.text
    meta = _meta_parts(doc.date, doc.speaker, doc.meeting)
    meta.append(f"{META_SOURCE}：{esc(doc.source)}")
    head = (
        f'<div class="sq-doc-title">{esc(doc.title or doc.doc_id)}</div>'
        f'<div class="sq-doc-meta">{" · ".join(meta)}</div>'
    )
    if hit is None:
        return f'<div class="sq-doc">{head}<div class="sq-doc-body">{esc(text)}</div></div>'
    cs, hs, he, ce = _clamp(hit, context, len(text))
    body = (
        f"{esc(text[:cs])}<span class=\"sq-ctx\">{esc(text[cs:hs])}"
        f"<mark id=\"sq-hit\">{esc(text[hs:he])}</mark>{esc(text[he:ce])}</span>{esc(text[ce:])}"
    )
    if n is not None:
        note = esc(VIEWER_NOTE.format(n=n))
        page = doc.page_of(hs)
        if page:
            note += " · " + esc(META_PAGE.format(n=page))
        head += f'<div class="sq-doc-note">{note}</div>'
    if not scans:
        return f'<div class="sq-doc">{head}<div class="sq-doc-body">{body}</div></div>'
    figures = "".join(render_scan(scan, image, (hs, he)) for scan, image in scans)
    return (
        f'<div class="sq-doc">{head}<div class="sq-doc-split">'
        f'<div class="sq-scans">{figures}</div>'
        f'<div class="sq-doc-text"><div class="sq-scan-caption">{esc(SCAN_TEXT_CAPTION)}</div>'
        f'<div class="sq-doc-body">{body}</div></div></div></div>'
    )


def render_doc_list(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return render_empty(DOCS_EMPTY)
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


def render_user(question: str) -> str:
    """The user's chat message: the question as typed, escaped."""
    return f'<div class="sq-user">{esc_lines(question)}</div>'


def render_refused(message: str) -> str:
    """A message of the app's own instead of an answer (no archive, no document open, an error)."""
    return f'<div class="sq-answer sq-refused">{esc_lines(message)}</div>'


# --- streamed answers: the message while tokens arrive, its notes, and what a 停止 leaves ---
# A message still being written carries the class `sq-pending` (and `sq-waiting` before its first token);
# the final, checked answer replaces it; a 停止 leaves the unchecked draft struck through (`sq-draft`).


def render_notes(notes: Sequence[str]) -> str:
    """Small notes above an answer: the rewritten question, a time-out or a dropped sentence."""
    return "".join(f'<div class="sq-note">{esc_lines(n)}</div>' for n in notes if n)


def render_streaming(text: str, notes: Sequence[str] = ()) -> str:
    """The message while the model writes: its raw text so far (unchecked, no links), or the waiting line."""
    if not text:
        return render_notes(notes) + f'<div class="sq-answer sq-refused sq-pending sq-waiting">{esc(MSG_WORKING)}</div>'
    return render_notes(notes) + f'<div class="sq-answer sq-pending">{esc_lines(text)}</div>'


def render_stopped(draft: str, notes: Sequence[str] = ()) -> str:
    """A message stopped while being written. The text shown so far was never checked against the sources:
    it stays visible only struck through, dimmed and labelled 未核对, under a note saying so."""
    if not draft:
        return render_notes(notes) + f'<div class="sq-answer sq-refused">{esc(MSG_STOPPED)}</div>'
    return (
        render_notes(notes)
        + f'<div class="sq-note sq-stopped">{esc(MSG_STOPPED_DRAFT)}</div>'
        + f'<div class="sq-answer sq-draft"><span class="sq-draft-label">{esc(LABEL_UNCHECKED)}</span>'
        + f"<del>{esc_lines(draft)}</del></div>"
    )


def render_status(message: str, ok: bool) -> str:
    """An admin status line: escaped, red when the action was refused or failed."""
    css = "sq-admin-ok" if ok else "sq-admin-error"
    return f'<div class="{css}">{esc_lines(message)}</div>' if message else ""
