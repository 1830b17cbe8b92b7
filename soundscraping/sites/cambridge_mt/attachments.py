"""A forum post's attachments (stock MyBB and the Cambridge player
template): id, file name, size, downloads, whether the page plays it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from soundscraping.sites.cambridge_mt.text import BLOCK_TAGS, has_class, inline_text, parse_count


@dataclass
class PostAttachment:
    """One attachment of a post, as the page shows it."""

    aid: int
    url: str  # absolute attachment.php?aid=N
    filename: str | None = None
    size_text: str | None = None  # as shown: "5.67 MB", "20.5 KB"
    size_bytes: int | None = None  # from size_text (MyBB's units are 1024-based): approximate
    downloads: int | None = None  # stock template only
    player: bool = False  # an <audio> element plays it in the page


_AID = re.compile(r"(?:^|/)attachment\.php\?(?:[^#]*?&(?:amp;)?)?aid=(\d+)", re.I)
_SIZE = r"\d[\d.,]*\s*(?:bytes|[KMGTP]i?B)"
# The Cambridge player template's link text: "Download: 5.67 MB", also seen
# as "(Download: 5.67 MB)"; never a file name.
_DOWNLOAD_LABEL = re.compile(rf"^\(?\s*Download\b\s*:?\s*(?P<size>{_SIZE})?\s*\)?$", re.I)
# Stock MyBB: the text after the link, "(Size: 5.67 MB / Downloads: 12)".
_STOCK_META = re.compile(rf"^\s*\(\s*Size\s*:\s*(?P<size>{_SIZE})\s*(?:/\s*Downloads\s*:\s*(?P<n>[\d,.]+))?", re.I)
# Thumbnail/image templates: title="Filename: x.png&#13;Size: 20 KB&#13;…".
_TITLE_FILENAME = re.compile(r"Filename:\s*(?P<name>[^\r\n]+?)\s*(?:[\r\n]|Size:|$)")
_TITLE_SIZE = re.compile(rf"Size:\s*(?P<size>{_SIZE})")
# Cambridge player template: "{icon}&nbsp;&nbsp;file.mp3&nbsp;--&nbsp;<a …>".
# The separator may be followed by the opening bracket of "(<a>Download: …</a>)".
_NAME_SEPARATOR = re.compile(r"\s*(?:-{2,}|[\u2013\u2014])\s*[(\[]?\s*$")
_NAME_START = re.compile(r"\u00a0[ \t\r\n]*\u00a0")
# Elements that end the text run a player-template file name is read from.
_RUN_BREAKS = BLOCK_TAGS | {"br", "img", "a", "audio", "video", "source", "iframe", "object", "embed", "input"}
_PLAYERS = frozenset({"audio", "video"})
_UNITS_BYTES = {"bytes": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


def attachment_aid(url: str | None) -> int | None:
    """The ``aid`` of a MyBB ``attachment.php?aid=N`` URL (``&amp;`` or not),
    None for thumbnails (``attachment.php?thumbnail=N``) and other URLs."""
    if not url:
        return None
    match = _AID.search(url.strip())
    return int(match.group(1)) if match else None


def parse_size(text: str | None) -> int | None:
    """``"5.67 MB"`` → 5945425 (MyBB's 1024-based units); None when unreadable."""
    match = re.match(r"^\s*(\d[\d,]*(?:\.\d+)?)\s*(bytes|[KMGTP])i?B?\s*$", text or "", re.I)
    if not match:
        return None
    unit = match.group(2).lower()
    factor = _UNITS_BYTES["bytes" if unit == "bytes" else unit + "b"]
    return round(float(match.group(1).replace(",", "")) * factor)


def _name_before(run: str) -> str | None:
    """The file name of the Cambridge player template in the text run before
    the attachment's link or player: what sits between ``&nbsp;&nbsp;`` and
    ``&nbsp;--&nbsp;`` (spaces and non-breaking spaces in any mix)."""
    separator = _NAME_SEPARATOR.search(run)
    if separator is None:
        return None
    name = _NAME_START.split(run[: separator.start()])[-1]
    name = " ".join(name.split())
    return name if name and not _DOWNLOAD_LABEL.match(name) else None


def parse_attachments(post: Selector, base_url: str) -> list[PostAttachment]:
    """Every attachment of a post (its ``Attached Files`` fieldset and any
    placed in the message), in page order, from each template the forum uses:

    * Cambridge's player template: ``<audio><source src="…attachment.php?aid=N">``
      and ``{icon}&nbsp;&nbsp;file.mp3&nbsp;--&nbsp;<a href="attachment.php?aid=N">(Download: 5.67 MB)</a>``
      (the player before, between or after; the link text is never the name);
    * stock MyBB: ``<a href="attachment.php?aid=N" …>file.mp3</a> (Size: 5.67 MB / Downloads: 12)``;
    * MyBB's thumbnail and image templates (``title="Filename: …"``).

    Attachments inside quotes belong to the quoted post and are left out."""
    found: dict[int, PostAttachment] = {}
    run: list[str] = []  # text since the last element that breaks a run

    def attachment(aid: int, url: str, *, prefer_url: bool) -> PostAttachment:
        att = found.get(aid)
        if att is None:
            att = found[aid] = PostAttachment(aid=aid, url=url)
        elif prefer_url:
            att.url = url  # the page's own link (relative to the page) over a player's absolute src
        if att.filename is None:
            att.filename = _name_before("".join(run))
        return att

    def visit(el: Any) -> None:
        if not isinstance(el.tag, str):  # comment or processing instruction
            run.append(el.tail or "")
            return
        tag = el.tag.lower()
        if tag == "blockquote":
            run.clear()
            run.append(el.tail or "")
            return
        ref = el.get("href") if tag == "a" else el.get("src") if tag in ("audio", "source", "img") else None
        aid = attachment_aid(ref)
        if aid is not None:
            att = attachment(aid, urljoin(base_url, ref.strip()), prefer_url=tag == "a")
            if tag in ("audio", "source"):
                att.player = True
            elif tag == "img":  # image template: the name is in the title
                _read_image_title(el.get("title"), att)
            else:
                _read_attachment_link(el, att)
                for img in el.iter("img"):  # thumbnail template: likewise
                    _read_image_title(img.get("title"), att)
        if tag in _RUN_BREAKS and tag not in _PLAYERS:  # a player's <source> still follows the name
            run.clear()
        else:
            run.append(el.text or "")
        if tag != "a" or aid is None:  # an attachment link's own text is no file name
            for child in el:
                visit(child)
        if tag in _RUN_BREAKS:
            run.clear()
        run.append(el.tail or "")

    for area in post.xpath(f".//div[{has_class('post_body')}] | .//fieldset[not(ancestor::blockquote)]"):
        run.clear()
        visit(area.root)
    return list(found.values())


def _read_attachment_link(link: Any, att: PostAttachment) -> None:
    text = inline_text(link)
    if label := _DOWNLOAD_LABEL.match(text):
        att.size_text = att.size_text or label.group("size")
    elif text and att.filename is None:
        att.filename = text  # stock template: the link is the file name
    if meta := _STOCK_META.match(" ".join((link.tail or "").split())):
        att.size_text = att.size_text or meta.group("size")
        if meta.group("n"):
            att.downloads = parse_count(meta.group("n"))
    att.size_bytes = parse_size(att.size_text)


def _read_image_title(title: str | None, att: PostAttachment) -> None:
    if not title:
        return
    if att.filename is None and (name := _TITLE_FILENAME.search(title)):
        att.filename = name.group("name").strip()
    if att.size_text is None and (size := _TITLE_SIZE.search(title)):
        att.size_text = size.group("size")
        att.size_bytes = parse_size(att.size_text)
