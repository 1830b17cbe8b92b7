"""Cambridge-MT's MyBB discussion forum: forum pages (sub-forums, threads)
and thread pages (posts, their mixes).  Pure functions from HTML to items (no Scrapy objects), so
tests can feed them saved pages (shared/reference/cambridge-mt.md has the
markup).

Robustness rules taken from the failures of earlier scrapers: downloads are
classified by their label text, never by position (songs without an excerpt
shift the list); every part of a multi-part ZIP is kept; forum rows are read
by what a cell holds (the replies link, the rating list), not by ``trow1`` /
``trow2`` index; both thread-list author templates (2024 ``div.author``, 2025
``span.author`` + ``span.thread_start_datetime``) are read; Cloudflare's
e-mail obfuscation is decoded; relative dates become real timestamps.
"""


from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from soundscraping.items import CmtForumPost, CmtForumThread, CmtMix
from soundscraping.sites import MalformedPage
from soundscraping.sites.cambridge_mt.attachments import attachment_aid, parse_attachments
from soundscraping.sites.cambridge_mt.dates import date_in, parse_mybb_date
from soundscraping.sites.cambridge_mt.text import has_class, inline_text, node_text, parse_count, query_int
from soundscraping.sites.cambridge_mt.urls import is_mix_link, url_filename


@dataclass
class ForumRow:
    """A sub-forum row of a forum page (genre forums on the category page,
    song forums on a genre page)."""

    fid: int
    name: str
    threads: int | None = None
    posts: int | None = None
    last_post_at: str | None = None
    last_post_tid: int | None = None
    last_post_author: str | None = None


@dataclass
class ForumPage:
    fid: int | None
    name: str | None
    forums: list[ForumRow] = field(default_factory=list)
    threads: list[CmtForumThread] = field(default_factory=list)
    sticky: set[int] = field(default_factory=set)  # tids of sticky threads
    pages: int = 1


@dataclass
class ThreadPage:
    tid: int | None
    title: str | None
    posts: list[CmtForumPost] = field(default_factory=list)
    mixes: list[CmtMix] = field(default_factory=list)
    pages: int = 1


def _selector(html: str | bytes) -> Selector:
    return Selector(text=html.decode("utf-8", "replace") if isinstance(html, bytes) else html)


def _require_mybb(sel: Selector) -> None:
    if not sel.css("div.navigation") and not sel.xpath("//comment()[contains(., 'start: ')]"):
        raise MalformedPage("not a MyBB page (no navigation, no template markers)")


def page_count(sel: Selector) -> int:
    """Pages of a thread list or thread: ``Pages (N):``; without it (MyBB
    omits it on single pages) the highest page linked, else 1."""
    box = sel.css("div.pagination")
    if not box:
        return 1
    text = inline_text(box[0].css("span.pages")[0]) if box[0].css("span.pages") else ""
    if m := re.search(r"\((\d+)\)", text):
        return int(m.group(1))
    numbers = [1]
    for b in box:
        numbers += [n for h in b.css("a::attr(href)").getall() if (n := query_int(h, "page"))]
        numbers += [int(t) for t in b.css("span.pagination_current::text, a::text").getall() if t.strip().isdigit()]
    return max(numbers)


def author_name(node: Any) -> str | None:
    """A user name as shown (Cloudflare e-mails decoded), or None."""
    name = inline_text(node).strip().rstrip(",").strip()
    return name or None


def member_name(box: Selector, *, last: bool = False) -> str | None:
    """The user name of the (first, or ``last``) profile link in ``box``.

    Cloudflare hides an e-mail-like name as ``<span class="__cf_email__">``
    inside the link, or as its own ``<a href="/cdn-cgi/l/email-protection"
    class="__cf_email__">`` (cambridge-mt.md §2.4); an HTML parser moves such
    a nested link out, leaving the profile link empty and the e-mail link
    right after it.  Without a profile link, the box's text is the name."""
    profiles = box.xpath(".//a[contains(@href, 'member.php')]")
    if not profiles:
        return author_name(box)
    profile = profiles[-1] if last else profiles[0]
    if name := author_name(profile):
        return name
    hidden = profile.xpath(f"following-sibling::*[1][{has_class('__cf_email__')}]")
    return author_name(hidden[0]) if hidden else None


def parse_forum_page(html: str | bytes, url: str, *, now: datetime | None = None,
                     tz: tzinfo = UTC) -> ForumPage:
    """A ``forumdisplay.php`` page: its sub-forum rows, its threads (both
    author templates, sticky or not, new or old) and its page count."""
    sel = _selector(html)
    _require_mybb(sel)
    active = sel.css("div.navigation span.active")
    page = ForumPage(fid=query_int(url, "fid"), name=inline_text(active[0]) if active else None)
    seen_fids: set[int] = set()
    for a in sel.xpath("//td[not(contains(@class, 'thead'))]/strong/a[contains(@href, 'forumdisplay.php?fid=')]"):
        fid = query_int(a.attrib.get("href"), "fid")
        if fid is None or fid in seen_fids or fid == page.fid:
            continue
        seen_fids.add(fid)
        row = ForumRow(fid=fid, name=inline_text(a))
        cells = a.xpath("ancestor::td[1]/following-sibling::td")
        if len(cells) >= 3:
            row.threads, row.posts = parse_count(inline_text(cells[0])), parse_count(inline_text(cells[1]))
            _read_forum_lastpost(cells[2], row, now, tz)
        page.forums.append(row)
    seen_tids: set[int] = set()
    for span in sel.xpath("//span[starts-with(@id, 'tid_')]"):
        thread = _parse_thread_row(span, page.fid, now, tz)
        if thread is None or thread.tid in seen_tids:
            continue
        seen_tids.add(thread.tid)
        page.threads.append(thread)
        if span.xpath("ancestor::tr[1]/td[contains(@class, 'forumdisplay_sticky')]"):
            page.sticky.add(thread.tid)
    page.pages = page_count(sel)
    return page


def _read_forum_lastpost(cell: Selector, row: ForumRow, now: datetime | None, tz: tzinfo) -> None:
    box = cell.css("span.smalltext") or [cell]
    row.last_post_tid = query_int(box[0].xpath(".//a[contains(@href, 'showthread.php')]/@href").get(), "tid")
    has_author = box[0].xpath(".//a[contains(@href, 'member.php')]")
    row.last_post_author = member_name(box[0], last=True) if has_author else None
    # The date sits between the first and the second <br />.
    text: list[str] = []
    title = None
    brs = 0
    for child in box[0].root:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag == "br":
            brs += 1
            if brs > 1:
                break
            text.append(child.tail or "")
            continue
        if brs == 1:
            if tag:
                title = title or child.get("title")
                text.append("".join(child.itertext()))
            text.append(child.tail or "")
    row.last_post_at = parse_mybb_date("".join(text), title, now=now, tz=tz)


def _parse_thread_row(span: Selector, fid: int | None, now: datetime | None, tz: tzinfo) -> CmtForumThread | None:
    try:
        tid = int(span.attrib["id"].split("_", 1)[1])
    except (KeyError, ValueError):
        return None
    link = span.xpath("./a")
    thread = CmtForumThread(tid=tid, forum_fid=fid, title=inline_text(link[0]) if link else inline_text(span))
    subject_td = span.xpath("ancestor::td[1]")
    row = span.xpath("ancestor::tr[1]")
    if subject_td:
        author_box = subject_td[0].xpath(f".//*[{has_class('author')}]")
        if author_box:
            thread.author = member_name(author_box[0])
        started = subject_td[0].xpath(f".//*[{has_class('thread_start_datetime')}]")
        if started:
            thread.started_at = date_in(started[0], now=now, tz=tz)
    if row:
        replies = row[0].xpath("./td[.//a[contains(translate(@href, 'P', 'p'), 'whoposted')]]")
        if replies:
            thread.replies = parse_count(inline_text(replies[0]))
            views = replies[0].xpath("following-sibling::td[1]")
            if views:
                thread.views = parse_count(inline_text(views[0]))
        rating = row[0].xpath(".//li[contains(@class, 'current_rating')]")
        if rating:
            thread.rating = parse_rating(inline_text(rating[0]))
    return thread


def parse_rating(text: str) -> float | None:
    """``"2 Vote(s) - 3.5 out of 5 in Average"`` → 3.5; no votes → None
    (an unrated thread has no rating, not a rating of 0)."""
    m = re.search(r"(\d+)\s*Vote\(s\)\s*-\s*([\d.]+)\s*out of", text)
    if not m or int(m.group(1)) == 0:
        return None
    return float(m.group(2))


def parse_thread_page(html: str | bytes, url: str, *, now: datetime | None = None,
                      tz: tzinfo = UTC) -> ThreadPage:
    """A ``showthread.php`` page: its posts (author, date, text) and the mixes
    they carry — every attachment, every ``<audio>`` source (an attachment
    played in the page: kind ``audio``) and every link to a sharing service or
    an audio file outside quotes (kind ``external``)."""
    sel = _selector(html)
    _require_mybb(sel)
    # The breadcrumb's last item is the subject (the first td.thead of a real
    # page is the login box's "Login").
    title_node = sel.css("div.navigation span.active") or sel.css("title")
    page = ThreadPage(tid=query_int(url, "tid"), title=inline_text(title_node[0]) if title_node else None)
    for post in sel.xpath("//div[starts-with(@id, 'post_') and contains(concat(' ', @class, ' '), ' post ')]"):
        try:
            pid = int(post.attrib["id"].split("_", 1)[1])
        except ValueError:
            continue
        item = CmtForumPost(pid=pid, tid=page.tid)
        author = post.xpath(f".//div[{has_class('author_information')}]")
        if author:
            name_box = author[0].xpath(".//strong")
            if author[0].xpath(".//a[contains(@href, 'member.php')]"):
                item.author = member_name(author[0])
            elif name_box:  # a guest: the name without a profile link
                item.author = author_name(name_box[0])
        date = post.css("span.post_date")
        if date:
            item.posted_at = date_in(date[0], now=now, tz=tz, exclude_class="post_edit")
        body = post.css("div.post_body")
        item.body_text = node_text(body[0]) if body else None
        page.posts.append(item)
        page.mixes += _post_mixes(post, url, pid, page.tid)
    page.pages = page_count(sel)
    return page


def _post_mixes(post: Selector, base_url: str, pid: int, tid: int | None) -> list[CmtMix]:
    mixes: dict[str, CmtMix] = {}

    def add(url: str, kind: str, filename: str | None) -> None:
        known = mixes.get(url)
        if known is None:
            mixes[url] = CmtMix(url=url, pid=pid, tid=tid, kind=kind, host=urlsplit(url).netloc,
                                filename=filename)
            return
        if kind == "audio":
            known.kind = "audio"  # an attachment with a player is an audio mix
        known.filename = known.filename or filename

    for att in parse_attachments(post, base_url):
        add(att.url, "audio" if att.player else "attachment", att.filename)
    # <audio> players of files that are not attachments (rare: a hot-linked MP3).
    for src in post.xpath(".//audio/@src | .//audio/source/@src").getall():
        full = urljoin(base_url, src.strip())
        if attachment_aid(full) is None:
            add(full, "audio", url_filename(full))
    body = post.css("div.post_body")
    if body:
        # Links quoted from other posts are those posts' mixes, not this one's.
        for href in body[0].xpath(".//a[@href and not(ancestor::blockquote)]/@href").getall():
            full = urljoin(base_url, href.strip())
            if attachment_aid(full) is not None or full in mixes or not is_mix_link(full):
                continue
            add(full, "external", url_filename(full))
    return list(mixes.values())
