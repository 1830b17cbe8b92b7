"""The library page (``/ms3/mtk/``) rendered from a ``Library``, with the BEM
markup of cambridge-mt.md §1.2 and its quirks: "NEW!" as a leading child
node, composer prefixes on their own line, multi-part ZIPs ("N Tracks | 2
Parts:" and one link per part), songs without an excerpt or without a full
multitrack, external and registration-only downloads, preview players."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from replicas.cambridge_mt.world import GENRE_IDS, Library, Song, _rng

__all__ = ["render_library"]

_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The 'Mixing Secrets' Free Multitrack Download Library</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/css/main.css?v=2025-02">
</head>
<body class="l-page">
<header class="l-header"><a href="/">Cambridge Music Technology</a></header>
<main class="l-main">
<h1>The 'Mixing Secrets' Free Multitrack Download Library</h1>
<p class="c-banner">All multitracks are ZIP archives of uncompressed WAV files (24-bit or 16-bit, 44.1kHz).
Mix them for educational purposes and discuss your mixes in our forum.</p>
"""
_FOOT = """</main>
<footer class="l-footer">&copy; Cambridge Music Technology</footer>
</body>
</html>
"""


def _a(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def _mb(song: Song, part: int, kind: str) -> str:
    """A plausible size label (the bytes served are much smaller)."""
    rng = _rng("size", song.index, part, kind)
    tracks = (song.full_tracks if kind == "full" else song.excerpt_tracks) or 1
    return f"{max(5, int(tracks * rng.uniform(8, 30)))}MB"


def _count(tracks: int | None, parts: int | None) -> str:
    if tracks is None:
        return ""
    label = "1 Track" if tracks == 1 else f"{tracks} Tracks"
    return f"{label} | {parts} Parts:" if parts else f"{label}:"


def _links(library: Library, song: Song, urls: list[str], kind: str) -> str:
    out = []
    for i, real in enumerate(urls, start=1):
        url = library.url(real) or real
        host = urlsplit(real).netloc
        if host.endswith("puremix.net"):
            out.append(f'{_a(url, "External Link")} <span>(Requires registration)</span>')
        elif host in ("zenodo.org", "archive.org"):
            out.append(f'{_a(url, "ZIP" if real.lower().split("?")[0].endswith(".zip") else "Link")} '
                       f"<span>(External)</span>")
        elif len(urls) > 1:
            out.append(f'{_a(url, f"Part {i}")} <span>{_mb(song, i, kind)}</span>')
        else:
            out.append(f'{_a(url, "ZIP")} <span>{_mb(song, i, kind)}</span>')
    return ", ".join(out)


def _title_html(song: Song) -> str:
    text = song.raw_title[5:] if song.is_new else song.raw_title
    inner = "<br />\n".join(escape(part) for part in text.split("\n"))
    new = '<span class="m-mtk-track__new">NEW! </span>' if song.is_new else ""
    return f'<span class="m-mtk-track__name">{new}{inner}</span>'


def _track(library: Library, song: Song) -> str:
    downloads = []
    if song.excerpt_urls:
        downloads.append(
            '<li class="m-mtk-download"><div class="m-mtk-download__content">'
            '<div class="m-mtk-download__type">Edited Excerpt...</div>'
            f'<span class="m-mtk-download__count">{_count(song.excerpt_tracks, None)}</span> '
            f'<span class="m-mtk-download__links">{_links(library, song, song.excerpt_urls, "excerpt")}</span>'
            "</div></li>")
    if song.full_urls:
        downloads.append(
            '<li class="m-mtk-download"><div class="m-mtk-download__content">'
            '<div class="m-mtk-download__type">Full Multitrack</div>'
            f'<span class="m-mtk-download__count">{_count(song.full_tracks, song.parts)}</span> '
            f'<span class="m-mtk-download__links">{_links(library, song, song.full_urls, "full")}</span>'
            "</div></li>")
    previews = []
    for label, real, fmt in (("Full Preview", song.full_preview, "MP3"),
                             ("Excerpt Preview", song.excerpt_preview, "MP3"),
                             ("Unmastered Mix", song.unmastered, "WAV")):
        if real:
            previews.append(f'<span class="l-nowrap">{label}: {_a(library.url(real) or real, fmt)}</span>')
    if previews:
        player = song.full_preview or song.excerpt_preview
        player_html = (f'<div class="m-mtk-download__preview"><span class="m-audio-player" '
                       f'data-src="{escape(library.url(player) or player)}"></span></div>') if player else ""
        downloads.append('<li class="m-mtk-download m-mtk-download--text-center">'
                         f'<div class="m-mtk-download__content">{" ".join(previews)}</div>{player_html}</li>')
    forum = ""
    if song.fid is not None:
        url = library.url(f"https://discussion.cambridge-mt.com/forumdisplay.php?fid={song.fid}") or ""
        forum = f'<p class="m-mtk-track__forum-link">{_a(url, "Discuss this mix in our forum")}</p>'
    return ('<li class="m-mtk-track"><div class="m-mtk-track__main">'
            f'{_title_html(song)}<ul class="m-mtk-track__downloads">{"".join(downloads)}</ul>'
            f"</div>{forum}</li>")


def render_library(library: Library) -> str:
    parts = [_HEAD, '<div class="c-mtk">']
    for genre in library.genres():
        songs = [s for s in library.songs if s.genre == genre]
        gid = GENRE_IDS.get(genre, "Other")
        parts.append(f'<div class="c-mtk__genre"><h3 id="{gid}"><span>{escape(genre)}</span></h3>')
        artists: dict[str, list[Song]] = {}
        for song in songs:
            artists.setdefault(song.artist, []).append(song)
        for artist, tracks in artists.items():
            slug = "".join(ch for ch in artist.lower() if ch.isalnum())
            parts.append(
                '<div class="c-mtk__artist m-container m-container--artist">'
                '<div class="m-container__title-bar">'
                f'<h4 class="m-container__title-bar-item"><span>{escape(artist)}</span></h4>'
                f'<span class="m-container__title-bar-item">{escape(tracks[0].sub_genre)}</span></div>'
                '<div class="m-container__header">'
                f'<span><a href="https://www.{slug or "artist"}.example.com/">Website</a></span> '
                f'<span><a href="https://www.facebook.com/{slug or "artist"}">Facebook</a></span></div>'
                f'<ul>{"".join(_track(library, s) for s in tracks)}</ul></div>')
        parts.append("</div>")
    parts.append("</div>")
    parts.append(_FOOT)
    return "\n".join(parts)
