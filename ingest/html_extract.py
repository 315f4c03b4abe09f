"""HTML to text: the article body as inert text, paragraphs as newlines, plus title/date/url hints.

12371.cn pages mark their body with <!--repaste.body.begin--> … <!--repaste.body.end-->; other
pages get a largest-text-block heuristic. Scripts, styles, navigation, forms and hidden elements
never reach the text (only text nodes are read; attributes such as onerror= are never read).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ingest.dates import ANY_DATE, fold, parse_date
from ingest.decode import decode_bytes
from ingest.metadata import Metadata
from ingest.raw import RawDoc

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_REPASTE_BODY = re.compile(
    r"<!--\s*repaste\.body\.begin\s*-->(.*?)<!--\s*repaste\.body\.end\s*-->", re.DOTALL
)
_PUBLISHED = re.compile(rf"(?:发布时间|发表时间|发布日期|时间)\s*[:：]\s*({ANY_DATE})")
_TITLE_SUFFIX = re.compile(r"^(.{6,}?)\s*(?:[_|｜]|\s[-–—]\s)\s*[^_|｜]{1,20}$")

_DROP_TAGS = [
    "script", "style", "nav", "header", "footer", "form", "iframe", "noscript", "template", "svg",
    "canvas", "object", "embed", "button", "input", "select", "textarea", "link", "meta", "aside",
    "audio", "video", "map", "head", "title",
]  # fmt: skip
_BLOCK_TAGS = [
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "main", "blockquote", "pre", "dd", "dt", "dl", "hr", "figure", "figcaption", "center",
    "address", "tbody", "thead",
]  # fmt: skip
_CONTAINERS = {"div", "section", "article", "main", "td", "body", "center"}
_PUBLISH_META = ("article:published_time", "publishdate", "pubdate", "publish_date", "date", "dc.date")


def _meta_content(soup: BeautifulSoup, *names: str) -> str:
    for tag in soup.find_all("meta"):
        key = (tag.get("property") or tag.get("name") or "").lower()
        if key in names:
            content = tag.get("content")
            if isinstance(content, str) and content.strip():
                return content.strip()
    return ""


def _strip_site_suffix(title: str) -> str:
    """ "标题_栏目_站点" -> "标题": at most two short trailing segments."""
    for _ in range(2):
        m = _TITLE_SUFFIX.match(title)
        if not m:
            break
        title = m.group(1).strip()
    return title


def _squash(text: str) -> str:
    return "".join(text.split())


def _title(soup: BeautifulSoup) -> str:
    big = soup.select_one("h1.big_title")
    if big and big.get_text(strip=True):
        return " ".join(big.get_text(" ", strip=True).split())
    if soup.title and soup.title.get_text(strip=True):
        page_title = " ".join(soup.title.get_text(" ", strip=True).split())
        for heading in soup.find_all(["h1", "h2"]):  # a heading that the <title> starts with is the title
            text = " ".join(heading.get_text(" ", strip=True).split())
            if 4 <= len(text) <= 100 and _squash(page_title).startswith(_squash(text)):
                return text
        return _strip_site_suffix(page_title)
    og = _meta_content(soup, "og:title")
    if og:
        return og
    h1 = soup.find("h1")
    if h1 and 0 < len(h1.get_text(strip=True)) <= 80:
        return " ".join(h1.get_text(" ", strip=True).split())
    return ""


def _url(soup: BeautifulSoup) -> str:
    for link in soup.find_all("link"):
        rel = link.get("rel") or []
        href = link.get("href")
        if "canonical" in rel and isinstance(href, str) and href.startswith(("http://", "https://")):
            return href.strip()
    og = _meta_content(soup, "og:url")
    return og if og.startswith(("http://", "https://")) else ""


def _date(soup: BeautifulSoup) -> str:
    m = _PUBLISHED.search(fold(soup.get_text(" ")))
    if m:
        return parse_date(m.group(1))
    meta = _meta_content(soup, *_PUBLISH_META)
    return parse_date(meta) if meta else ""


def _remove_chrome(root: Tag) -> None:
    for comment in root.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in root.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in root.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        style = str(tag.get("style") or "").replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style or tag.has_attr("hidden"):
            tag.decompose()


def _main_content(root: Tag) -> Tag:
    """The container holding most of the page's non-link text."""
    credit: dict[int, float] = {}
    nodes: dict[int, Tag] = {}
    for string in root.find_all(string=True):
        if not isinstance(string, NavigableString) or isinstance(string, Comment):
            continue
        length = len(string.strip())
        if length < 10 or string.find_parent("a") is not None:
            continue
        share = 1.0
        for parent in string.parents:
            if parent is None or parent.name in ("[document]", "html"):
                break
            if parent.name in _CONTAINERS:
                credit[id(parent)] = credit.get(id(parent), 0.0) + length * share
                nodes[id(parent)] = parent
                share *= 0.6
                if share < 0.2:
                    break
    if not credit:
        return root
    return nodes[max(credit, key=lambda k: credit[k])]


def _text(root: Tag) -> str:
    for br in root.find_all("br"):
        br.replace_with("\n")
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for cell in root.find_all(["td", "th"]):
        cell.insert_after("\t")
    return root.get_text()


def read_html(data: bytes) -> RawDoc:
    m = _DECLARED_CHARSET.search(data[:4096])
    html = decode_bytes(data, m.group(1).decode("ascii", "replace") if m else None)
    soup = BeautifulSoup(html, "lxml")
    hints = Metadata(title=_title(soup), url=_url(soup), date=_date(soup))
    body_match = _REPASTE_BODY.search(html)
    if body_match:
        root: Tag = BeautifulSoup(body_match.group(1), "lxml")
        _remove_chrome(root)
    else:
        root = soup.body or soup
        _remove_chrome(root)
        root = _main_content(root)
    text = _text(root)
    if hints.title:
        head = [x.strip() for x in text.strip().split("\n") if x.strip()][:5]
        squashed = hints.title.replace(" ", "")
        if not any(squashed in x.replace(" ", "") for x in head):
            text = f"{hints.title}\n\n{text}"
    return RawDoc(pages=[text], hints=hints)
