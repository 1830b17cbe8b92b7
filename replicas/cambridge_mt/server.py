"""aiohttp apps replaying the Cambridge-MT hosts on 127.0.0.1.

Six apps on six ports (one ``AppThread``): ``library`` (www.cambridge-mt.com:
``/ms3/mtk/`` and the old ``/ms/mtk/`` redirecting to it), ``previews``,
``mtkdata`` and ``multitracks`` (the two ZIP hosts), ``external`` (zenodo,
puremix, archive.org and users' own sites under ``/<host>/<path>``) and
``forum`` (MyBB).  File hosts answer HEAD with Content-Length, ETag and
Accept-Ranges, and honour ``Range`` / ``If-Range``; file bytes are generated,
never stored, so a 1.5 GB file costs no memory.  Misbehaviour is switched by
``Quirks``; ``Stats`` records what the crawler asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web

from replicas.cambridge_mt.content import BLOCK, StreamFile, audio_file, mp3_bytes, wav_bytes, zip_bytes
from replicas.cambridge_mt.library import render_library
from replicas.cambridge_mt.mybb import render_forum, render_index, render_thread
from replicas.cambridge_mt.world import Forum, Library, build_forum, load_library
from replicas.common import Holds
from replicas.runner import AppThread, StartStop

__all__ = ["APPS", "CambridgeReplica", "Quirks", "Stats"]

APPS = ("library", "previews", "mtkdata", "multitracks", "external", "forum")
# Above this size the ETag is multipart-style (no MD5 of the content), as S3
# gives large objects: the crawler must then verify by size.
MD5_ETAG_MAX = 256 << 20


@dataclass
class Quirks:
    """Switchable misbehaviour (defaults: what the real hosts do, minus the
    HTTP 400 bursts, which tests switch on)."""

    # Real file URL (as in the CSV, e.g. a …_Full_1.zip) → size in bytes of
    # generated content served instead of the small ZIP.
    large_files: dict[str, int] = field(default_factory=dict)
    # Real file URL → drop the connection once after this many bytes of a GET.
    drop_after: dict[str, int] = field(default_factory=dict)
    # Real file URL → the first GET carries one wrong byte at this offset
    # (the ETag still names the right content: a checksum must catch it).
    corrupt_once: dict[str, int] = field(default_factory=dict)
    # Forum: more than N requests within T seconds → HTTP 400 until the
    # client pauses for P seconds (the real forum: ~30 s).  (N, T, P).
    burst_400: tuple[int, float, float] | None = None
    # Sleep before answering every forum page.
    forum_latency_ms: int = 0
    # Throttle file bodies to this many bytes per second per response (0: off).
    file_rate: int = 0


class Stats(dict):  # type: ignore[type-arg]
    """Counters (``requests_<app>``, ``status_<code>``, ``head_<app>`` …) plus
    ``ranges``: every ranged GET as (path, first byte, If-Range) and
    ``downloads``: path → full bodies served."""

    def __init__(self) -> None:
        super().__init__(ranges=[], completed=[])
        self._lock = threading.Lock()

    def incr(self, key: str, n: int = 1) -> None:
        with self._lock:
            self[key] = self.get(key, 0) + n

    def add(self, key: str, value: Any) -> None:
        with self._lock:
            self[key].append(value)


@dataclass
class Served:
    """One file a host serves: bytes made on demand, or a ``StreamFile``."""

    content_type: str
    make: Callable[[], bytes] | None = None
    stream: StreamFile | None = None
    disposition: str | None = None


class CambridgeReplica(StartStop):
    """The Cambridge-MT hosts for ``library`` (default: the real 616 songs)
    and ``forum`` (default: ``build_forum(library)``)."""

    def __init__(self, library: Library | None = None, forum: Forum | None = None, quirks: Quirks | None = None,
                 host: str = "127.0.0.1", ports: dict[str, int] | None = None) -> None:
        self.library = library if library is not None else load_library()
        self.forum = forum if forum is not None else build_forum(self.library)
        self.quirks = quirks or Quirks()
        self.stats = Stats()
        self.urls: dict[str, str] = {}
        self._files: dict[tuple[str, str], Served] = {}
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._dropped: set[tuple[str, str]] = set()
        self._drops: dict[tuple[str, str], int] = {}
        self._corrupt: dict[tuple[str, str], int] = {}
        self._burst: deque[float] = deque()
        self._locked_until = 0.0
        self._forum_in_flight = 0
        self._library_html: str | None = None
        # Forum requests a test holds until it has caused its fault (replicas/common.py).
        self.holds = Holds()
        self.apps = {name: self._app(name) for name in APPS}
        self._thread = AppThread(self.apps, host=host, ports=ports)

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> dict[str, str]:
        self.urls = self._thread.start_named()
        self.library.bind(self.urls)
        self.forum.bind(self.urls["forum"])
        self._register_files()
        self._library_html = render_library(self.library)
        return dict(self.urls)

    def stop(self) -> None:
        self.holds.release_all()
        self._thread.stop()

    # -- what tests need -------------------------------------------------------------
    @property
    def library_url(self) -> str:
        return f"{self.urls['library']}/ms3/mtk/"

    @property
    def file_hosts(self) -> list[str]:
        """host:port of the replica's own download hosts (CAMBRIDGE_MT_FILE_HOSTS)."""
        return [urlsplit(self.urls[n]).netloc for n in ("mtkdata", "multitracks", "previews", "library")]

    def settings(self) -> dict[str, str]:
        """Crawl settings pointing the spiders at this replica."""
        return {"CAMBRIDGE_MT_URL": self.library_url, "CAMBRIDGE_FORUM_URL": self.urls["forum"],
                "CAMBRIDGE_MT_FILE_HOSTS": ",".join(self.file_hosts)}

    def served(self, url: str) -> Served | None:
        """What the replica serves at ``url`` (a replica URL)."""
        app = next((n for n, base in self.urls.items() if url.startswith(base + "/")), None)
        if app is None:
            return None
        return self._files.get((app, url[len(self.urls[app]):]))

    def content(self, url: str) -> bytes:
        """The bytes served at a (small-file) replica URL."""
        served = self.served(url)
        assert served is not None and served.make is not None, url
        return served.make()

    def md5(self, url: str) -> str:
        served = self.served(url)
        assert served is not None, url
        if served.stream is not None:
            return served.stream.md5()
        return hashlib.md5(served.make(), usedforsecurity=False).hexdigest()  # type: ignore[misc]

    def size(self, url: str) -> int:
        served = self.served(url)
        assert served is not None, url
        return served.stream.size if served.stream is not None else len(served.make())  # type: ignore[misc]

    # -- files ----------------------------------------------------------------------
    def _register_files(self) -> None:
        lib = self.library
        large = {lib.route(u): size for u, size in self.quirks.large_files.items()}
        self._drops = {lib.route(u): n for u, n in self.quirks.drop_after.items()}
        self._corrupt = {lib.route(u): n for u, n in self.quirks.corrupt_once.items()}
        for song in lib.songs:
            parts = len(song.full_urls)
            per_part = -(-(song.full_tracks or 1) // max(parts, 1))
            for i, real in enumerate(song.full_urls):
                first = i * per_part + 1
                tracks = max(0, min(per_part, (song.full_tracks or 1) - i * per_part))
                self._register_zip(real, song.index, tracks, first, large)
            for real in song.excerpt_urls:
                self._register_zip(real, song.index, song.excerpt_tracks or 1, 1, large)
            for real in (song.full_preview, song.excerpt_preview, song.unmastered):
                if real:
                    key = lib.route(real)
                    if key in large:
                        self._files[key] = Served("application/octet-stream", stream=StreamFile(large[key], key))
                    elif real.lower().endswith(".wav"):
                        self._files[key] = Served("audio/wav", make=self._cached(key, lambda k=key: wav_bytes(k, 4096)))
                    else:
                        self._files[key] = Served("audio/mpeg", make=self._cached(key, lambda k=key: mp3_bytes(k)))
        forum = self.forum
        for post in forum.posts.values():
            for real, kind, _filename in post.mixes:
                if kind == "external" and urlsplit(real).netloc.endswith(".example.net"):
                    key = lib.route(real)
                    if real.endswith(".wav"):
                        self._files[key] = Served("audio/wav", make=self._cached(key, lambda k=key: wav_bytes(k, 8192)))
                    else:
                        self._files[key] = Served("audio/mpeg", make=self._cached(key, lambda k=key: mp3_bytes(k, 40)))
            for att in post.attachments:
                key = ("forum", f"/attachment.php?aid={att.aid}")
                ext = att.filename.rsplit(".", 1)[-1].lower()
                ctype = "audio/wav" if ext == "wav" else "audio/mpeg"
                make = partial(audio_file, ("att", att.aid), ext, att.size)
                self._files[key] = Served(ctype, make=self._cached(key, make),
                                          disposition=f'attachment; filename="{att.filename}"')
        for song in lib.songs:
            for real in song.full_urls + song.excerpt_urls:
                key = lib.route(real)
                if key not in self._files:  # pages: puremix video pages, archive.org details
                    title = f"{song.artist}: {song.title}"
                    html = (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
                            "<p>Log in or register to download the multitrack.</p></body></html>").encode()
                    self._files[key] = Served("text/html; charset=utf-8", make=lambda h=html: h)

    def _register_zip(self, real: str, index: int, tracks: int, first: int, large: dict[tuple[str, str], int]) -> None:
        key = self.library.route(real)
        if not urlsplit(real).path.lower().endswith(".zip"):
            return
        if key in large:
            self._files[key] = Served("application/zip", stream=StreamFile(large[key], key))
            return
        folder = PurePosixPath(unquote(urlsplit(real).path)).stem
        folder = re.sub(r"_(Pt)?\d+$", "", folder)
        macosx = index % 5 == 0
        self._files[key] = Served("application/zip", make=self._cached(
            key, lambda: zip_bytes(folder, tracks, key, first_track=first, macosx=macosx)))

    def _cached(self, key: tuple[str, str], make: Callable[[], bytes]) -> Callable[[], bytes]:
        def get() -> bytes:
            with self._cache_lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
            data = make()
            with self._cache_lock:
                self._cache[key] = data
                while len(self._cache) > 256:
                    self._cache.popitem(last=False)
            return data
        return get

    def _etag(self, served: Served, key: tuple[str, str]) -> str:
        if served.stream is not None and served.stream.size > MD5_ETAG_MAX:
            digest = hashlib.sha1(repr((key, served.stream.size)).encode(), usedforsecurity=False).hexdigest()
            return f'"{digest[:32]}-{-(-served.stream.size // (16 << 20))}"'
        if served.stream is not None:
            return f'"{served.stream.md5()}"'
        return f'"{hashlib.md5(served.make(), usedforsecurity=False).hexdigest()}"'  # type: ignore[misc]

    # -- apps ------------------------------------------------------------------------
    def _app(self, name: str) -> web.Application:
        app = web.Application()
        if name == "library":
            app.router.add_get("/ms3/mtk/", self._library_page)
            app.router.add_get("/ms3/mtk", self._redirect_library)
            app.router.add_get("/ms/mtk/", self._redirect_library)
            app.router.add_get("/ms/mtk", self._redirect_library)
            app.router.add_get("/robots.txt", self._robots)
        elif name == "forum":
            app.router.add_get("/forumdisplay.php", self._forumdisplay)
            app.router.add_get("/showthread.php", self._showthread)
            app.router.add_get("/index.php", self._index)
            app.router.add_get("/", self._index)
            app.router.add_get("/robots.txt", self._robots)
            self._add_file_routes(app, name, "/attachment.php")
            app.middlewares.append(self._forum_guard)
            app.middlewares.append(self.holds.middleware)
        if name != "forum":
            self._add_file_routes(app, name, "/{path:.*}")
        return app

    def _add_file_routes(self, app: web.Application, name: str, path: str) -> None:
        """HEAD then GET of ``path`` served from app ``name``'s files."""
        for method in ("HEAD", "GET"):
            app.router.add_route(method, path, self._file_handler(name))

    async def _robots(self, request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nDisallow:\n")

    async def _redirect_library(self, request: web.Request) -> web.Response:
        self.stats.incr("library_redirects")
        raise web.HTTPMovedPermanently(location="/ms3/mtk/")

    async def _library_page(self, request: web.Request) -> web.Response:
        self.stats.incr("requests_library")
        return web.Response(text=self._library_html or "", content_type="text/html", charset="utf-8")

    # -- forum -----------------------------------------------------------------------
    @web.middleware
    async def _forum_guard(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        self.stats.incr("requests_forum")
        if self.quirks.burst_400 is not None and self._bursting():
            self.stats.incr("status_400")
            return web.Response(status=400, content_type="text/html",
                                text="<html><head><title>400 Bad Request</title></head><body><center><h1>400 Bad "
                                     "Request</h1></center><hr><center>cloudflare</center></body></html>")
        # How many forum requests were ever served at once (politeness check).
        self._forum_in_flight += 1
        self.stats["forum_max_in_flight"] = max(self.stats.get("forum_max_in_flight", 0), self._forum_in_flight)
        try:
            if self.quirks.forum_latency_ms:
                await asyncio.sleep(self.quirks.forum_latency_ms / 1000)
            return await handler(request)
        finally:
            self._forum_in_flight -= 1

    def _bursting(self) -> bool:
        limit, window, pause = self.quirks.burst_400  # type: ignore[misc]
        now = time.monotonic()
        if now < self._locked_until:
            self._locked_until = now + pause  # only a real pause lifts the block
            return True
        self._burst.append(now)
        while self._burst and self._burst[0] < now - window:
            self._burst.popleft()
        if len(self._burst) > limit:
            self._burst.clear()
            self._locked_until = now + pause
            return True
        return False

    @staticmethod
    def _lastvisit(request: web.Request) -> int | None:
        m = re.search(r"mybb\[lastvisit\]=(\d+)", request.headers.get("Cookie", ""))
        return int(m.group(1)) if m else None

    def _html(self, request: web.Request, html: str | None, set_visit: bool = False) -> web.Response:
        if html is None:
            self.stats.incr("status_404")
            return web.Response(status=404, content_type="text/html",
                                text="<html><body><td class=\"trow1\">The specified forum does not exist.</td>"
                                     "</body></html>")
        response = web.Response(text=html, content_type="text/html", charset="utf-8")
        if set_visit and self._lastvisit(request) is None:
            # A guest's first visit; later pages mark older threads as read.
            response.headers.add("Set-Cookie", f"mybb[lastvisit]={int(time.time()) - 86400}; path=/")
        return response

    async def _index(self, request: web.Request) -> web.Response:
        return self._html(request, render_index(self.forum, int(time.time())), set_visit=True)

    async def _forumdisplay(self, request: web.Request) -> web.Response:
        try:
            fid, page = int(request.query["fid"]), int(request.query.get("page", "1"))
        except (KeyError, ValueError):
            return self._html(request, None)
        self.stats.incr("forumdisplay")
        html = render_forum(self.forum, fid, page, int(time.time()), self._lastvisit(request))
        return self._html(request, html, set_visit=True)

    async def _showthread(self, request: web.Request) -> web.Response:
        try:
            tid, page = int(request.query["tid"]), int(request.query.get("page", "1"))
        except (KeyError, ValueError):
            return self._html(request, None)
        self.stats.incr("showthread")
        return self._html(request, render_thread(self.forum, self.library, tid, page, int(time.time())))

    # -- file hosts ------------------------------------------------------------------
    def _file_handler(self, app: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve_file(app, request)
        return handle

    async def _serve_file(self, app: str, request: web.Request) -> web.StreamResponse:
        key = (app, request.raw_path)
        served = self._files.get(key)
        if request.method == "HEAD":
            self.stats.incr(f"head_{app}")
        else:
            self.stats.incr(f"requests_{app}")
        if served is None:
            self.stats.incr("status_404")
            return web.Response(status=404, text="Not Found")
        data = None
        if served.stream is not None:
            size = served.stream.size
        else:
            data = await asyncio.to_thread(served.make)  # type: ignore[arg-type]
            size = len(data)
        etag = await asyncio.to_thread(self._etag, served, key)
        headers = {"Content-Type": served.content_type, "ETag": etag, "Last-Modified": "Mon, 13 Jan 2025 10:00:00 GMT"}
        if app != "forum":
            headers["Accept-Ranges"] = "bytes"  # MyBB's attachment.php has no Range support
        if served.disposition:
            headers["Content-Disposition"] = served.disposition
        start, end, status = 0, size - 1, 200
        range_header = request.headers.get("Range")
        if range_header and app != "forum" and request.method == "GET":
            if_range = request.headers.get("If-Range")
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header.strip())
            self.stats.add("ranges", (request.raw_path, int(m.group(1)) if m else None, if_range))
            if m and (if_range is None or if_range == etag):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                if start >= size:
                    return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return web.Response(status=200, headers=headers)
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(request)
        drop_at = None
        if key in self._drops and key not in self._dropped:
            drop_at = self._drops[key]
        pieces = served.stream.iter_range(start, end) if served.stream is not None else \
            (data[i:i + BLOCK] for i in range(start, end + 1, BLOCK))  # type: ignore[index]
        began = time.monotonic()
        try:
            return await self._send(request, response, key, pieces, start, drop_at, began)
        except ConnectionResetError:  # the client went away (a killed crawler)
            self.stats.incr("client_gone")
            self.stats.add("completed", (request.raw_path, start, None, "client gone"))
            return response

    async def _send(self, request: web.Request, response: web.StreamResponse, key: tuple[str, str],
                    pieces: Any, start: int, drop_at: int | None, began: float) -> web.StreamResponse:
        sent = 0
        corrupt_at = self._corrupt.pop(key, None)
        for piece in pieces:
            if corrupt_at is not None and start + sent <= corrupt_at < start + sent + len(piece):
                i = corrupt_at - start - sent
                piece = piece[:i] + bytes([piece[i] ^ 0xFF]) + piece[i + 1:]
                self.stats.incr("corrupted")
            if drop_at is not None and start + sent + len(piece) > drop_at:
                piece = piece[: max(0, drop_at - start - sent)]
                if piece:
                    await response.write(piece)
                    sent += len(piece)
                self._dropped.add(key)
                self.stats.incr("connections_dropped")
                self.stats.add("completed", (request.raw_path, start, start + sent, "dropped"))
                request.transport.close()  # type: ignore[union-attr]
                return response
            await response.write(piece)
            sent += len(piece)
            if self.quirks.file_rate:
                ahead = sent / self.quirks.file_rate - (time.monotonic() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await response.write_eof()
        self.stats.add("completed", (request.raw_path, start, start + sent, "ok"))
        return response
