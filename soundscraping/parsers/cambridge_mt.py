"""Cambridge-MT: the "Mixing Secrets" multitrack library page and its MyBB
discussion forum.  Pure functions from HTML to items (no Scrapy objects), so
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from parsel import Selector

from soundscraping.items import CmtForumPost, CmtForumThread, CmtMix, CmtSong
from soundscraping.parsers import MalformedPage

# Hosts of Cambridge-MT's own downloads; any other host is an external download.
CAMBRIDGE_FILE_HOSTS: tuple[str, ...] = (
    "cambridge-mt.com", "cambridgemusictechnology.co.uk",
)
# Paths that are files (downloadable as such); others are pages (puremix
# video pages, archive.org details pages, ...).
FILE_EXTENSIONS = frozenset({".zip", ".mp3", ".wav", ".flac", ".aif", ".aiff", ".m4a", ".ogg", ".rar", ".7z"})
AUDIO_EXTENSIONS = frozenset({".mp3", ".wav", ".flac", ".aif", ".aiff", ".m4a", ".ogg", ".opus", ".aac", ".wma"})
# File-sharing and streaming services mixes are posted on (pages, not files).
MIX_SERVICE_HOSTS: tuple[str, ...] = (
    "dropbox.com", "db.tt", "dropboxusercontent.com", "drive.google.com", "docs.google.com",
    "soundcloud.com", "snd.sc", "wetransfer.com", "we.tl",
)

_WS = re.compile(r"[ \t\r\f\v\u00a0\u2009\u200b]+")
_BLOCK_TAGS = frozenset({
    "div", "p", "blockquote", "cite", "li", "ul", "ol", "table", "tr", "fieldset", "legend", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dl", "dt", "dd", "audio",
})


# --- generic helpers ---------------------------------------------------------------


def decode_cfemail(hexstr: str) -> str:
    """Cloudflare's e-mail obfuscation: the first byte of ``data-cfemail`` is
    an XOR key for the remaining bytes (UTF-8)."""
    data = bytes.fromhex(hexstr.strip())
    if not data:
        return ""
    key = data[0]
    return bytes(b ^ key for b in data[1:]).decode("utf-8", "replace")


def encode_cfemail(text: str, key: int = 0x5A) -> str:
    """The inverse of ``decode_cfemail`` (used by the replica and tests)."""
    return f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in text.encode("utf-8"))


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
            block = tag in _BLOCK_TAGS
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


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """``host`` is one of ``domains`` or a sub-domain of one (ports ignored
    unless the domain names one)."""
    host = host.lower()
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for domain in domains:
        domain = domain.lower()
        if host == domain or bare == domain or bare.endswith("." + domain):
            return True
    return False


def url_extension(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()


def url_filename(url: str) -> str | None:
    """The last path segment when it looks like a file name."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name if PurePosixPath(name).suffix and len(name) <= 255 else None


# --- dates -------------------------------------------------------------------------

_ABS = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4}),?\s*(\d{1,2}):(\d{2})\s*([AaPp][Mm])")
_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([AaPp][Mm])")
_AGO = re.compile(r"(\d+|an?|one)\s+(second|minute|hour|day|week)s?\s+ago", re.I)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _clock(hour: int, minute: int, ampm: str) -> tuple[int, int]:
    hour %= 12
    if ampm.lower() == "pm":
        hour += 12
    return hour, minute


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_mybb_date(text: str | None, title: str | None = None, *, now: datetime | None = None,
                    tz: tzinfo = UTC) -> str | None:
    """A MyBB date as an ISO-8601 UTC timestamp, or None.

    Forms (``d-m-Y, h:i A`` in the board's time zone ``tz``):
    ``20-07-2012, 11:29 AM``; ``<span title="18-03-2024">Yesterday</span>, 07:01 PM``
    (date from the title, time from the text); ``<span title="19-03-2024, 01:04 PM">8 hours
    ago</span>`` (all from the title); and, when no title survived (scraped
    text), ``Today, …``, ``Yesterday, …``, ``51 minutes ago`` relative to ``now``
    (the server's clock when known).
    """
    text = " ".join((text or "").split())
    title = " ".join((title or "").split())
    now = (now or datetime.now(UTC)).astimezone(tz)
    for source in (title, text):
        if m := _ABS.search(source):
            day, month, year, hour, minute, ampm = m.groups()
            h, mi = _clock(int(hour), int(minute), ampm)
            try:
                return _iso(datetime(int(year), int(month), int(day), h, mi, tzinfo=tz))
            except ValueError:
                return None
    day_of: datetime | None = None
    if m := _DATE.search(title):
        day, month, year = map(int, m.groups())
        try:
            day_of = datetime(year, month, day, tzinfo=tz)
        except ValueError:
            return None
    elif re.search(r"\btoday\b", text, re.I):
        day_of = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elif re.search(r"\byesterday\b", text, re.I):
        day_of = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    if day_of is not None:
        if m := _TIME.search(text):
            h, mi = _clock(int(m.group(1)), int(m.group(2)), m.group(3))
            return _iso(day_of.replace(hour=h, minute=mi))
        return _iso(day_of)
    if re.search(r"less than (a|1|one) minute ago|just now", text, re.I):
        return _iso(now.replace(second=0, microsecond=0))
    if m := _AGO.search(text):
        amount = m.group(1).lower()
        n = 1 if amount in ("a", "an", "one") else int(amount)
        moment = now - timedelta(seconds=n * _UNITS[m.group(2).lower()])
        return _iso(moment.replace(second=0, microsecond=0))
    return None


def date_in(node: Any, *, now: datetime | None = None, tz: tzinfo = UTC,
            exclude_class: str | None = None) -> str | None:
    """The MyBB date held by ``node`` (its text plus the ``title`` of a
    relative-date span inside it)."""
    root = getattr(node, "root", node)
    parts: list[str] = []
    title = None
    if root.text:
        parts.append(root.text)
    for child in root:
        cls = child.get("class") or "" if isinstance(child.tag, str) else ""
        if exclude_class and exclude_class in cls:
            parts.append(child.tail or "")
            continue
        if isinstance(child.tag, str) and child.get("title") and title is None:
            title = child.get("title")
        parts.append(" ".join(child.itertext()) if isinstance(child.tag, str) else "")
        parts.append(child.tail or "")
    return parse_mybb_date("".join(parts), title, now=now, tz=tz)


# --- the library page ---------------------------------------------------------------


def clean_title(raw: str) -> tuple[str, str | None, bool]:
    """``(title, composer, is_new)`` from a library track name:
    ``NEW! 'The Calling'`` → ("The Calling", None, True);
    ``W.A. Mozart's\\n'Piano Concerto No.12 K414 (Allegro)'`` →
    ("Piano Concerto No.12 K414 (Allegro)", "W.A. Mozart's", False).
    The surrounding quotes are not part of the title (an apostrophe ending
    the title is: ``'Still Flyin''`` → ``Still Flyin'``)."""
    text = raw.replace("\r", "\n").strip()
    is_new = False
    if m := re.match(r"^\s*NEW!?\s*", text, re.I):
        if re.match(r"^\s*NEW!", text, re.I):
            is_new = True
            text = text[m.end():]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    composer = None
    if len(lines) > 1:
        composer, text = " ".join(lines[:-1]), lines[-1]
    elif lines:
        text = lines[0]
        # A composer prefix on one line: "Brahms' 'Hungarian Dance No. 5'".
        if m := re.match(r"^(.+?(?:'s|s'|’s|s’))\s+(['‘].*['’])$", text):
            composer, text = m.group(1), m.group(2)
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] in "'‘\"" and text[-1] in "'’\"":
        text = text[1:-1]
    elif text[:1] in "'‘":
        text = text[1:]
    return text.strip(), composer, is_new


def parse_track_count(text: str | None) -> tuple[int | None, int | None]:
    """``"79 Tracks | 2 Parts:"`` → (79, 2); ``"1 Track:"`` → (1, None)."""
    if not text:
        return None, None
    tracks = re.search(r"(\d[\d,]*)\s*Tracks?", text, re.I)
    parts = re.search(r"(\d+)\s*Parts?", text, re.I)
    n = parse_count(tracks.group(1)) if tracks else parse_count(text.split("|")[0])
    return n, (int(parts.group(1)) if parts else None)


def _has_class(cls: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')"


def is_file_url(url: str) -> bool:
    """A link to a file (ZIP, audio) rather than to a web page."""
    return url_extension(url) in FILE_EXTENSIONS


def parse_library(html: str | bytes, base_url: str, *, own_hosts: Iterable[str] = CAMBRIDGE_FILE_HOSTS,
                  scraped_at: str | None = None) -> list[CmtSong]:
    """Every song of the library page (``div.c-mtk``).  ``own_hosts`` are the
    hosts of Cambridge-MT's own downloads: a ZIP elsewhere (zenodo,
    archive.org, puremix) makes the song an external download."""
    sel = Selector(text=html.decode("utf-8", "replace") if isinstance(html, bytes) else html)
    if not sel.css("div.c-mtk"):
        raise MalformedPage("no div.c-mtk: not the multitrack library page (a Cloudflare challenge?)")
    own = tuple(own_hosts)
    songs: list[CmtSong] = []
    for genre_div in sel.css("div.c-mtk__genre"):
        heading = genre_div.xpath("./h3|./*[self::h2 or self::h3]")
        genre = inline_text(heading[0]) if heading else None
        for artist_div in genre_div.xpath(f".//div[{_has_class('c-mtk__artist')}]"):
            name_node = artist_div.xpath(f".//h4[{_has_class('m-container__title-bar-item')}]")
            artist = inline_text(name_node[0]) if name_node else ""
            style_node = artist_div.xpath(f".//span[{_has_class('m-container__title-bar-item')} and not(ancestor::h4)]")
            sub_genre = inline_text(style_node[0]) or None if style_node else None
            for track in artist_div.xpath(f".//li[{_has_class('m-mtk-track')}]"):
                song = _parse_track(track, base_url, own)
                if song is None or not artist:
                    continue
                song.artist, song.genre, song.sub_genre, song.scraped_at = artist, genre, sub_genre, scraped_at
                songs.append(song)
    return songs


def _parse_track(track: Selector, base_url: str, own: tuple[str, ...]) -> CmtSong | None:
    name = track.xpath(f".//span[{_has_class('m-mtk-track__name')}]")
    if not name:
        return None
    title, composer, _new = clean_title(node_text(name[0]))
    if not title:
        return None
    song = CmtSong(artist="", title=title, composer=composer)
    external = registration = False
    for dl in track.xpath(f".//li[{_has_class('m-mtk-download')}]"):
        whole = inline_text(dl)
        label_node = dl.xpath(f".//*[{_has_class('m-mtk-download__type')}]")
        label = inline_text(label_node[0]).lower() if label_node else ""
        count_node = dl.xpath(f".//*[{_has_class('m-mtk-download__count')}]")
        tracks, _parts = parse_track_count(inline_text(count_node[0]) if count_node else None)
        links_node = dl.xpath(f".//*[{_has_class('m-mtk-download__links')}]")
        source = links_node[0] if links_node else dl
        links = [urljoin(base_url, h.strip()) for h in source.xpath(".//a/@href").getall() if h.strip()]
        if "full" in label or ("multitrack" in label and "excerpt" not in label):
            song.multitrack_urls += [u for u in links if u not in song.multitrack_urls]
            song.full_tracks = tracks
        elif "excerpt" in label or "edited" in label:
            song.excerpt_urls += [u for u in links if u not in song.excerpt_urls]
            song.excerpt_tracks = tracks
        elif label:
            continue  # stems, podcasts: no column for them
        else:
            _read_previews(dl, base_url, song)
            continue
        lowered = whole.lower()
        registration = registration or "registration" in lowered
        external = (external or "external" in lowered
                    or any(not host_matches(urlsplit(u).netloc, own) for u in links))
    song.external_download = external
    song.registration_required = registration
    forum = track.xpath(f".//*[{_has_class('m-mtk-track__forum-link')}]//a/@href").get() or \
        track.xpath(".//a[contains(@href, 'forumdisplay.php?fid=')]/@href").get()
    song.forum_fid = query_int(forum, "fid")
    return song


def _read_previews(dl: Selector, base_url: str, song: CmtSong) -> None:
    """The previews item: "Full Preview: MP3", "Excerpt Preview: MP3",
    "Unmastered Mix: WAV", each classified by its label, else by file name."""
    for a in dl.xpath(".//a[@href]"):
        url = urljoin(base_url, a.attrib["href"].strip())
        holder = a.xpath(f"ancestor::span[{_has_class('l-nowrap')}][1]")
        label = inline_text(holder[0]) if holder else inline_text(a.xpath("..")[0])
        _set_preview(song, url, label.lower())
    # Audio players carry the preview URL too (used when a link is missing).
    for src in dl.xpath(".//*[@data-src]/@data-src").getall():
        _set_preview(song, urljoin(base_url, src.strip()), "")


def _set_preview(song: CmtSong, url: str, label: str) -> None:
    name = urlsplit(url).path.lower()
    if "unmastered" in label or "unmastered" in name:
        kind = "unmastered_wav_url"
    elif "excerpt" in label or "edited" in label:
        kind = "excerpt_preview_url"
    elif "full" in label or "_full" in name:
        kind = "full_preview_url"
    elif "_preview" in name:
        kind = "excerpt_preview_url"
    else:
        kind = "full_preview_url"
    if getattr(song, kind) is None:
        setattr(song, kind, url)


# --- the forum ------------------------------------------------------------------------


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
    hidden = profile.xpath(f"following-sibling::*[1][{_has_class('__cf_email__')}]")
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
        author_box = subject_td[0].xpath(f".//*[{_has_class('author')}]")
        if author_box:
            thread.author = member_name(author_box[0])
        started = subject_td[0].xpath(f".//*[{_has_class('thread_start_datetime')}]")
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


def is_mix_link(url: str) -> bool:
    """A link to a mix: a file-sharing/streaming service or a direct audio file."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    return host_matches(parts.netloc, MIX_SERVICE_HOSTS) or url_extension(url) in AUDIO_EXTENSIONS


def is_direct_audio(url: str) -> bool:
    """A direct link to an audio file (downloadable), not a sharing page."""
    parts = urlsplit(url)
    return (parts.scheme in ("http", "https") and url_extension(url) in AUDIO_EXTENSIONS
            and not host_matches(parts.netloc, MIX_SERVICE_HOSTS))


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
        author = post.xpath(f".//div[{_has_class('author_information')}]")
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


# --- attachments ------------------------------------------------------------------------


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
_RUN_BREAKS = _BLOCK_TAGS | {"br", "img", "a", "audio", "video", "source", "iframe", "object", "embed", "input"}
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

    for area in post.xpath(f".//div[{_has_class('post_body')}] | .//fieldset[not(ancestor::blockquote)]"):
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
