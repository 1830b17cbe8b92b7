"""A download handler that sends requests with a current Chrome's TLS and
HTTP/2 fingerprint, through curl_cffi (``meta["impersonate"]``).

Anti-bot services (SoundCloud's DataDome, Beatport's Cloudflare) judge the
TLS ClientHello: Scrapy's own handshake (Twisted/OpenSSL) has no GREASE, no
compress_certificate and no ALPS, so it is refused whatever cookie it
carries.  curl_cffi's libcurl handshakes like Chrome.

Why not scrapy-impersonate: its handler opens a new ``AsyncSession`` (and so
a new TLS connection) for every request.  This one keeps one session per
impersonation target for the whole crawl, so connections are reused (a few
TLS handshakes per crawl instead of one per request).

Cookies stay in Scrapy's jar (soundscraping.middlewares.cookies): the session's own
cookie store is off, and the Cookie header Scrapy built is sent as it is.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import certifi
from curl_cffi import CurlInfo, CurlMOpt
from curl_cffi.requests import AsyncSession
from curl_cffi.requests import exceptions as curl_errors
from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

logger = logging.getLogger(__name__)

# curl decodes the body itself (the Accept-Encoding it sends is Chrome's), so
# these describe bytes Scrapy never sees.
_DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# Request headers curl's Chrome profile sets itself, in Chrome's order (and
# the proxy's credentials, which go to the proxy only).
_TRANSPORT_HEADERS = frozenset({"accept-encoding", "connection", "host", "content-length", "proxy-authorization"})


def ca_bundle(extra_ca_file: str | None) -> str | bool:
    """What curl verifies servers against: the usual bundle (certifi), or
    that bundle plus ``extra_ca_file`` (``TLS_CA_BUNDLE``: e.g. a test CA)."""
    if not extra_ca_file:
        return True
    extra = Path(extra_ca_file)
    if not extra.is_file():
        raise ValueError(f"TLS_CA_BUNDLE {extra_ca_file!r} is not a file")
    combined = tempfile.NamedTemporaryFile(prefix="soundscraping-ca-", suffix=".pem", delete=False)
    with combined:
        combined.write(Path(certifi.where()).read_bytes().rstrip(b"\n") + b"\n")
        combined.write(extra.read_bytes())
    return combined.name


class ImpersonateDownloadHandler(BaseDownloadHandler):
    """Downloads ``meta["impersonate"]`` requests with curl_cffi.

    ``meta["impersonate"]`` is a curl_cffi target (``"chrome"`` = the newest
    Chrome it knows) or True for ``IMPERSONATE_BROWSER``.  Headers the spider
    did not choose (Scrapy's default User-Agent, Accept, Accept-Language) are
    left to the browser profile, so the HTTP fingerprint stays Chrome's; a
    User-Agent set on the request (Beatport's, bound to cf_clearance) is kept.
    """

    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.default_target = settings.get("IMPERSONATE_BROWSER") or "chrome"
        self.verify = ca_bundle(settings.get("TLS_CA_BUNDLE"))
        self.max_clients = max(1, settings.getint("CONCURRENT_REQUESTS", 16))
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 180)
        self.scrapy_defaults = {
            "user-agent": str(settings.get("USER_AGENT") or ""),
            **{str(k).lower(): str(v) for k, v in settings.getdict("DEFAULT_REQUEST_HEADERS").items()},
        }
        self.sessions: dict[str, AsyncSession[Any]] = {}

    def session(self, target: str) -> AsyncSession[Any]:
        """The crawl-long session of one target: its connections are reused."""
        session = self.sessions.get(target)
        if session is None:
            session = self.sessions[target] = AsyncSession(
                impersonate=target, verify=self.verify, max_clients=self.max_clients,
                allow_redirects=False, discard_cookies=True, trust_env=False,
                curl_infos=[CurlInfo.NUM_CONNECTS])
            # libcurl's connection cache otherwise shrinks with the transfers
            # under way (4 per handle) and closes connections that a moment
            # later must be opened again: keep one per possible transfer.
            session.acurl.setopt(CurlMOpt.MAXCONNECTS, self.max_clients)
        return session

    def request_headers(self, request: Request) -> list[tuple[str, str]]:
        headers = []
        for raw_name, values in request.headers.items():
            name = raw_name.decode("latin-1")
            lower = name.lower()
            if lower in _TRANSPORT_HEADERS:
                continue
            for raw in values:
                value = raw.decode("latin-1")
                if self.scrapy_defaults.get(lower) == value:
                    continue  # Scrapy's default: the browser profile's own wins
                headers.append((name, value))
        return headers

    async def download_request(self, request: Request) -> Response:
        target = request.meta.get("impersonate")
        target = self.default_target if target is True else str(target)
        stats = self.crawler.stats
        started = time.monotonic()
        try:
            answer = await self.session(target).request(
                request.method, request.url, headers=self.request_headers(request),
                data=request.body or None, timeout=request.meta.get("download_timeout", self.timeout),
                proxy=request.meta.get("proxy"), proxy_auth=_proxy_auth(request))
        except curl_errors.RequestException as exc:
            stats.inc_value(f"soundscraping/impersonate/error/{type(exc).__name__}")
            raise _scrapy_error(exc, request) from exc
        request.meta["download_latency"] = time.monotonic() - started
        stats.inc_value("soundscraping/impersonate/requests")
        stats.inc_value("soundscraping/impersonate/connections", int(answer.infos.get(CurlInfo.NUM_CONNECTS) or 0))
        headers = Headers([(k, v) for k, v in answer.headers.multi_items()
                           if k.lower() not in _DROPPED_RESPONSE_HEADERS])
        body = answer.content
        respcls = responsetypes.from_args(headers=headers, url=answer.url, body=body)
        return respcls(url=answer.url, status=answer.status_code, headers=headers, body=body,
                       request=request, flags=["impersonate"], protocol=_protocol(answer.http_version))

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()
        if isinstance(self.verify, str):
            Path(self.verify).unlink(missing_ok=True)


def _protocol(http_version: Any) -> str | None:
    """libcurl's CURL_HTTP_VERSION_* as Scrapy's ``Response.protocol``."""
    return {1: "HTTP/1.0", 2: "HTTP/1.1", 3: "HTTP/2", 4: "HTTP/2", 5: "HTTP/2", 30: "HTTP/3"}.get(
        int(http_version or 0))


def _proxy_auth(request: Request) -> tuple[str, str] | None:
    """The credentials HttpProxyMiddleware put in Proxy-Authorization (Basic)."""
    header = request.headers.get("Proxy-Authorization")
    if not request.meta.get("proxy") or not header or not header.lower().startswith(b"basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode("latin-1").partition(":")
    except ValueError:
        return None
    return user, password


def _scrapy_error(exc: Exception, request: Request) -> Exception:
    """Scrapy's download errors (what RETRY_EXCEPTIONS lists), one line each."""
    message = f"{type(exc).__name__} on {request.url}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, curl_errors.DNSError):
        return CannotResolveHostError(message)
    if isinstance(exc, curl_errors.Timeout):
        return DownloadTimeoutError(message)
    if isinstance(exc, curl_errors.CertificateVerifyError):
        return DownloadFailedError(message + " (the server's certificate is not trusted; see TLS_CA_BUNDLE)")
    if isinstance(exc, curl_errors.SSLError | curl_errors.ConnectionError):
        return DownloadConnectionRefusedError(message)
    if isinstance(exc, curl_errors.IncompleteRead | curl_errors.ChunkedEncodingError):
        return ResponseDataLossError(message)
    return DownloadFailedError(message)
