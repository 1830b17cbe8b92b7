"""The impersonated path on its own: the ClientHello classifier the replicas
judge with, the curl_cffi download handler (Chrome's handshake, connection
reuse, TLS_CA_BUNDLE, clear errors) and the routing download handler."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from curl_cffi import requests as curl_requests
from scrapy import Request
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadFailedError
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from replicas.runner import AppThread
from replicas.tls import TestCA, TLSGate, is_grease, parse_client_hello
from soundscraping.download_handlers import RoutingDownloadHandler
from soundscraping.impersonation import ImpersonateDownloadHandler

# --- the ClientHello classifier ------------------------------------------------------------------


def captured_client_hello(client: Any) -> bytes:
    """The first bytes ``client(url)`` sends to a TCP server that never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got: list[bytes] = []

    def accept() -> None:
        conn, _ = server.accept()
        conn.settimeout(5)
        data = b""
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        got.append(data)
        conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        client(f"https://127.0.0.1:{server.getsockname()[1]}/")
    except Exception:  # noqa: BLE001 - the server hangs up after the ClientHello
        pass
    thread.join(10)
    server.close()
    return got[0]


def python_ssl_client(url: str) -> None:
    host, port = url.removeprefix("https://").rstrip("/").split(":")
    context = ssl.create_default_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        context.wrap_socket(sock, server_hostname="replica.test")


def curl_chrome_client(url: str) -> None:
    curl_requests.get(url, impersonate="chrome", timeout=5)


def test_grease_values() -> None:
    assert all(is_grease(v) for v in (0x0A0A, 0x1A1A, 0xAAAA, 0xFAFA))
    assert not any(is_grease(v) for v in (0x0A0B, 0x1301, 0x0000, 0x0B0B, 0x1A2A))


def test_curl_cffi_is_chrome_like_and_python_ssl_is_not() -> None:
    chrome = parse_client_hello(captured_client_hello(curl_chrome_client))
    assert chrome is not None and chrome.grease and chrome.chrome_like and chrome.client_class == "chrome"
    assert 27 in chrome.extensions and {17513, 17613} & set(chrome.extensions)
    assert chrome.alpn[:2] == ["h2", "http/1.1"]
    plain = parse_client_hello(captured_client_hello(python_ssl_client))
    assert plain is not None and not plain.grease and plain.client_class == "other"
    assert plain.server_name == "replica.test" and plain.alpn == ["h2", "http/1.1"]


def test_incomplete_and_foreign_bytes() -> None:
    hello = captured_client_hello(python_ssl_client)
    assert parse_client_hello(hello[:3]) is None and parse_client_hello(hello[:-1]) is None
    with pytest.raises(ValueError, match="not a TLS handshake"):
        parse_client_hello(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


# --- the curl_cffi download handler -----------------------------------------------------------------


class Server:
    def __init__(self) -> None:
        self.ca = TestCA()
        self.stats: dict[str, Any] = {}
        self.gate = TLSGate(self.ca, self.stats)
        self.seen: list[dict[str, str]] = []
        app = web.Application()
        app.router.add_get("/echo", self.echo)
        self.thread = AppThread({"app": app}, tls={"app": self.gate})
        self.url = self.thread.start()["app"]  # type: ignore[index]

    async def echo(self, request: web.Request) -> web.Response:
        self.seen.append({"class": self.gate.client_class(request) or "", **request.headers})
        body = gzip.compress(b'{"ok": true}')
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json",
                                                "Set-Cookie": "a=1; Path=/"})


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.thread.stop()


def handler(**settings: Any) -> ImpersonateDownloadHandler:
    return ImpersonateDownloadHandler(get_crawler(settings_dict={"CONCURRENT_REQUESTS": 4, **settings}))


def download(h: ImpersonateDownloadHandler, *requests: Request) -> list[Any]:
    async def run() -> list[Any]:
        try:
            return await asyncio.gather(*(h.download_request(r) for r in requests), return_exceptions=True)
        finally:
            await h.close()
    return asyncio.run(run())


def test_chrome_handshake_reused_connections_decoded_body(server: Server) -> None:
    h = handler(TLS_CA_BUNDLE=str(server.ca.ca_file), USER_AGENT="scrapy-default-ua")
    before = server.gate.handshakes("chrome")
    requests = [Request(f"{server.url}/echo?n={i}", meta={"impersonate": True},
                        headers={"User-Agent": "scrapy-default-ua", "Cookie": "datadome=v1"}) for i in range(24)]
    responses = download(h, *requests)
    assert all(isinstance(r, TextResponse) and r.status == 200 for r in responses), responses[:2]
    first = responses[0]
    assert first.json() == {"ok": True} and "Content-Encoding" not in first.headers
    assert first.headers.getlist("Set-Cookie") == [b"a=1; Path=/"] and "impersonate" in first.flags
    assert first.request is requests[0] and first.meta["download_latency"] > 0
    seen = server.seen[-24:]
    assert {s["class"] for s in seen} == {"chrome"}
    # The Cookie header Scrapy's jar built goes out as it is; Scrapy's default
    # User-Agent gives way to the browser profile's.
    assert all(s["Cookie"] == "datadome=v1" and "Chrome/" in s["User-Agent"] for s in seen)
    handshakes = server.gate.handshakes("chrome") - before
    assert 1 <= handshakes <= 4, "at most one connection per curl handle (CONCURRENT_REQUESTS=4)"
    assert h.crawler.stats.get_value("soundscraping/impersonate/connections") == handshakes
    assert h.crawler.stats.get_value("soundscraping/impersonate/requests") == 24


def test_an_explicit_user_agent_is_kept(server: Server) -> None:
    h = handler(TLS_CA_BUNDLE=str(server.ca.ca_file))
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/150.0.0.0"
    (response,) = download(h, Request(f"{server.url}/echo", headers={"User-Agent": ua}, meta={"impersonate": True}))
    assert response.status == 200 and server.seen[-1]["User-Agent"] == ua


def test_untrusted_certificate_and_refused_connection_are_clear_errors(server: Server) -> None:
    (error,) = download(handler(), Request(f"{server.url}/echo", meta={"impersonate": "chrome"}))
    assert isinstance(error, DownloadFailedError) and "TLS_CA_BUNDLE" in str(error)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    (error,) = download(handler(), Request(f"https://127.0.0.1:{port}/", meta={"impersonate": True}))
    assert isinstance(error, DownloadConnectionRefusedError) and f"127.0.0.1:{port}" in str(error)
    with pytest.raises(ValueError, match="TLS_CA_BUNDLE"):
        handler(TLS_CA_BUNDLE="/nonexistent/ca.pem")


# --- the routing download handler -------------------------------------------------------------------


class Recorder:
    """A stand-in download handler that says who it is."""

    instances: list[Recorder] = []

    def __init__(self) -> None:
        self.closed = 0
        self.name = type(self).__name__
        Recorder.instances.append(self)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Recorder:
        return cls()

    async def download_request(self, request: Request) -> str:
        return self.name

    async def close(self) -> None:
        self.closed += 1


class Browser(Recorder):
    pass


class Curl(Recorder):
    pass


def test_one_route_table_shared_by_both_schemes() -> None:
    Recorder.instances.clear()
    crawler = get_crawler(settings_dict={"DOWNLOAD_HANDLER_ROUTES": {
        "playwright": f"{__name__}.Browser", "impersonate": f"{__name__}.Curl", None: f"{__name__}.Recorder"}})
    http, https = RoutingDownloadHandler(crawler), RoutingDownloadHandler(crawler)
    assert len(Recorder.instances) == 3, "one handler per route for the crawl, not per scheme"

    async def run() -> list[str]:
        return [await http.download_request(Request("http://x/", meta={"playwright": True})),
                await https.download_request(Request("https://x/", meta={"impersonate": "chrome"})),
                await https.download_request(Request("https://x/", meta={"impersonate": True, "playwright": True})),
                await http.download_request(Request("http://x/", meta={"impersonate": False}))]
    assert asyncio.run(run()) == ["Browser", "Curl", "Browser", "Recorder"]
    asyncio.run(http.close())
    assert all(r.closed == 0 for r in Recorder.instances), "still used by the other scheme"
    asyncio.run(https.close())
    assert all(r.closed == 1 for r in Recorder.instances)
    with pytest.raises(ValueError, match="default handler"):
        RoutingDownloadHandler(get_crawler(settings_dict={"DOWNLOAD_HANDLER_ROUTES": {
            "impersonate": f"{__name__}.Curl"}}))
