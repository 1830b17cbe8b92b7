"""HTTPS for the replicas, judged by the TLS ClientHello as anti-bot edges do.

``TLSGate`` serves an aiohttp app over TLS with a test CA made at start-up
(``cryptography``; the CA file is what the crawler's ``TLS_CA_BUNDLE`` names).
Before each handshake it peeks at the client's first TLS record with
``MSG_PEEK`` (the bytes stay in the socket for the real handshake), parses the
ClientHello and classifies the client:

* ``chrome`` — Chrome-like: GREASE values (RFC 8701) plus extension 27
  (compress_certificate) and ALPS (17513, or 17613 in Chrome ≥ 130).  Real
  Chromium and curl_cffi's Chrome targets send all three;
* ``other`` — anything else (Python's ssl/OpenSSL, Scrapy's Twisted TLS,
  plain curl): none of them sends GREASE or ALPS.

Every accepted connection is one full handshake, counted per class
(``tls_handshakes_<class>``), so a test can tell "no browser started" and "connections
were reused".  Handlers read the class of the connection a request came on
with ``gate.client_class(request)``.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["ClientHello", "TLSGate", "TestCA", "is_grease", "parse_client_hello"]

EXT_COMPRESS_CERTIFICATE = 27
EXT_ALPS = (17513, 17613)  # application_settings: old and new codepoint


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE values: 0x0a0a, 0x1a1a, … 0xfafa."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


@dataclass
class ClientHello:
    version: int
    ciphers: list[int] = field(default_factory=list)
    extensions: list[int] = field(default_factory=list)
    alpn: list[str] = field(default_factory=list)
    server_name: str | None = None

    @property
    def grease(self) -> bool:
        return any(is_grease(v) for v in self.ciphers + self.extensions)

    @property
    def chrome_like(self) -> bool:
        exts = set(self.extensions)
        return self.grease and EXT_COMPRESS_CERTIFICATE in exts and bool(exts.intersection(EXT_ALPS))

    @property
    def client_class(self) -> str:
        return "chrome" if self.chrome_like else "other"


def parse_client_hello(data: bytes) -> ClientHello | None:
    """The ClientHello in the first TLS record of ``data``; None while the
    record is incomplete; ValueError when it is not a TLS ClientHello."""
    if len(data) < 5:
        return None
    content_type, _version, length = struct.unpack("!BHH", data[:5])
    if content_type != 0x16:
        raise ValueError("not a TLS handshake record")
    if len(data) < 5 + length:
        return None
    body = memoryview(data)[5:5 + length]
    if len(body) < 4 or body[0] != 0x01:
        raise ValueError("not a ClientHello")
    pos = 4
    try:
        version = struct.unpack_from("!H", body, pos)[0]
        pos += 2 + 32  # version, random
        pos += 1 + body[pos]  # session id
        (n,) = struct.unpack_from("!H", body, pos)
        ciphers = list(struct.unpack_from(f"!{n // 2}H", body, pos + 2))
        pos += 2 + n
        pos += 1 + body[pos]  # compression methods
        hello = ClientHello(version=version, ciphers=ciphers)
        if pos >= len(body):
            return hello
        (ext_total,) = struct.unpack_from("!H", body, pos)
        pos += 2
        end = min(len(body), pos + ext_total)
        while pos + 4 <= end:
            ext, ext_len = struct.unpack_from("!HH", body, pos)
            data_ = bytes(body[pos + 4:pos + 4 + ext_len])
            hello.extensions.append(ext)
            if ext == 16 and len(data_) >= 2:  # ALPN
                i = 2
                while i < len(data_):
                    hello.alpn.append(data_[i + 1:i + 1 + data_[i]].decode("ascii", "replace"))
                    i += 1 + data_[i]
            elif ext == 0 and len(data_) >= 5:  # server_name
                hello.server_name = data_[5:5 + struct.unpack_from("!H", data_, 3)[0]].decode("ascii", "replace")
            pos += 4 + ext_len
    except (struct.error, IndexError) as exc:
        raise ValueError(f"truncated ClientHello: {exc}") from exc
    return hello


class TestCA:
    """A throw-away CA and one server certificate for 127.0.0.1/localhost."""

    __test__ = False  # not a pytest class

    def __init__(self, hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="replica-ca-"))
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soundscraping replica test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=2))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        self.ca_file = self.dir / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(pem))
        self.cert_file = self.dir / "server.pem"
        self.cert_file.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
        self.key_file = self.dir / "server.key"
        self.key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.set_alpn_protocols(["http/1.1"])  # aiohttp speaks HTTP/1.1
        return ctx


class TLSGate:
    """Serves one aiohttp app over TLS, classifying every client by its
    ClientHello before the handshake (see module doc)."""

    def __init__(self, ca: TestCA, stats: dict[str, Any], prefix: str = "tls") -> None:
        self.ca = ca
        self.stats = stats
        self.prefix = prefix
        self._context = ca.server_context()
        self._classes: OrderedDict[Any, str] = OrderedDict()  # client address -> class
        self._tasks: set[asyncio.Task[None]] = set()

    def _incr(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def client_class(self, request: web.Request) -> str | None:
        """"chrome" or "other" for the connection of ``request``."""
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        return self._classes.get(_peer_key(peer))

    def handshakes(self, client_class: str) -> int:
        return int(self.stats.get(f"{self.prefix}_handshakes_{client_class}", 0))

    async def serve(self, sock: socket.socket, server: Any) -> None:
        """Accept loop on the bound, listening, non-blocking ``sock``;
        ``server`` is the aiohttp protocol factory (``AppRunner.server``)."""
        loop = asyncio.get_running_loop()
        while True:
            conn, addr = await loop.sock_accept(sock)
            task = asyncio.ensure_future(self._connection(conn, addr, server))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connection(self, conn: socket.socket, addr: Any, server: Any) -> None:
        loop = asyncio.get_running_loop()
        conn.setblocking(False)
        try:
            hello = await _peek_client_hello(loop, conn, timeout=10.0)
        except (OSError, ValueError, TimeoutError):
            hello = None
        if hello is None:
            self._incr(f"{self.prefix}_not_tls")
            conn.close()
            return
        key = _peer_key(addr)
        self._classes[key] = hello.client_class
        while len(self._classes) > 20_000:
            self._classes.popitem(last=False)
        self._incr(f"{self.prefix}_handshakes_{hello.client_class}")
        try:
            await loop.connect_accepted_socket(server, sock=conn, ssl=self._context, ssl_handshake_timeout=10)
        except (OSError, ssl.SSLError, TimeoutError):
            self._incr(f"{self.prefix}_handshake_failed")
            conn.close()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def https_gate(https: bool, stats: dict[str, Any]) -> tuple[TestCA | None, TLSGate | None]:
    """A replica's test CA and the gate serving its HTTPS app, or (None, None) when it speaks plain HTTP."""
    if not https:
        return None, None
    ca = TestCA()
    return ca, TLSGate(ca, stats)


def _peer_key(peer: Any) -> Any:
    return tuple(peer[:2]) if isinstance(peer, tuple | list) else peer


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _peek_client_hello(loop: asyncio.AbstractEventLoop, conn: socket.socket,
                             timeout: float) -> ClientHello | None:
    """Peek (MSG_PEEK: nothing is consumed) until the first record is whole."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = conn.recv(16_389, socket.MSG_PEEK)
        except BlockingIOError:
            data = None
        if data == b"":
            return None  # closed before saying anything
        if data:
            hello = parse_client_hello(data)
            if hello is not None:
                return hello
        if time.monotonic() >= deadline:
            raise TimeoutError("no ClientHello")
        if data:
            await asyncio.sleep(0.002)  # partial record: readable stays true while peeking
            continue
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(conn.fileno(), _settle, ready)
        try:
            await asyncio.wait_for(ready, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            pass
        finally:
            loop.remove_reader(conn.fileno())
