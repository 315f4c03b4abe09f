"""The page's CSS and the viewer's script (clicks on citation and document links, scrolling)."""

from __future__ import annotations

CSS = """
.sq-answer { line-height: 1.7; }
.sq-answer .sq-list { margin: 0.3em 0 0.3em 0; padding-left: 0.5em; list-style: none; }
.sq-answer .sq-item { margin: 0.15em 0; }
.sq-answer .sq-para { margin: 0.2em 0; }
.sq-refused { color: var(--body-text-color-subdued); }
.sq-note { color: var(--body-text-color-subdued); font-size: 0.88em; margin-bottom: 0.3em; }
.sq-stopped { margin: 0.3em 0 0 0; }
.sq-draft { opacity: 0.6; }
.sq-draft del { text-decoration: line-through; }
.sq-draft-label { display: inline-block; font-size: 0.8em; font-weight: 600; padding: 0 0.4em; margin-right: 0.4em;
  border: 1px solid var(--border-color-primary); border-radius: 4px; }
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
#sq-viewer .sq-doc-split { display: flex; flex-wrap: wrap; gap: 0.8em; align-items: flex-start; }
#sq-viewer .sq-scans { flex: 1 1 340px; min-width: 0; }
#sq-viewer .sq-doc-text { flex: 1 1 260px; min-width: 0; }
#sq-viewer .sq-scan { margin: 0 0 0.6em 0; }
#sq-viewer .sq-scan-caption { color: var(--body-text-color-subdued); font-size: 0.88em; margin-bottom: 0.25em; }
#sq-viewer .sq-scan-pane { max-height: 70vh; overflow-y: auto; border: 1px solid var(--border-color-primary);
  border-radius: 6px; }
#sq-viewer .sq-scan-frame { position: relative; line-height: 0; }
#sq-viewer .sq-scan-img { display: block; width: 100%; height: auto; }
#sq-viewer .sq-scan-box { position: absolute; box-sizing: border-box; border: 2px solid #e8590c;
  background: rgba(255, 221, 87, 0.25); border-radius: 2px; pointer-events: none; }
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
  // a scanned page: its first boxed line a third down its pane
  element.querySelectorAll('.sq-scan-pane').forEach((pane) => {
    const line = pane.querySelector('.sq-scan-box');  // positioned in .sq-scan-frame, the pane's content
    pane.scrollTop = line ? Math.max(0, line.offsetTop - pane.clientHeight / 3) : 0;
  });
  const box = element.querySelector('.sq-doc-body');
  if (!box) return;
  const m = box.querySelector('mark');
  box.scrollTop = m ? Math.max(0, m.offsetTop - box.clientHeight / 3) : 0;
  box.scrollIntoView({block: 'nearest'});
};
watch('value', () => requestAnimationFrame(sqScroll));
"""
