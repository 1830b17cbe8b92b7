"""The "Mixing Secrets" multitrack library page: every song with its
multitracks, excerpts and previews.  Downloads are classified by their label
text, never by position (songs without an excerpt shift the list); every
part of a multi-part ZIP is kept."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from soundscraping.items import CmtSong
from soundscraping.sites import MalformedPage
from soundscraping.sites.cambridge_mt.text import has_class, inline_text, node_text, parse_count, query_int
from soundscraping.sites.cambridge_mt.urls import FILE_HOSTS, host_matches


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



def parse_library(html: str | bytes, base_url: str, *, own_hosts: Iterable[str] = FILE_HOSTS,
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
        for artist_div in genre_div.xpath(f".//div[{has_class('c-mtk__artist')}]"):
            name_node = artist_div.xpath(f".//h4[{has_class('m-container__title-bar-item')}]")
            artist = inline_text(name_node[0]) if name_node else ""
            style_node = artist_div.xpath(f".//span[{has_class('m-container__title-bar-item')} and not(ancestor::h4)]")
            sub_genre = inline_text(style_node[0]) or None if style_node else None
            for track in artist_div.xpath(f".//li[{has_class('m-mtk-track')}]"):
                song = _parse_track(track, base_url, own)
                if song is None or not artist:
                    continue
                song.artist, song.genre, song.sub_genre, song.scraped_at = artist, genre, sub_genre, scraped_at
                songs.append(song)
    return songs


def _parse_track(track: Selector, base_url: str, own: tuple[str, ...]) -> CmtSong | None:
    name = track.xpath(f".//span[{has_class('m-mtk-track__name')}]")
    if not name:
        return None
    title, composer, _new = clean_title(node_text(name[0]))
    if not title:
        return None
    song = CmtSong(artist="", title=title, composer=composer)
    external = registration = False
    for dl in track.xpath(f".//li[{has_class('m-mtk-download')}]"):
        whole = inline_text(dl)
        label_node = dl.xpath(f".//*[{has_class('m-mtk-download__type')}]")
        label = inline_text(label_node[0]).lower() if label_node else ""
        count_node = dl.xpath(f".//*[{has_class('m-mtk-download__count')}]")
        tracks, _parts = parse_track_count(inline_text(count_node[0]) if count_node else None)
        links_node = dl.xpath(f".//*[{has_class('m-mtk-download__links')}]")
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
    forum = track.xpath(f".//*[{has_class('m-mtk-track__forum-link')}]//a/@href").get() or \
        track.xpath(".//a[contains(@href, 'forumdisplay.php?fid=')]/@href").get()
    song.forum_fid = query_int(forum, "fid")
    return song


def _read_previews(dl: Selector, base_url: str, song: CmtSong) -> None:
    """The previews item: "Full Preview: MP3", "Excerpt Preview: MP3",
    "Unmastered Mix: WAV", each classified by its label, else by file name."""
    for a in dl.xpath(".//a[@href]"):
        url = urljoin(base_url, a.attrib["href"].strip())
        holder = a.xpath(f"ancestor::span[{has_class('l-nowrap')}][1]")
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
