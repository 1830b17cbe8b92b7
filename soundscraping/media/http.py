"""The streaming path's HTTP client (blocking; runs in worker threads): one
URL to a verified local part file, in chunks, resumed with ``Range`` after a
dropped connection or a killed crawl, retried with back-off, one request at
a time per host with a pause between."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3

from soundscraping.media.errors import FileNotStored

logger = logging.getLogger(__name__)

# Statuses worth another try after a pause (the forum answers 400 to bursts).
RETRY_STATUSES = frozenset({400, 408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')


class StreamFailed(RuntimeError):
    """A file that could not be fetched (after the retries)."""


class StreamCancelled(StreamFailed):
    """The crawl is stopping; the part file is kept for the next run."""


class _Retry(Exception):
    pass


@dataclass
class Remote:
    """What HEAD said about a file."""

    size: int | None = None
    etag: str | None = None
    ranges: bool = False

    @property
    def md5(self) -> str | None:
        """The ETag when it is a plain MD5 of the content (not a weak or
        multipart ETag)."""
        m = _MD5_ETAG.match(self.etag or "")
        return m.group(1).lower() if m else None


@dataclass
class Fetched:
    size: int
    md5: str
    resumes: int = 0  # ranged requests that continued a part file
    restarts: int = 0  # times the part file was thrown away (changed file, bad checksum, Range ignored)
    received: int = 0  # bytes over the network this time


class HostThrottle:
    """At least ``delay`` seconds between request starts to one host (threads)."""

    def __init__(self, delay: float):
        self.delay = delay
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, stop: Callable[[], bool]) -> None:
        if self.delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, 0.0))
            self._next[host] = at + self.delay
        _sleep(at - now, stop)


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    """Sleep, waking early when the crawl stops."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop():
            raise StreamCancelled("crawl stopping")
        time.sleep(min(left, 0.2))


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    m = re.match(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", value or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), (int(m.group(3)) if m.group(3) != "*" else None)


class FileStreamer:
    """Blocking HTTP side of the streaming path (runs in worker threads):
    one URL to a verified local part file, in chunks, resumable."""

    def __init__(self, *, chunk_size: int = 1 << 20, timeout: float = 60, retry_times: int = 10,
                 backoff_base: float = 1.0, backoff_max: float = 60.0, host_delay: float = 0.0,
                 user_agent: str | None = None, stop: Callable[[], bool] = lambda: False,
                 progress: Callable[[], None] = lambda: None):
        self.chunk_size = chunk_size
        self.progress = progress  # called per chunk (the watchdog: a long download is not a stall)
        self.retry_times = retry_times
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.user_agent = user_agent
        self.stop = stop
        self.throttle = HostThrottle(host_delay)
        # Redirects followed (CDNs); connection errors and statuses are retried
        # here, with back-off and Range.
        retries = urllib3.Retry(total=None, connect=2, read=0, status=0, other=0, redirect=5)
        self.http = urllib3.PoolManager(num_pools=16, maxsize=4, retries=retries,
                                        timeout=urllib3.Timeout(connect=min(timeout, 30), read=timeout))

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept-Encoding": "identity"}  # the bytes as stored, never re-encoded
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        return {**headers, **(extra or {})}

    def _request(self, method: str, url: str, headers: dict[str, str]) -> Any:
        self.throttle.wait(urlsplit(url).netloc, self.stop)
        return self.http.request(method, url, headers=self._headers(headers), preload_content=False)

    def _pause(self, attempt: int, url: str, why: Any) -> None:
        if attempt > self.retry_times:
            raise StreamFailed(f"gave up on {url} after {self.retry_times} retries: {why}")
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)  # noqa: S311
        logger.info("Download of %s interrupted (%s); retrying in %.1f s (%d/%d)", url, why, delay, attempt,
                    self.retry_times)
        _sleep(delay, self.stop)

    def head(self, url: str) -> Remote:
        attempt = 0
        while True:
            try:
                response = self._request("HEAD", url, {})
                response.drain_conn()
                response.release_conn()
                status = response.status
                if status in (200, 204):
                    length = response.headers.get("Content-Length")
                    return Remote(size=int(length) if length and length.isdigit() else None,
                                  etag=response.headers.get("ETag"),
                                  ranges=response.headers.get("Accept-Ranges", "").lower() == "bytes")
                if status in (403, 405, 501):
                    return Remote()  # HEAD refused: learn the size from the GET
                if status in RETRY_STATUSES:
                    raise _Retry(f"HTTP {status}")
                raise StreamFailed(f"HTTP {status} for {url}")
            except (_Retry, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                attempt += 1
                self._pause(attempt, url, exc)

    def fetch(self, url: str, part: Path, remote: Remote) -> Fetched:
        """Download ``url`` into ``part``, continuing what an earlier attempt
        or an earlier crawl left there when the file has not changed."""
        state_file = part.with_name(part.name + ".json")
        state = {"url": url, "etag": remote.etag, "size": remote.size}
        if part.exists():
            try:
                old = json.loads(state_file.read_text())
            except (OSError, ValueError):
                old = None
            if old != state:
                logger.info("Discarding a stale part file for %s (the remote file changed)", url)
                part.unlink()
        part.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(state))
        total = remote.size
        digest, hashed = hashlib.md5(usedforsecurity=False), 0
        result = Fetched(size=0, md5="")
        attempt = 0
        while True:
            if self.stop():
                raise StreamCancelled("crawl stopping")
            offset = part.stat().st_size if part.exists() else 0
            if total is not None and offset > total:
                part.unlink()
                offset = 0
            if total is not None and offset == total and offset > 0:
                break  # complete (an earlier run got every byte)
            if hashed != offset:
                digest, hashed = _hash_prefix(part, offset), offset
            headers = {}
            if offset:
                headers["Range"] = f"bytes={offset}-"
                if remote.etag and not remote.etag.startswith("W/"):
                    headers["If-Range"] = remote.etag  # a changed file comes back whole (200)
            try:
                response = self._request("GET", url, headers)
                try:
                    status = response.status
                    if status == 206 and offset:
                        span = _content_range(response.headers.get("Content-Range"))
                        if span is None or span[0] != offset:
                            raise _Retry(f"Content-Range {response.headers.get('Content-Range')!r} for byte {offset}")
                        total = span[2] if span[2] is not None else total
                        result.resumes += 1
                        logger.info("Resuming %s at byte %d of %s", url, offset, total)
                        mode = "ab"
                    elif status == 200:
                        if offset:
                            logger.warning("%s: Range not honoured (or the file changed): starting over", url)
                            result.restarts += 1
                        offset, digest, hashed, mode = 0, hashlib.md5(usedforsecurity=False), 0, "wb"
                        length = response.headers.get("Content-Length")
                        total = int(length) if length and length.isdigit() else total
                    elif status == 416:
                        part.unlink(missing_ok=True)
                        raise _Retry("HTTP 416")
                    elif status in RETRY_STATUSES:
                        raise _Retry(f"HTTP {status}")
                    else:
                        raise StreamFailed(f"HTTP {status} for {url}")
                    with part.open(mode) as out:
                        while chunk := response.read1(self.chunk_size):
                            _write_part(out, chunk, part)
                            digest.update(chunk)
                            hashed += len(chunk)
                            result.received += len(chunk)
                            self.progress()
                            if self.stop():
                                raise StreamCancelled("crawl stopping")
                        _write_part(out, b"", part)  # flushed here, where a full disk is not a network error
                except BaseException:
                    response.close()
                    raise
                response.release_conn()
                size = part.stat().st_size
                if total is None or size == total:
                    break
                raise _Retry(f"short body: {size} of {total} bytes")
            except (_Retry, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                attempt += 1
                self._pause(attempt, url, exc)
        size = part.stat().st_size
        if hashed != size:
            digest = _hash_prefix(part, size)
        result.size, result.md5 = size, digest.hexdigest()
        return result


def _write_part(out: Any, chunk: bytes, part: Path) -> None:
    """Append to the part file (an empty chunk: flush it); a local write
    error is FileNotStored, never retried as a network one."""
    try:
        if chunk:
            out.write(chunk)
        else:
            out.flush()
    except OSError as exc:
        raise FileNotStored.from_os_error(exc, part.parent) from exc


def _hash_prefix(part: Path, length: int) -> Any:
    """MD5 state of the first ``length`` bytes of ``part`` (to continue a
    resumed download's checksum)."""
    digest = hashlib.md5(usedforsecurity=False)
    if length <= 0:
        return digest
    left = length
    with part.open("rb") as f:
        while left and (chunk := f.read(min(1 << 20, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest


def discard_part(part: Path) -> None:
    part.unlink(missing_ok=True)
    part.with_name(part.name + ".json").unlink(missing_ok=True)
