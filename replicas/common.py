"""Pieces every site replica shares: signed nonces and cookies for the
anti-bot challenges, ``N/SECONDS`` rate arguments, and the command-line
"print my URLs, serve until signalled" loop."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web


class Stats(dict):  # type: ignore[type-arg]
    """A replica's live counters (requests per route, ``status_<code>``, what
    each challenge saw …), read by the tests and served as JSON."""

    def incr(self, key: str, n: int = 1) -> None:
        self[key] = self.get(key, 0) + n

    def snapshot(self) -> dict[str, Any]:
        return json.loads(json.dumps(self))

    @web.middleware
    async def count_status(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """aiohttp middleware: ``status_<code>`` for every answer, errors included."""
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            self.incr(f"status_{exc.status}")
            raise
        self.incr(f"status_{resp.status}")
        return resp


class Hold:
    """One request held by the replica until the test releases it: a fault
    test acts at a known point of the crawl instead of racing the clock."""

    def __init__(self, match: Callable[[web.Request], bool]) -> None:
        self.match = match
        self.taken = False  # a request matched (later matches pass)
        self._arrived = threading.Event()
        self._released = threading.Event()
        self._answered = threading.Event()

    def wait_arrived(self, timeout: float = 120) -> None:
        if not self._arrived.wait(timeout):
            raise AssertionError("the held request never arrived")

    def arrived(self, timeout: float = 0) -> bool:
        """Whether the request is being held (waiting up to ``timeout`` s):
        for a test that must also watch the crawl end before it arrives."""
        return self._arrived.wait(timeout)

    def release(self) -> None:
        self._released.set()

    def wait_answered(self, timeout: float = 30) -> None:
        """After ``release()``: wait until the replica has handled the held
        request (its counters include it), even if its client is gone."""
        if not self._answered.wait(timeout):
            raise AssertionError("the held request was not answered")

    async def wait_released(self) -> None:
        self._arrived.set()
        while not self._released.is_set():
            await asyncio.sleep(0.01)


class Holds:
    """A replica's held requests (aiohttp middleware ``middleware``)."""

    def __init__(self) -> None:
        self._holds: list[Hold] = []
        self._lock = threading.Lock()

    def hold(self, match: Callable[[web.Request], bool]) -> Hold:
        """Hold the first request for which ``match(request)`` is true."""
        hold = Hold(match)
        with self._lock:
            self._holds.append(hold)
        return hold

    def release_all(self) -> None:
        with self._lock:
            for hold in self._holds:
                hold.release()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        with self._lock:
            hold = next((h for h in self._holds if not h.taken and h.match(request)), None)
            if hold is not None:
                hold.taken = True
        if hold is None:
            return await handler(request)
        await hold.wait_released()
        try:
            return await handler(request)
        finally:
            hold._answered.set()


class Signer:
    """HMAC signatures with a per-process secret: challenge nonces and the
    cookies a solved challenge hands out cannot be forged by a client."""

    def __init__(self) -> None:
        self._secret = os.urandom(32)

    def sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def make_nonce(self, purpose: str) -> str:
        ts, rnd = int(time.time()), secrets.token_hex(8)
        return f"{ts}.{rnd}.{self.sign(f'{purpose}|{ts}|{rnd}')[:24]}"

    def nonce_ok(self, nonce: str, purpose: str, max_age: int) -> bool:
        try:
            ts, rnd, sig = nonce.split(".")
            age = time.time() - int(ts)
        except ValueError:
            return False
        return 0 <= age <= max_age and hmac.compare_digest(sig, self.sign(f"{purpose}|{ts}|{rnd}")[:24])


def rate(text: str) -> tuple[int, float]:
    """argparse type for ``N/SECONDS`` (e.g. ``600/600``)."""
    try:
        n, _, secs = text.partition("/")
        return int(n), float(secs or 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected N/SECONDS, e.g. 600/600") from exc


def serve_until_signalled(info: dict[str, Any], stop_replica: Callable[[], None],
                          after_print: Callable[[], None] | None = None) -> int:
    """Print ``info`` as one JSON line (what replicas/process.py reads),
    then serve until SIGTERM/SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sys.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if after_print is not None:
        after_print()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        stop_replica()
    return 0
