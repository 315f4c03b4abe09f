"""Site chrome in scraped speech pages: rules by pattern (never by file name), on prepared lines.

Three kinds of rule:
- line rules drop one line (breadcrumbs, "作者: | 发布时间:" bars, share/print widgets, ICP lines …);
- tail rules drop a line and everything after it when what follows is short (版权声明 blocks,
  相关文章/延伸阅读 link lists, the Wikisource public-domain notice);
- pre-joins first glue lines that a page split apart ("首页", ">", "要闻"; "来源：", "新华社").
"""

from __future__ import annotations

import re
import unicodedata

_CRUMB_SEPARATORS = {">", "›", "»", "＞", ">>", "/"}
_LABELS = re.compile(
    r"^(发布时间|发表时间|发布日期|更新时间|时间|日期|来源|来源网站|文章来源|信息来源|作者|编辑|责任编辑|"
    r"阅读量|阅读次数|浏览次数|点击数|浏览量)\s*[:：]$"
)

_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
_TIME = r"\d{1,2}\s*[:时]\s*\d{1,2}(?:\s*[:分]\s*\d{1,2}\s*秒?)?分?"

_BREADCRUMB = re.compile(
    r"^(当前位置|您的位置|你的位置|您现在的位置|当前的位置|所在位置)\s*[:：]|^(首页|网站首页|主页|首 页)\s*(>|›|»|/)"
)
_DROP_LINE = [
    _BREADCRUMB,
    re.compile(
        r"^(作者|发布时间|发表时间|发布日期|更新时间|文章来源|信息来源|来源网站|责任编辑|编辑|阅读量|阅读次数|浏览次数|点击数|浏览量)\s*[:：].{0,80}$"
    ),
    re.compile(r"^(作者|来源)\s*[:：].{0,60}(发布时间|浏览|阅读|点击)"),
    re.compile(r"^来源\s*[:：]\s*(https?://\S+|.{0,30})$"),
    re.compile(r"^[（(]\s*来源\s*[:：].{0,30}[）)]$"),
    re.compile(rf"^{_DATE}\s*{_TIME}(\s+.{{0,40}})?$"),
    re.compile(r"^推荐访问"),
    re.compile(r"^本文标题\s*[:：]"),
    re.compile(r"^(链接地址|本文链接|原文链接|原文地址|本文地址|文章链接|本文网址)\s*[:：]"),
    re.compile(r"^本文移动端"),
    re.compile(r"转载请(保留|注明)"),
    re.compile(r"^来源\s*[:：]\s*网络(整理|收集)?"),
    re.compile(r"免责声明"),
    re.compile(r"(?i)copyright\s*(©|\(c\)|&copy;)|©\s*\d{4}|all rights reserved"),
    re.compile(r"备案号|ICP备|ICP证|公网安备"),
    re.compile(r"》\s*出自\s*[:：].{0,30}$"),  # "…讲话》出自:百味书屋"
    re.compile(r"^【?\s*字[号体]\s*[:：]?\s*【?\s*(大|中|小|加大|还原|减小|默认|标准|\s)*】?$"),
    re.compile(r"^(上一篇|下一篇|上一条|下一条|返回列表)\s*([:：]|$)"),
    re.compile(r"^(【?\s*(打印本页|关闭窗口|打印|关闭|返回顶部|收藏本页|收藏|分享|纠错)\s*】?\s*)+$"),
    re.compile(r"^(分享|分享到|分享至)\s*[:：]?\s*(微信|微博|QQ|QQ空间|朋友圈|\s)*$"),
    re.compile(r"^(微信)?扫一扫"),
    re.compile(r"^[\[【]?\s*(点击观看视频|点击播放|播放视频|点击查看视频|收听本文)\s*[\]】]?$"),
    re.compile(r"^[|｜\s]+$"),
]
_SHORT_DROP_LINE = [
    re.compile(r"小编"),  # "下面是小编为大家整理的…，供大家参考。"
]
_NAV_WORDS = re.compile(
    r"关于我们|联系我们|网站声明|网站地图|网站帮助|投诉与建议|在线投稿|人才招聘|隐私政策|使用帮助"
)

WIDGET_LINES = {
    "下载", "打印", "全屏", "收藏", "加大", "还原", "减小", "】", "【", "分享", "分享:", "分享：",
    "分享到", "分享到:", "分享到：", "分享到微信", "×", "打印本页", "关闭窗口", "扫一扫在手机打开当前页",
    "微信扫一扫", "收听本文", "点击观看视频", "返回顶部", "纠错", "》》点击图片进入专题《《",
}  # fmt: skip
_WIDGET_CONTEXT_ONLY = {"大", "中", "小", "|"}  # dropped only next to other widget lines

_TAIL_MARKERS = re.compile(
    r"^(版权声明|相关文章|相关报道|相关文档|相关阅读|相关新闻|推荐范文|推荐阅读|延伸阅读|猜你喜欢|热门文章|"
    r"热门推荐|精彩推荐|相关附件|相关链接|打印本页|关闭窗口|扫一扫在手机打开当前页)\s*(>>|[:：])?"
)
_HEADER_DATE_LINE = re.compile(rf"^(时间|日期)\s*[:：]\s*{_DATE}\s*({_TIME})?$")
_HEADER_LINES = 25
_LICENCE_START = re.compile(r"^(本作品|这部作品|這部作品|此作品)")
_LICENCE_WORDS = re.compile(r"公有领域|公有領域|(?i:public domain)")
_TAIL_LIMIT = 3000  # characters after a tail marker: more than this and the marker is body text
_LICENCE_LIMIT = 8000


def pre_join(lines: list[str]) -> list[str]:
    """Glue breadcrumb pieces ("首页", ">", "要闻") and label lines ("来源：", "新华社")."""
    out: list[str] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if (
            line in _CRUMB_SEPARATORS
            and out
            and out[-1]
            and i + 1 < n
            and lines[i + 1]
            and len(out[-1]) <= 60
        ):
            out[-1] = f"{out[-1]} > {lines[i + 1]}"
            i += 2
            continue
        if _LABELS.match(line) and i + 1 < n and lines[i + 1] and len(lines[i + 1]) <= 40:
            nxt = lines[i + 1]
            if not _LABELS.match(nxt) and nxt not in WIDGET_LINES and not nxt.startswith("【"):
                out.append(line + nxt)
                i += 2
                continue
        out.append(line)
        i += 1
    return out


def _nfkc(line: str) -> str:
    return unicodedata.normalize("NFKC", line)


_MAX_CHROME_LINE = 300  # longer lines are body text, whatever words they contain (a link counts for nothing)
_URL = re.compile(r"https?://\S+")


def is_chrome_line(line: str) -> bool:
    if line in WIDGET_LINES:
        return True
    if len(line) > _MAX_CHROME_LINE and len(_URL.sub("", line)) > _MAX_CHROME_LINE:
        return False  # "来源：https://…%E9%AB%98%E4%B8%BE…" is as long as a paragraph, and still chrome
    folded = _nfkc(line)
    if any(rule.search(folded) for rule in _DROP_LINE):
        return True
    if len(line) <= 200 and any(rule.search(folded) for rule in _SHORT_DROP_LINE):
        return True
    return folded.count("|") >= 2 and bool(_NAV_WORDS.search(folded))


def _tail_cut_at(lines: list[str], i: int, rest_after: int) -> bool:
    """Is lines[i] the start of a chrome tail? `rest_after` = characters in lines[i + 1:]."""
    folded = _nfkc(lines[i][:_MAX_CHROME_LINE])
    if (
        _LICENCE_START.match(folded)
        and rest_after + len(folded) <= _LICENCE_LIMIT
        and any(_LICENCE_WORDS.search(x) for x in lines[i:])
    ):
        return True
    if _TAIL_MARKERS.match(folded) and len(folded) <= 40 and rest_after <= _TAIL_LIMIT:
        if folded.startswith("版权声明"):
            return True
        return all(len(x) <= 120 for x in lines[i + 1 :])
    return False


def _last_crumb(line: str) -> str:
    if len(line) <= _MAX_CHROME_LINE and ">" in line and _BREADCRUMB.match(_nfkc(line)):
        return line.rsplit(">", 1)[1].strip()
    return ""


def strip_chrome(lines: list[str]) -> list[str]:
    """Drop chrome lines (replaced by "" so paragraphs stay apart) and cut chrome tails."""
    rest_after = [0] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        rest_after[i] = rest_after[i + 1] + len(lines[i])
    out: list[str] = []
    previous_was_widget = False
    last_crumb = ""
    for i, line in enumerate(lines):
        if not line:
            out.append("")
            continue
        if last_crumb and line == last_crumb:  # "首页 > 云南要闻" followed by the section name "云南要闻"
            out.append("")
            last_crumb = ""
            continue
        last_crumb = _last_crumb(line)
        if _tail_cut_at(lines, i, rest_after[i + 1]):
            break
        widget = line in WIDGET_LINES or (previous_was_widget and line in _WIDGET_CONTEXT_ONLY)
        header_date = i < _HEADER_LINES and bool(_HEADER_DATE_LINE.match(_nfkc(line[:_MAX_CHROME_LINE])))
        if widget or header_date or is_chrome_line(line):
            out.append("")
            previous_was_widget = widget or line.startswith("【")
            continue
        previous_was_widget = False
        out.append(line)
    return out


def drop_repeated_title_lines(lines: list[str], window: int = 12) -> list[str]:
    """Scraped pages repeat the title 2-3 times at the top: keep the first of identical short lines."""
    seen: set[str] = set()
    out: list[str] = []
    for i, line in enumerate(lines):
        if i < window and len(line) <= 100:
            key = re.sub(r"\s+", "", line)
            if key in seen:
                continue
            seen.add(key)
        out.append(line)
    return out
