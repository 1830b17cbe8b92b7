"""HTML text as a reader sees it (MyBB and the library page): visible text
with line breaks, Cloudflare's e-mail obfuscation decoded, counts and query
parameters read from it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

_WS = re.compile(r"[ \t\r\f\v\u00a0\u2009\u200b]+")
BLOCK_TAGS = frozenset({
    "div", "p", "blockquote", "cite", "li", "ul", "ol", "table", "tr", "fieldset", "legend", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dl", "dt", "dd", "audio",
})



def decode_cfemail(hexstr: str) -> str:
    """Cloudflare's e-mail obfuscation: the first byte of ``data-cfemail`` is
    an XOR key for the remaining bytes (UTF-8)."""
    data = bytes.fromhex(hexstr.strip())
    if not data:
        return ""
    key = data[0]
    return bytes(b ^ key for b in data[1:]).decode("utf-8", "replace")


def node_text(node: Any) -> str:
    """Visible text of an element (a parsel Selector or an lxml element): HTML
    whitespace rules, ``<br>`` and block elements as line breaks, Cloudflare
    e-mails decoded, scripts dropped.  Lines are trimmed and runs of blank
    lines collapse into one."""
    root = getattr(node, "root", node)
    if isinstance(root, str):
        return _clean_lines(root)
    parts: list[str] = []
    _walk(root, parts, top=True)
    return _clean_lines("".join(parts))


def inline_text(node: Any) -> str:
    """``node_text`` on one line (names, titles, counts)."""
    return " ".join(node_text(node).split())


def _walk(el: Any, parts: list[str], top: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.lower()
    if tag and tag not in ("script", "style", "noscript"):
        cls = el.get("class") or ""
        cf = el.get("data-cfemail")
        if cf and "__cf_email__" in cls:
            try:
                parts.append(decode_cfemail(cf))
            except ValueError:
                parts.append(" ".join((el.text or "").split()))
        elif tag == "br":
            parts.append("\n")
        else:
            block = tag in BLOCK_TAGS
            if block:
                parts.append("\n")
            if el.text:
                parts.append(el.text.replace("\n", " "))
            for child in el:
                _walk(child, parts)
            if block:
                parts.append("\n")
    if not top and el.tail:
        parts.append(el.tail.replace("\n", " "))


def _clean_lines(text: str) -> str:
    lines = [" ".join(_WS.sub(" ", line).split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def parse_count(text: str | None) -> int | None:
    """``"19,775"`` → 19775; None when there is no number."""
    if text is None:
        return None
    match = re.search(r"\d[\d,.\u00a0 ]*", text)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(0))
    return int(digits) if digits else None


def query_int(url: str | None, name: str) -> int | None:
    """An integer query parameter (``fid``, ``tid``, ``uid``, ``aid``) of a
    URL, ``&amp;`` already unescaped or not."""
    if not url:
        return None
    values = parse_qs(urlsplit(url.replace("&amp;", "&")).query).get(name)
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


def has_class(cls: str) -> str:
    """An XPath test: the element's class list holds ``cls``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')"
